package governance_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

// refusingPolicy accepts every policy when checked and refuses it, after a
// write, when set: a failure that the check before execution does not
// foresee.
type refusingPolicy struct{}

func (refusingPolicy) CheckPolicy(*contract.Context, string, uint64) error { return nil }
func (refusingPolicy) SetPolicy(ctx *contract.Context, _ string, _ uint64) error {
	ctx.Store.Set([]byte("c/policy"), []byte("half-set"))
	return tx.Rejectf(tx.CodeInvalid, "policy refused")
}

// A passed proposal whose execution is refused ends failed with the
// reason; its vote counts, and nothing it began to change is kept.
func TestExecutionRefused(t *testing.T) {
	s := mapStore{}
	admin := key(9)
	ctx := &contract.Context{Height: 1, Store: s}
	if err := identity.InitGenesis(ctx, identity.Genesis{Organizations: []identity.GenesisOrg{{
		ID: "general-hospital", Name: "General Hospital", Type: identity.Provider, ValidatorKey: key(1), Power: 10, Admins: []tx.PubKey{admin},
	}}}); err != nil {
		t.Fatal(err)
	}
	before := maps.Clone(s)

	ctx = &contract.Context{Height: 2, Store: s, Signer: tx.AddressOf(admin), SignerKey: admin}
	c := (&governance.Contract{Policy: refusingPolicy{}}).Describe()
	m := contract.Encode(governance.Propose{Kind: governance.SetParams, Deadline: 10, Params: governance.Params{DefaultPolicy: "true"}})
	if err := c.Execute(ctx, m); err != nil { // the sole validator's proposal passes at once
		t.Fatalf("Handle(propose) = %v; want nil", err)
	}
	p, err := governance.LoadProposal(s, 1)
	if err != nil || p == nil || p.Status != governance.Failed {
		t.Fatalf("proposal 1 = %+v, %v; want failed", p, err)
	}
	var types []string
	var reason string
	for _, e := range ctx.Events() {
		types = append(types, e.Type)
		for _, a := range e.Attrs {
			if a.Key == "reason" {
				reason = a.Value
			}
		}
	}
	if want := []string{"governance.proposed", "governance.voted", "governance.failed"}; !slices.Equal(types, want) || reason != "policy refused" {
		t.Errorf("events %v, reason %q; want %v with the reason", types, reason, want)
	}
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if string(before[k]) != string(s[k]) {
			changed = append(changed, k)
		}
	}
	if len(changed) != 2 || changed[0][:2] != "y/" || changed[1][:2] != "y/" {
		t.Errorf("keys changed: %q; want the proposal and its counter only", changed)
	}
}
