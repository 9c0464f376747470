package supply

import (
	"fmt"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// Recall at scale: one lot of recallItems items spread over recallHolders
// organizations, in a real state store (LevelDB in memory, the bucketed
// Merkle tree). Run with
//
//	go test ./contract/supply -run XXX -bench BenchmarkRecall -benchtime 5x
const (
	recallItems   = 1_000_000
	recallHolders = 1_000
	recallGTIN    = "09521234543213"
	recallLot     = "LOT-1M"
)

// BenchmarkRecall measures, beside a baseline in the same run:
//   - contract: the recall message, which lists every holder of the lot
//     (from the lot's holder set: its cost follows the holders, not the items);
//   - units: every unit of the lot with its holder, by iterating the lot's one
//     prefix, whose values are the holders (what a recall report lists);
//   - baseline: iterating the same prefix's keys and nothing else.
func BenchmarkRecall(b *testing.B) {
	s := recallState(b)
	defer s.Close()
	v := s.Committed()
	admin := tx.AddressOf(adminKey(1))

	b.Run("contract", func(b *testing.B) {
		for b.Loop() {
			ctx := &contract.Context{Height: 3, Time: time.Unix(1, 0), Store: state.NewOverlay(v), Signer: admin}
			if err := recall(ctx, Recall{GTIN: recallGTIN, Lot: recallLot}); err != nil {
				b.Fatal(err)
			}
			if n := len(ctx.Events()); n != recallHolders+1 {
				b.Fatalf("%d events; want one per holder and the recall", n)
			}
		}
		b.ReportMetric(recallHolders, "holders/op")
	})
	b.Run("units", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := LotUnits(v, recallGTIN, recallLot, func(_, holder string) bool {
				if holder != "" {
					n++
				}
				return true
			}); err != nil {
				b.Fatal(err)
			}
			if n < recallItems {
				b.Fatalf("listed %d units; want %d", n, recallItems)
			}
		}
		b.ReportMetric(recallItems, "units/op")
	})
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := v.Iterate(LotPrefix(recallGTIN, recallLot), func(_, _ []byte) bool { n++; return true }); err != nil {
				b.Fatal(err)
			}
			if n != recallItems {
				b.Fatalf("iterated %d keys; want %d", n, recallItems)
			}
		}
		b.ReportMetric(recallItems, "keys/op")
	})
}

func adminKey(b byte) tx.PubKey {
	k := make(tx.PubKey, tx.PubKeySize)
	for i := range k {
		k[i] = b
	}
	return k
}

// recallState builds the lot: its brand owner and product, the items (item
// and lot index keys), and the holder set, committed in chunks.
func recallState(b *testing.B) *state.Store {
	b.Helper()
	s := state.OpenMemory()
	o := state.NewOverlay(s.Working())
	ctx := &contract.Context{Height: 1, Store: o}
	g := identity.Genesis{Organizations: []identity.GenesisOrg{{ID: "acme-pharma", Name: "Acme", Type: identity.Pharma, Admins: []tx.PubKey{adminKey(1)}}}}
	if err := identity.InitGenesis(ctx, g); err != nil {
		b.Fatal(err)
	}
	must(b, saveProduct(o, &Product{GTIN: recallGTIN, Owner: "acme-pharma", Height: 1}))
	holders := make([]int64, recallHolders)
	for i := range recallItems {
		serial := fmt.Sprintf("%08d", i)
		holder := fmt.Sprintf("holder-%04d", i%recallHolders)
		holders[i%recallHolders]++
		it := &Item{EPC: SGTIN(recallGTIN, serial), Status: Received, Holder: holder, Lot: recallLot, Expiry: 20271231, Since: 1}
		must(b, saveItem(o, it))
		must(b, setLotHolder(o, recallGTIN, recallLot, serial, holder))
		if (i+1)%100_000 == 0 {
			commit(b, s, o)
			o = state.NewOverlay(s.Working())
		}
	}
	for i, n := range holders {
		must(b, moveHolding(o, recallGTIN, recallLot, fmt.Sprintf("holder-%04d", i), tx.Address{byte(i)}, n))
	}
	commit(b, s, o)
	return s
}

func commit(b *testing.B, s *state.Store, o *state.Overlay) {
	b.Helper()
	if _, err := s.Apply(o); err != nil {
		b.Fatal(err)
	}
	if _, _, err := s.Commit(); err != nil {
		b.Fatal(err)
	}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
