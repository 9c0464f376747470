package app_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/apptest"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// recorder keeps the blocks an App commits.
type recorder struct{ blocks []*app.Block }

func (r *recorder) BlockCommitted(b *app.Block) { r.blocks = append(r.blocks, b) }

// last returns the only transaction result of the last committed block.
func (r *recorder) last(t testing.TB) app.TxResult {
	t.Helper()
	if len(r.blocks) == 0 || len(r.blocks[len(r.blocks)-1].Txs) != 1 {
		t.Fatalf("recorder holds %d blocks; want a last block with one transaction", len(r.blocks))
	}
	return r.blocks[len(r.blocks)-1].Txs[0]
}

// newRecordedChain returns a chain after genesis and an empty first block,
// and the recorder of its later blocks. (Genesis accounts reach committed
// state, which CheckTx and State read, only with the first block.)
func newRecordedChain(t testing.TB) (*app.App, *recorder) {
	t.Helper()
	a := apptest.NewChain(t)
	apptest.Deliver(t, a)
	r := &recorder{}
	a.Listen(r)
	return a, r
}

// deliverOne delivers raw alone in a block and requires it to succeed.
func deliverOne(t testing.TB, a *app.App, what string, raw []byte) *abci.ExecTxResult {
	t.Helper()
	if got := apptest.CheckTx(t, a, raw); got != tx.CodeOK {
		t.Fatalf("CheckTx(%s) = %v; want ok", what, got)
	}
	res := apptest.Deliver(t, a, raw)
	apptest.RequireOK(t, what, res)
	return res[0]
}

// checkEvents requires the contract events of a result and their ABCI form,
// in which each concerned account is an "account" attribute.
func checkEvents(t testing.TB, what string, got app.TxResult, res *abci.ExecTxResult, want []contract.Event) {
	t.Helper()
	if !reflect.DeepEqual(got.Events, want) {
		t.Errorf("%s events = %+v; want %+v", what, got.Events, want)
	}
	var wantABCI []abci.Event
	for _, e := range want {
		ev := abci.Event{Type: e.Type}
		for _, at := range e.Attrs {
			ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: at.Key, Value: at.Value})
		}
		for _, a := range e.Accounts {
			ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: "account", Value: a.String()})
		}
		wantABCI = append(wantABCI, ev)
	}
	if !reflect.DeepEqual(res.Events, wantABCI) {
		t.Errorf("%s ABCI events = %v; want %v", what, res.Events, wantABCI)
	}
	checkPseudonymous(t, what, res.Events)
}

// checkPseudonymous requires every event attribute to be an account
// address, an organization ID or a role: nothing that could identify a
// person, and no public key.
func checkPseudonymous(t testing.TB, what string, events []abci.Event) {
	t.Helper()
	for _, e := range events {
		for _, at := range e.Attributes {
			var ok bool
			switch at.Key {
			case "patient", "member", "by", "account":
				_, err := tx.ParseAddress(at.Value)
				ok = err == nil
			case "org":
				ok = identity.ValidateOrgID(at.Value) == nil
			case "role":
				_, err := identity.ParseRole(at.Value)
				ok = err == nil
			}
			if !ok {
				t.Errorf("%s event %s attribute %s=%q; want an address, organization ID or role", what, e.Type, at.Key, at.Value)
			}
		}
	}
}

// loadAccount returns the committed account at addr, failing if none.
func loadAccount(t testing.TB, a *app.App, addr tx.Address) *identity.Account {
	t.Helper()
	acct, err := identity.LoadAccount(a.State(), addr)
	if err != nil || acct == nil {
		t.Fatalf("LoadAccount(%s) = %v, %v; want an account", addr, acct, err)
	}
	return acct
}

// resolve returns the address of the account whose key is pub, or the zero
// address.
func resolve(t testing.TB, a *app.App, pub []byte) tx.Address {
	t.Helper()
	acct, err := identity.Resolve(a.State(), pub)
	if err != nil {
		t.Fatalf("Resolve(%x) = %v", pub, err)
	}
	if acct == nil {
		return tx.Address{}
	}
	return acct.Address
}

func TestRegisterPatient(t *testing.T) {
	a, rec := newRecordedChain(t)
	p := apptest.Key("patient")
	addr := apptest.Addr(p)
	res := deliverOne(t, a, "register patient", apptest.SignTx(t, apptest.ChainID, p, 0, contract.Encode(identity.RegisterPatient{})))
	h := apptest.Height(t, a)

	got := rec.last(t)
	if got.Signer != addr || got.Sequence != 0 || !slices.Equal(got.Msgs, []string{"identity/register_patient"}) {
		t.Errorf("register patient result = signer %s, sequence %d, messages %v; want %s, 0, [identity/register_patient]",
			got.Signer, got.Sequence, got.Msgs, addr)
	}
	checkEvents(t, "register patient", got, res, []contract.Event{{
		Type:     "identity.patient_registered",
		Attrs:    []contract.Attr{{Key: "patient", Value: addr.String()}},
		Accounts: []tx.Address{addr},
	}})
	if accts := got.Accounts(); !slices.Equal(accts, []tx.Address{addr}) {
		t.Errorf("Accounts() = %v; want [%s]", accts, addr)
	}

	want := &identity.Account{Address: addr, PubKey: apptest.Pub(p), Kind: identity.Patient, Since: h, Sequence: 1}
	if acct := loadAccount(t, a, addr); !reflect.DeepEqual(acct, want) {
		t.Errorf("LoadAccount(patient) = %+v; want %+v", acct, want)
	}
	if got := resolve(t, a, apptest.Pub(p)); got != addr {
		t.Errorf("Resolve(patient key) = %s; want %s", got, addr)
	}
	if got := apptest.Sequence(t, a, addr); got != 1 {
		t.Errorf("Sequence(patient) = %d; want 1", got)
	}
}

func TestRegisterMember(t *testing.T) {
	a, rec := newRecordedChain(t)
	admin, doc := apptest.Key("admin-a"), apptest.Key("physician")
	res := deliverOne(t, a, "register member", apptest.SignTx(t, apptest.ChainID, admin, 0, contract.Encode(identity.RegisterMember{
		Org: apptest.OrgA, PubKey: apptest.Pub(doc), Roles: []identity.Role{identity.Physician, identity.Auditor, identity.Physician},
	})))
	h := apptest.Height(t, a)

	// Roles are stored sorted and without duplicates.
	roles := []identity.Role{identity.Auditor, identity.Physician}
	checkEvents(t, "register member", rec.last(t), res, []contract.Event{{
		Type: "identity.member_registered",
		Attrs: []contract.Attr{
			{Key: "org", Value: apptest.OrgA}, {Key: "member", Value: apptest.Addr(doc).String()}, {Key: "by", Value: apptest.Addr(admin).String()},
			{Key: "role", Value: "auditor"}, {Key: "role", Value: "physician"},
		},
		Accounts: []tx.Address{apptest.Addr(doc), apptest.Addr(admin)},
	}})
	want := &identity.Account{Address: apptest.Addr(doc), PubKey: apptest.Pub(doc), Kind: identity.Member, Org: apptest.OrgA, Roles: roles, Since: h}
	if acct := loadAccount(t, a, apptest.Addr(doc)); !reflect.DeepEqual(acct, want) {
		t.Errorf("LoadAccount(member) = %+v; want %+v", acct, want)
	}
	members, err := identity.Members(a.State(), apptest.OrgA)
	if err != nil {
		t.Fatalf("Members(%s) = %v", apptest.OrgA, err)
	}
	var addrs []tx.Address
	for _, m := range members {
		addrs = append(addrs, m.Address)
	}
	wantAddrs := []tx.Address{apptest.Addr(admin), apptest.Addr(apptest.Key("admin-a2")), apptest.Addr(doc)}
	slices.SortFunc(wantAddrs, func(x, y tx.Address) int { return strings.Compare(x.String(), y.String()) })
	if !slices.Equal(addrs, wantAddrs) {
		t.Errorf("Members(%s) = %v; want %v", apptest.OrgA, addrs, wantAddrs)
	}
	// The new member signs from sequence 0; the admin continues at 1.
	if got := apptest.Sequence(t, a, apptest.Addr(admin)); got != 1 {
		t.Errorf("Sequence(admin) = %d; want 1", got)
	}
	deliverOne(t, a, "member rotates", apptest.SignTx(t, apptest.ChainID, doc, 0, apptest.Rotation(t, apptest.Addr(doc), apptest.Key("physician-2"), apptest.Key("physician-2"))))

	// A member made admin administers the organization.
	boss, nurse := apptest.Key("boss"), apptest.Key("nurse")
	deliverOne(t, a, "register admin", apptest.SignTx(t, apptest.ChainID, admin, 1, contract.Encode(identity.RegisterMember{
		Org: apptest.OrgA, PubKey: apptest.Pub(boss), Roles: []identity.Role{identity.Admin}})))
	deliverOne(t, a, "new admin registers", apptest.SignTx(t, apptest.ChainID, boss, 0, contract.Encode(identity.RegisterMember{
		Org: apptest.OrgA, PubKey: apptest.Pub(nurse), Roles: []identity.Role{identity.Nurse}})))
	if acct := loadAccount(t, a, apptest.Addr(nurse)); acct.Org != apptest.OrgA || !acct.HasRole(identity.Nurse) {
		t.Errorf("LoadAccount(nurse) = %+v; want a nurse of %s", acct, apptest.OrgA)
	}
}

func TestSetMemberRoles(t *testing.T) {
	admin, doc := apptest.Key("admin-a"), apptest.Key("physician")
	for _, tc := range []struct {
		name   string
		member ed25519.PrivKey
		roles  []identity.Role
		want   []identity.Role
	}{
		{"replace", doc, []identity.Role{identity.Researcher}, []identity.Role{identity.Researcher}},
		{"sort and deduplicate", doc, []identity.Role{identity.Physician, identity.Admin, identity.Physician},
			[]identity.Role{identity.Admin, identity.Physician}},
		{"admin keeps own admin role", admin, []identity.Role{identity.PrivacyOfficer, identity.Admin},
			[]identity.Role{identity.Admin, identity.PrivacyOfficer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, rec := newRecordedChain(t)
			deliverOne(t, a, "register member", apptest.SignTx(t, apptest.ChainID, admin, 0, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgA, PubKey: apptest.Pub(doc), Roles: []identity.Role{identity.Physician}})))
			m := apptest.Addr(tc.member)
			res := deliverOne(t, a, "set roles", apptest.SignTx(t, apptest.ChainID, admin, 1, contract.Encode(identity.SetMemberRoles{Member: m, Roles: tc.roles})))

			attrs := []contract.Attr{{Key: "org", Value: apptest.OrgA}, {Key: "member", Value: m.String()}, {Key: "by", Value: apptest.Addr(admin).String()}}
			for _, r := range tc.want {
				attrs = append(attrs, contract.Attr{Key: "role", Value: string(r)})
			}
			checkEvents(t, "set roles", rec.last(t), res, []contract.Event{{
				Type: "identity.member_roles_set", Attrs: attrs, Accounts: []tx.Address{m, apptest.Addr(admin)},
			}})
			if acct := loadAccount(t, a, m); !slices.Equal(acct.Roles, tc.want) {
				t.Errorf("SetMemberRoles(%v) stored roles %v; want %v", tc.roles, acct.Roles, tc.want)
			}
		})
	}
}

func TestSetMemberStatus(t *testing.T) {
	a, rec := newRecordedChain(t)
	admin, doc := apptest.Key("admin-a"), apptest.Key("physician")
	deliverOne(t, a, "register member", apptest.SignTx(t, apptest.ChainID, admin, 0, contract.Encode(identity.RegisterMember{
		Org: apptest.OrgA, PubKey: apptest.Pub(doc), Roles: []identity.Role{identity.Admin, identity.Physician}})))
	// doc acts once, so that the suspension has a sequence to hold.
	deliverOne(t, a, "member acts", apptest.SignTx(t, apptest.ChainID, doc, 0, contract.Encode(identity.RegisterMember{
		Org: apptest.OrgA, PubKey: apptest.Pub(apptest.Key("nurse")), Roles: []identity.Role{identity.Nurse}})))

	event := func(typ string) []contract.Event {
		return []contract.Event{{Type: typ, Attrs: []contract.Attr{
			{Key: "org", Value: apptest.OrgA}, {Key: "member", Value: apptest.Addr(doc).String()}, {Key: "by", Value: apptest.Addr(admin).String()},
			{Key: "role", Value: "admin"}, {Key: "role", Value: "physician"},
		}, Accounts: []tx.Address{apptest.Addr(doc), apptest.Addr(admin)}}}
	}
	res := deliverOne(t, a, "suspend", apptest.SignTx(t, apptest.ChainID, admin, 1, contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(doc), Suspended: true})))
	checkEvents(t, "suspend", rec.last(t), res, event("identity.member_suspended"))
	if acct := loadAccount(t, a, apptest.Addr(doc)); !acct.Suspended {
		t.Errorf("LoadAccount(member) after suspension = %+v; want suspended", acct)
	}

	// A suspended member is refused at CheckTx and in blocks, even as an
	// admin, and the refusal consumes no sequence.
	act := apptest.SignTx(t, apptest.ChainID, doc, 1, contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(admin), Suspended: true}))
	if got := apptest.CheckTx(t, a, act); got != tx.CodeSuspended {
		t.Errorf("CheckTx(suspended member) = %v; want %v", got, tx.CodeSuspended)
	}
	if got := tx.Code(apptest.Deliver(t, a, act)[0].Code); got != tx.CodeSuspended {
		t.Errorf("FinalizeBlock(suspended member) code = %v; want %v", got, tx.CodeSuspended)
	}
	if got := apptest.Sequence(t, a, apptest.Addr(doc)); got != 1 {
		t.Errorf("Sequence(suspended member) = %d; want 1", got)
	}

	res = deliverOne(t, a, "reinstate", apptest.SignTx(t, apptest.ChainID, admin, 2, contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(doc)})))
	checkEvents(t, "reinstate", rec.last(t), res, event("identity.member_reinstated"))
	if acct := loadAccount(t, a, apptest.Addr(doc)); acct.Suspended {
		t.Errorf("LoadAccount(member) after reinstatement = %+v; want not suspended", acct)
	}
	// The reinstated member acts again with the sequence it held.
	deliverOne(t, a, "reinstated member acts", apptest.SignTx(t, apptest.ChainID, doc, 1, contract.Encode(identity.SetMemberRoles{
		Member: apptest.Addr(apptest.Key("nurse")), Roles: []identity.Role{identity.Nurse, identity.Pharmacist}})))

	// An admin may not suspend themselves; the attempt consumes a sequence.
	self := apptest.SignTx(t, apptest.ChainID, admin, 3, contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(admin), Suspended: true}))
	if got := tx.Code(apptest.Deliver(t, a, self)[0].Code); got != tx.CodeInvalid {
		t.Errorf("FinalizeBlock(admin suspends self) code = %v; want %v", got, tx.CodeInvalid)
	}
	if acct := loadAccount(t, a, apptest.Addr(admin)); acct.Suspended {
		t.Errorf("LoadAccount(admin) after suspending self = %+v; want not suspended", acct)
	}
}

func TestRotateKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  ed25519.PrivKey
		seq  uint64 // the account's next sequence before rotating
		// then is a message the account sends with its new key afterwards.
		then tx.Msg
	}{
		{"patient", apptest.Key("patient"), 1, apptest.Rotation(t, apptest.Addr(apptest.Key("patient")), apptest.Key("third"), apptest.Key("third"))},
		{"admin", apptest.Key("admin-a"), 0, contract.Encode(identity.RegisterMember{
			Org: apptest.OrgA, PubKey: apptest.Pub(apptest.Key("nurse")), Roles: []identity.Role{identity.Nurse}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, rec := newRecordedChain(t)
			acct := apptest.Addr(tc.old)
			if tc.seq == 1 {
				deliverOne(t, a, "register patient", apptest.SignTx(t, apptest.ChainID, tc.old, 0, contract.Encode(identity.RegisterPatient{})))
			}
			before := loadAccount(t, a, acct)
			newKey := apptest.Key(tc.name + "-new")

			res := deliverOne(t, a, "rotate", apptest.SignTx(t, apptest.ChainID, tc.old, tc.seq, apptest.Rotation(t, acct, newKey, newKey)))
			checkEvents(t, "rotate", rec.last(t), res, []contract.Event{{
				Type:     "identity.key_rotated",
				Attrs:    []contract.Attr{{Key: "account", Value: acct.String()}},
				Accounts: []tx.Address{acct},
			}})
			want := *before
			want.PubKey = apptest.Pub(newKey)
			want.Sequence = tc.seq + 1
			if got := loadAccount(t, a, acct); !reflect.DeepEqual(got, &want) {
				t.Errorf("LoadAccount after apptest.Rotation = %+v; want %+v", got, &want)
			}
			if got := resolve(t, a, apptest.Pub(newKey)); got != acct {
				t.Errorf("Resolve(new key) = %s; want %s", got, acct)
			}
			if got := resolve(t, a, apptest.Pub(tc.old)); got != (tx.Address{}) {
				t.Errorf("Resolve(old key) = %s; want none", got)
			}

			// The old key no longer signs for the account.
			stale := apptest.SignTx(t, apptest.ChainID, tc.old, tc.seq+1, tc.then)
			if got := apptest.CheckTx(t, a, stale); got != tx.CodeUnknownSigner {
				t.Errorf("CheckTx(old key) = %v; want %v", got, tx.CodeUnknownSigner)
			}
			if got := tx.Code(apptest.Deliver(t, a, stale)[0].Code); got != tx.CodeUnknownSigner {
				t.Errorf("FinalizeBlock(old key) code = %v; want %v", got, tx.CodeUnknownSigner)
			}
			// The new key continues the account's sequence.
			if got := apptest.CheckTx(t, a, apptest.SignTx(t, apptest.ChainID, newKey, 0, tc.then)); got != tx.CodeSequenceReplayed {
				t.Errorf("CheckTx(new key, sequence 0) = %v; want %v", got, tx.CodeSequenceReplayed)
			}
			deliverOne(t, a, "new key acts", apptest.SignTx(t, apptest.ChainID, newKey, tc.seq+1, tc.then))
			if got := rec.last(t).Signer; got != acct {
				t.Errorf("signer of the new key's transaction = %s; want %s", got, acct)
			}
		})
	}
}

// TestRotatedKeyChangesHands follows a key that leaves its first account,
// serves another, and comes back: an account's first key resolves through
// the address it derives, a key rotated in through the key index, and at
// every step the key resolves to the one account that holds it.
func TestRotatedKeyChangesHands(t *testing.T) {
	a, _ := newRecordedChain(t)
	k1, k2, k3, k4 := apptest.Key("hands-1"), apptest.Key("hands-2"), apptest.Key("hands-3"), apptest.Key("hands-4")
	p1, p2 := apptest.Addr(k1), apptest.Addr(k3)
	deliverOne(t, a, "register p1", apptest.SignTx(t, apptest.ChainID, k1, 0, contract.Encode(identity.RegisterPatient{})))
	deliverOne(t, a, "register p2", apptest.SignTx(t, apptest.ChainID, k3, 0, contract.Encode(identity.RegisterPatient{})))
	resolvesTo := func(step string, key ed25519.PrivKey, want tx.Address) {
		t.Helper()
		if got := resolve(t, a, apptest.Pub(key)); got != want {
			t.Fatalf("%s: Resolve(%s) = %s; want %s", step, key.PubKey().Address(), got, want)
		}
	}

	deliverOne(t, a, "p1 leaves k1", apptest.SignTx(t, apptest.ChainID, k1, 1, apptest.Rotation(t, p1, k2, k2)))
	resolvesTo("p1 left k1", k1, tx.Address{})
	resolvesTo("p1 left k1", k2, p1)

	deliverOne(t, a, "p2 takes k1", apptest.SignTx(t, apptest.ChainID, k3, 1, apptest.Rotation(t, p2, k1, k1)))
	resolvesTo("p2 took k1", k1, p2)
	resolvesTo("p2 took k1", k3, tx.Address{})
	back := apptest.SignTx(t, apptest.ChainID, k2, 2, apptest.Rotation(t, p1, k1, k1))
	if got := tx.Code(apptest.Deliver(t, a, back)[0].Code); got != tx.CodeKeyInUse {
		t.Fatalf("p1 rotating back to k1 held by p2: code %v; want %v", got, tx.CodeKeyInUse)
	}

	deliverOne(t, a, "p2 leaves k1", apptest.SignTx(t, apptest.ChainID, k1, 2, apptest.Rotation(t, p2, k4, k4)))
	resolvesTo("p2 left k1", k1, tx.Address{})
	deliverOne(t, a, "p1 back to k1", apptest.SignTx(t, apptest.ChainID, k2, 3, apptest.Rotation(t, p1, k1, k1)))
	resolvesTo("p1 back on k1", k1, p1)
	resolvesTo("p1 back on k1", k2, tx.Address{})
	resolvesTo("p1 back on k1", k4, p2)
}
