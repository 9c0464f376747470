package api

import (
	"testing"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/tx"
)

// TestNotifyAccountReachesOnlyTheOwnersStreams: a private notice (an
// invitation to a trial) goes to the streams whose bearer token is the
// account's, never to a stream of every event or one filtered on the
// account by someone else.
func TestNotifyAccountReachesOnlyTheOwnersStreams(t *testing.T) {
	h := NewHub(StreamOptions{})
	h.opts.EnsureDefaults()
	alice, auditor := tx.Address{1}, tx.Address{2}
	own, err := h.subscribe("account alice", alice, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := h.subscribe("account auditor", auditor, nil, nil)
	filtered, _ := h.subscribe("account auditor 2", auditor, &alice, nil)
	h.NotifyAccount(alice, v1.StreamEvent{Type: "trials.invitation", Accounts: []tx.Address{alice}})
	h.Notify(v1.StreamEvent{Type: "audit.accounting_compiled", Accounts: []tx.Address{alice}})
	for _, tc := range []struct {
		name string
		s    *stream
		want int
	}{{"alice's own stream", own, 2}, {"a stream of every event", all, 1}, {"a stream filtered on alice", filtered, 1}} {
		if got := len(tc.s.queue); got != tc.want {
			t.Errorf("%s: %d notices queued; want %d (the private one only on alice's own)", tc.name, got, tc.want)
		}
	}
}
