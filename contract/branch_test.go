package contract_test

import (
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/contracttest"
)

type mapStore = contracttest.Store

// A branch reads its own writes over its parent's; its writes and events
// reach the parent on Commit only, after the parent's own events.
func TestBranch(t *testing.T) {
	s := mapStore{"kept": []byte("1"), "gone": []byte("2")}
	ctx := &contract.Context{Store: s}
	ctx.Emit(contract.Event{Type: "before"})

	b := ctx.Branch()
	b.Store.Set([]byte("new"), []byte("3"))
	b.Store.Set([]byte("empty"), nil)
	b.Store.Delete([]byte("gone"))
	b.Emit(contract.Event{Type: "inside"})
	if v, _ := b.Store.Get([]byte("gone")); v != nil {
		t.Errorf("branch reads a deleted key as %q", v)
	}
	if v, _ := b.Store.Get([]byte("kept")); string(v) != "1" {
		t.Errorf("branch reads its parent's key as %q", v)
	}
	if len(s) != 2 || s["new"] != nil || len(ctx.Events()) != 1 {
		t.Fatalf("parent changed before Commit: %v, %d events", s, len(ctx.Events()))
	}

	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if string(s["new"]) != "3" || s["empty"] == nil || len(s["empty"]) != 0 || s["gone"] != nil || string(s["kept"]) != "1" {
		t.Errorf("parent after Commit: %q", s)
	}
	if ev := ctx.Events(); len(ev) != 2 || ev[0].Type != "before" || ev[1].Type != "inside" {
		t.Errorf("parent's events after Commit: %+v", ev)
	}
}
