package identity_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

const hospital = "general-hospital"

// salt is the tests' devices' salt, which the chain never sees.
var salt = []byte("a device's salt.")

// device authorizes device to write readings of codes, committed under salt.
func (c *chain) device(patient, device string, codes ...string) identity.SetDevice {
	return identity.SetDevice{Patient: c.addr(patient), PubKey: c.pub(device), Custodian: hospital, Codes: identity.CommitCodes(salt, codes)}
}

func (c *chain) loadDevice(name string) *identity.MonitoringDevice {
	c.t.Helper()
	d, err := identity.LoadDevice(c.st, c.addr(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return d
}

func TestSetDevice(t *testing.T) {
	c := newChain(t, identity.Genesis{}).patients("alice", "carol")
	c.ok("alice", identity.SetDelegate{Delegate: c.addr("carol"), Relation: identity.Caregiver})

	evs := c.ok("carol", c.device("alice", "meter", "8867-4", "2339-0", "8867-4"))
	d := c.loadDevice("meter")
	want := identity.CommitCodes(salt, []string{"2339-0", "8867-4"})
	slices.Sort(want)
	if d == nil || d.Patient != c.addr("alice") || d.Custodian != hospital || !slices.Equal(d.Codes, want) || d.Revoked {
		t.Fatalf("device %+v; want alice's, at %s, code commitments sorted without duplicates", d, hospital)
	}
	if !d.Allows(salt, "8867-4") || d.Allows([]byte("another salt...."), "8867-4") || d.Allows(salt, "29463-7") {
		t.Fatal("the device allows a code it was not given, or under another salt")
	}
	if *c.signsFor("meter") != c.addr("meter") {
		t.Fatal("the device's key resolves to no device account")
	}
	if evs[0].Type != identity.EventDeviceSet || evs[0].Attr("device") != c.addr("meter").String() {
		t.Fatalf("events %+v; want %s naming the device", evs, identity.EventDeviceSet)
	}
	for _, e := range evs {
		for _, a := range e.Attrs {
			if strings.Contains(a.Value, "8867") {
				t.Fatalf("event %s names the device's codes", e.Type)
			}
		}
	}

	// Changing its codes keeps one account; removing revokes it at once.
	c.ok("alice", c.device("alice", "meter", "29463-7"))
	if d := c.loadDevice("meter"); !slices.Equal(d.Codes, identity.CommitCodes(salt, []string{"29463-7"})) || !d.Allows(salt, "29463-7") || d.Allows(salt, "8867-4") {
		t.Fatalf("device after change %+v; want only 29463-7", d)
	}
	evs = c.ok("alice", identity.SetDevice{Patient: c.addr("alice"), PubKey: c.pub("meter"), Remove: true})
	if d := c.loadDevice("meter"); !d.Revoked || d.Allows(salt, "29463-7") {
		t.Fatalf("removed device %+v; want revoked, allowing nothing", d)
	}
	if evs[0].Type != identity.EventDeviceRemoved {
		t.Fatalf("events %+v; want %s", evs, identity.EventDeviceRemoved)
	}
	acct, err := identity.LoadAccount(c.st, c.addr("meter"))
	if err != nil || !acct.Suspended {
		t.Fatalf("removed device's account %+v, %v; want suspended", acct, err)
	}
	c.ok("alice", c.device("alice", "meter", "8867-4"))
	if acct, _ := identity.LoadAccount(c.st, c.addr("meter")); acct.Suspended || !c.loadDevice("meter").Allows(salt, "8867-4") {
		t.Fatal("a device authorized again is not active")
	}
}

func TestSetDeviceRejections(t *testing.T) {
	c := newChain(t, identity.Genesis{}).patients("alice", "bob")
	c.ok("admin", identity.RegisterMember{Org: hospital, PubKey: c.pub("dr"), Roles: []identity.Role{identity.Physician}})
	c.ok("alice", c.device("alice", "meter", "8867-4"))
	remove := func(patient, device string) identity.SetDevice {
		return identity.SetDevice{Patient: c.addr(patient), PubKey: c.pub(device), Remove: true}
	}
	tooMany := make([]string, identity.MaxDeviceCodes+1)
	for i := range tooMany {
		tooMany[i] = strings.Repeat("1", i%7+1) + "-1"
	}
	unknownOrg := c.device("alice", "scale", "29463-7")
	unknownOrg.Custodian = "no-such-org"
	removeWithCodes := remove("alice", "meter")
	removeWithCodes.Codes = identity.CommitCodes(salt, []string{"8867-4"})
	raw := c.device("alice", "scale")
	raw.Codes = []string{"8867-4"}
	for _, tc := range []struct {
		name   string
		signer string
		msg    identity.SetDevice
		want   tx.Code
	}{
		{"another patient's device", "bob", c.device("alice", "scale", "29463-7"), tx.CodeUnauthorized},
		{"a physician authorizing", "dr", c.device("alice", "scale", "29463-7"), tx.CodeUnauthorized},
		{"the device itself", "meter", c.device("alice", "scale", "29463-7"), tx.CodeUnauthorized},
		{"no codes", "alice", c.device("alice", "scale"), tx.CodeInvalid},
		{"too many codes", "alice", c.device("alice", "scale", tooMany...), tx.CodeMalformed},
		{"a code, not its commitment", "alice", raw, tx.CodeInvalid},
		{"an unknown custodian", "alice", unknownOrg, tx.CodeNotFound},
		{"a patient's own key", "alice", c.device("alice", "alice", "29463-7"), tx.CodeKeyInUse},
		{"a member's key", "alice", c.device("alice", "dr", "29463-7"), tx.CodeKeyInUse},
		{"another patient's device key", "bob", c.device("bob", "meter", "8867-4"), tx.CodeKeyInUse},
		{"removing another's device", "bob", remove("bob", "meter"), tx.CodeKeyInUse},
		{"removing an unknown device", "alice", remove("alice", "scale"), tx.CodeNotFound},
		{"a removal with codes", "alice", removeWithCodes, tx.CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) { c.fails(tc.signer, tc.msg, tc.want) })
	}
	c.ok("alice", remove("alice", "meter"))
	c.fails("alice", remove("alice", "meter"), tx.CodeNotFound)

	// A device is never a delegate nor a guardian.
	c.ok("alice", c.device("alice", "meter", "8867-4"))
	c.fails("alice", identity.SetDelegate{Delegate: c.addr("meter"), Relation: identity.Caregiver}, tx.CodeInvalid)
	c.fails("alice", identity.SetGuardians{Guardians: []tx.Address{c.addr("meter")}, Threshold: 1, Delay: 30 * day}, tx.CodeInvalid)
	c.fails("meter", identity.SetDelegate{Delegate: c.addr("bob"), Relation: identity.Caregiver}, tx.CodeUnauthorized)
	c.fails("meter", identity.SetGuardians{Guardians: []tx.Address{c.addr("bob")}, Threshold: 1, Delay: 30 * day}, tx.CodeUnauthorized)
}
