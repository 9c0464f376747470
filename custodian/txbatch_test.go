package custodian

import (
	"slices"
	"testing"

	"github.com/careledger/careledger/tx"
)

// TestPackTxs checks where packTxs cuts: at tx.MaxMessages messages, at
// txBudget bytes, never inside a unit, and a unit too large alone on its
// own.
func TestPackTxs(t *testing.T) {
	type unit struct{ msgs, bytes int }
	ones := func(n, bytes int) []unit {
		u := make([]unit, n)
		for i := range u {
			u[i] = unit{1, bytes}
		}
		return u
	}
	for _, tt := range []struct {
		name  string
		units []unit
		want  []int // units per transaction
	}{
		{"none", nil, nil},
		{"64 messages fit one", ones(tx.MaxMessages, 100), []int{64}},
		{"65 messages", ones(tx.MaxMessages+1, 100), []int{64, 1}},
		{"140 messages", ones(140, 100), []int{64, 64, 12}},
		{"by bytes", ones(10, txBudget/4), []int{4, 4, 2}},
		{"units stay whole", []unit{{40, 10}, {30, 10}, {24, 10}, {1, 10}}, []int{1, 3}},
		{"a unit too large alone", []unit{{1, 10}, {70, 10}, {1, 10}}, []int{1, 1, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			txs := packTxs(tt.units, func(u unit) (int, int) { return u.msgs, u.bytes })
			var got []int
			var flat []unit
			for _, x := range txs {
				got = append(got, len(x))
				flat = append(flat, x...)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(flat, tt.units) {
				t.Errorf("packTxs(%v) = %v; want sizes %v, units in order", tt.units, txs, tt.want)
			}
		})
	}
}
