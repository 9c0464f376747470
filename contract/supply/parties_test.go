package supply_test

import (
	"testing"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

var (
	glnMaker   = withCheck("061414100000") // maker's party GLN
	glnMakerDC = withCheck("061414100001") // a location of maker
	glnRival   = withCheck("095212300000")
)

// TestPartyDirectory: an organization claims its GLNs; another cannot
// claim them (already_exists) until the owner releases them; only the
// owner's admins release; the directory answers from state.
func TestPartyDirectory(t *testing.T) {
	ch := newChain(t)
	owner := func(gln string) string {
		t.Helper()
		org, err := supply.PartyOwner(ch.s, gln)
		if err != nil {
			t.Fatal(err)
		}
		return org
	}
	ch.must(maker, supply.ClaimParties{Org: maker, GLNs: []string{glnMaker, glnMakerDC}})
	if got := ch.eventsOf(supply.EventPartyClaimed); len(got) != 2 || got[0].Attr("gln") != glnMaker || got[0].Attr("org") != maker {
		t.Errorf("claim events %+v; want one per GLN naming %s", got, maker)
	}
	if owner(glnMaker) != maker || owner(glnRival) != "" {
		t.Errorf("PartyOwner = %q, %q; want %q and none", owner(glnMaker), owner(glnRival), maker)
	}
	ch.must(maker, supply.ClaimParties{Org: maker, GLNs: []string{glnMaker}}) // again: nothing changes
	if len(ch.events) != 0 {
		t.Errorf("claiming an owned GLN again emitted %+v; want nothing", ch.events)
	}
	for _, c := range []struct {
		name   string
		signer string
		msg    interface{ Type() uint64 }
		want   tx.Code
	}{
		{"a rival claims maker's GLN", rival, supply.ClaimParties{Org: rival, GLNs: []string{glnRival, glnMaker}}, tx.CodeAlreadyExists},
		{"a rival claims for maker", rival, supply.ClaimParties{Org: maker, GLNs: []string{glnRival}}, tx.CodeWrongOrganization},
		{"a rival releases maker's GLN", rival, supply.ReleaseParties{Org: rival, GLNs: []string{glnMaker}}, tx.CodeNotFound},
		{"a rival releases for maker", rival, supply.ReleaseParties{Org: maker, GLNs: []string{glnMaker}}, tx.CodeWrongOrganization},
		{"maker releases a GLN it does not own", maker, supply.ReleaseParties{Org: maker, GLNs: []string{glnMakerDC, glnRival}}, tx.CodeNotFound},
	} {
		var code tx.Code
		switch m := c.msg.(type) {
		case supply.ClaimParties:
			code = ch.exec(c.signer, m)
		case supply.ReleaseParties:
			code = ch.exec(c.signer, m)
		}
		if code != c.want {
			t.Errorf("%s: code %v; want %v", c.name, code, c.want)
		}
	}
	if owner(glnRival) != "" || owner(glnMakerDC) != maker {
		t.Errorf("a refused message changed the directory: %q, %q", owner(glnRival), owner(glnMakerDC))
	}
	ch.must(maker, supply.ReleaseParties{Org: maker, GLNs: []string{glnMakerDC}})
	if owner(glnMakerDC) != "" || len(ch.eventsOf(supply.EventPartyReleased)) != 1 {
		t.Errorf("after the release, %s belongs to %q", glnMakerDC, owner(glnMakerDC))
	}
	ch.must(rival, supply.ClaimParties{Org: rival, GLNs: []string{glnMakerDC}})
	if owner(glnMakerDC) != rival {
		t.Errorf("a released GLN claimed by rival belongs to %q", owner(glnMakerDC))
	}
}
