package app_test

import (
	"slices"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// fixture is a chain after genesis and one block that registered:
//   - patient, a patient (next sequence 1);
//   - physician, a physician of apptest.OrgA, and nurse, a nurse of apptest.OrgA whom
//     admin-a suspended (admin-a's next sequence 3);
//   - rotated, a patient who moved from key rotated-old to rotated-new
//     (next sequence 2).
type fixture struct {
	app                       *app.App
	adminA, adminB            ed25519.PrivKey
	patient, physician, nurse ed25519.PrivKey
	rotatedOld, rotatedNew    ed25519.PrivKey
	rotated                   tx.Address
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		app:    apptest.NewChain(t),
		adminA: apptest.Key("admin-a"), adminB: apptest.Key("admin-b"),
		patient: apptest.Key("patient"), physician: apptest.Key("physician"), nurse: apptest.Key("nurse"),
		rotatedOld: apptest.Key("rotated-old"), rotatedNew: apptest.Key("rotated-new"),
	}
	f.rotated = apptest.Addr(f.rotatedOld)
	apptest.RequireOK(t, "fixture", apptest.Deliver(t, f.app,
		apptest.SignTx(t, apptest.ChainID, f.patient, 0, contract.Encode(identity.RegisterPatient{})),
		apptest.SignTx(t, apptest.ChainID, f.adminA, 0, contract.Encode(identity.RegisterMember{
			Org: apptest.OrgA, PubKey: apptest.Pub(f.physician), Roles: []identity.Role{identity.Physician}})),
		apptest.SignTx(t, apptest.ChainID, f.adminA, 1, contract.Encode(identity.RegisterMember{
			Org: apptest.OrgA, PubKey: apptest.Pub(f.nurse), Roles: []identity.Role{identity.Nurse}})),
		apptest.SignTx(t, apptest.ChainID, f.adminA, 2, contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(f.nurse), Suspended: true})),
		apptest.SignTx(t, apptest.ChainID, f.rotatedOld, 0, contract.Encode(identity.RegisterPatient{})),
		apptest.SignTx(t, apptest.ChainID, f.rotatedOld, 1, apptest.Rotation(t, f.rotated, f.rotatedNew, f.rotatedNew)),
	))
	return f
}

// TestRejections sends one bad transaction per case to a fresh fixture
// chain, through CheckTx and then in a block, and requires the expected code
// from both and a state that is unchanged but for the signer's sequence,
// which advances exactly when the rules consume it: once the envelope checks
// (decoding, chain, signature, signer, sequence) pass and the signer has an
// account.
//
// CheckTx checks the envelope, the signer's standing and what a message can
// be refused for without state (an unknown role, a malformed organization
// ID); such a transaction is refused in a block before its sequence is
// consumed. A message the contract refuses with state passes CheckTx (so
// for those cases checkCode is ok) and consumes the sequence in the block.
func TestRejections(t *testing.T) {
	big := make([]byte, app.DefaultParams().MaxTxBytes)
	for _, tc := range []struct {
		name string
		// build returns the raw transaction and the account whose sequence
		// the case may consume.
		build     func(t *testing.T, f *fixture) (raw []byte, signer tx.Address)
		checkCode tx.Code
		code      tx.Code
		consumes  bool
	}{
		{"malformed bytes", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return []byte("not a transaction"), tx.Address{}
		}, tx.CodeMalformed, tx.CodeMalformed, false},
		{"truncated envelope", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			raw := apptest.SignTx(t, apptest.ChainID, f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), apptest.Key("p2")))
			return raw[:len(raw)-1], apptest.Addr(f.patient)
		}, tx.CodeMalformed, tx.CodeMalformed, false},
		{"malformed message body", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, tx.Msg{Type: identity.TypeSetMemberStatus, Body: []byte{1, 2, 3}}), apptest.Addr(f.adminA)
		}, tx.CodeMalformed, tx.CodeMalformed, false},
		{"oversized", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, tx.Msg{Type: identity.TypeRegisterPatient, Body: big}), apptest.Addr(f.patient)
		}, tx.CodeOversized, tx.CodeOversized, false},
		{"wrong chain ID", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, "careledger-other", f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), apptest.Key("p2"))), apptest.Addr(f.patient)
		}, tx.CodeWrongChain, tx.CodeWrongChain, false},
		{"bad signature", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			raw := apptest.SignTx(t, apptest.ChainID, f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), apptest.Key("p2")))
			raw[len(raw)-10] ^= 0x40
			return raw, apptest.Addr(f.patient)
		}, tx.CodeBadSignature, tx.CodeBadSignature, false},
		{"signed by another key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			tr := &tx.Tx{ChainID: apptest.ChainID, Signer: apptest.Pub(f.adminA), Sequence: 3,
				Msgs: []tx.Msg{contract.Encode(identity.SetMemberStatus{Member: apptest.Addr(f.nurse)})}}
			if err := tr.Sign(f.patient); err != nil {
				t.Fatal(err)
			}
			return tr.Encode(), apptest.Addr(f.adminA)
		}, tx.CodeBadSignature, tx.CodeBadSignature, false},
		{"replayed sequence", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 0, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), apptest.Key("p2"))), apptest.Addr(f.patient)
		}, tx.CodeSequenceReplayed, tx.CodeSequenceReplayed, false},
		{"skipped sequence", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 2, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), apptest.Key("p2"))), apptest.Addr(f.patient)
		}, tx.CodeSequenceSkipped, tx.CodeSequenceSkipped, false},
		{"unknown message type", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, tx.Msg{Type: 9999}), apptest.Addr(f.patient)
		}, tx.CodeUnknownMessage, tx.CodeUnknownMessage, false},
		{"unknown type after a known one", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, apptest.Key("newcomer"), 0,
				contract.Encode(identity.RegisterPatient{}), tx.Msg{Type: 9999}), apptest.Addr(apptest.Key("newcomer"))
		}, tx.CodeUnknownMessage, tx.CodeUnknownMessage, false},
		{"unregistered signer", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			k := apptest.Key("stranger")
			return apptest.SignTx(t, apptest.ChainID, k, 0, contract.Encode(identity.SetMemberRoles{
				Member: apptest.Addr(f.physician), Roles: []identity.Role{identity.Admin}})), apptest.Addr(k)
		}, tx.CodeUnknownSigner, tx.CodeUnknownSigner, false},
		{"rotated-away key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.rotatedOld, 2, apptest.Rotation(t, f.rotated, apptest.Key("r3"), apptest.Key("r3"))), f.rotated
		}, tx.CodeUnknownSigner, tx.CodeUnknownSigner, false},
		{"member acting for another organization", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgB, PubKey: apptest.Pub(apptest.Key("m")), Roles: []identity.Role{identity.ClaimsAgent}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeWrongOrganization, true},
		{"admin of another organization suspending", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminB, 0, contract.Encode(identity.SetMemberStatus{
				Member: apptest.Addr(f.physician), Suspended: true})), apptest.Addr(f.adminB)
		}, tx.CodeOK, tx.CodeWrongOrganization, true},
		{"non-admin member registering", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.physician, 0, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgA, PubKey: apptest.Pub(apptest.Key("m")), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.physician)
		}, tx.CodeOK, tx.CodeUnauthorized, true},
		{"patient setting roles", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, contract.Encode(identity.SetMemberRoles{
				Member: apptest.Addr(f.physician), Roles: []identity.Role{identity.Admin}})), apptest.Addr(f.patient)
		}, tx.CodeOK, tx.CodeUnauthorized, true},
		{"suspended member acting", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.nurse, 0, apptest.Rotation(t, apptest.Addr(f.nurse), apptest.Key("n2"), apptest.Key("n2"))), apptest.Addr(f.nurse)
		}, tx.CodeSuspended, tx.CodeSuspended, false},
		{"rotating to a key in use", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), f.physician, f.physician)), apptest.Addr(f.patient)
		}, tx.CodeOK, tx.CodeKeyInUse, true},
		{"registering a member with a key in use", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgA, PubKey: apptest.Pub(f.patient), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeKeyInUse, true},
		// A patient registering again with the same key is refused as
		// key_in_use (the key check comes first), not already_exists.
		{"existing patient registering again", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, contract.Encode(identity.RegisterPatient{})), apptest.Addr(f.patient)
		}, tx.CodeOK, tx.CodeAlreadyExists, true},
		// already_exists also answers an account whose address is the key's
		// but whose current key is another: the key it rotated away from.
		{"existing patient registering with a former key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.rotatedOld, 0, contract.Encode(identity.RegisterPatient{})), f.rotated
		}, tx.CodeOK, tx.CodeAlreadyExists, false},
		{"registering a member with a former key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgA, PubKey: apptest.Pub(f.rotatedOld), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeAlreadyExists, true},
		{"unknown role", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: apptest.OrgA, PubKey: apptest.Pub(apptest.Key("m")), Roles: []identity.Role{identity.Nurse, "surgeon"}})), apptest.Addr(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"no roles", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.SetMemberRoles{Member: apptest.Addr(f.physician)})), apptest.Addr(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"admin dropping own admin role", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.SetMemberRoles{
				Member: apptest.Addr(f.adminA), Roles: []identity.Role{identity.Physician}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"admin suspending themselves", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.SetMemberStatus{
				Member: apptest.Addr(f.adminA), Suspended: true})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"invalid organization ID", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: "General Hospital", PubKey: apptest.Pub(apptest.Key("m")), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"rotating to the current key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), f.patient, f.patient)), apptest.Addr(f.patient)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"rotation proof by the old key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.patient, 1, apptest.Rotation(t, apptest.Addr(f.patient), apptest.Key("p2"), f.patient)), apptest.Addr(f.patient)
		}, tx.CodeOK, tx.CodeBadSignature, true},
		{"unknown organization", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.RegisterMember{
				Org: "no-such-org", PubKey: apptest.Pub(apptest.Key("m")), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
		{"unknown member", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.SetMemberStatus{
				Member: apptest.Addr(apptest.Key("nobody")), Suspended: true})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
		{"patient as member", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return apptest.SignTx(t, apptest.ChainID, f.adminA, 3, contract.Encode(identity.SetMemberRoles{
				Member: apptest.Addr(f.patient), Roles: []identity.Role{identity.Nurse}})), apptest.Addr(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			raw, signer := tc.build(t, f)
			seq := apptest.Sequence(t, f.app, signer)
			before := apptest.Dump(t, f.app.State())

			if got := apptest.CheckTx(t, f.app, raw); got != tc.checkCode {
				t.Errorf("CheckTx(%s) = %v; want %v", tc.name, got, tc.checkCode)
			}
			res := apptest.Deliver(t, f.app, raw)[0]
			if got := tx.Code(res.Code); got != tc.code {
				t.Errorf("FinalizeBlock(%s) code = %v (%s); want %v", tc.name, got, res.Log, tc.code)
			}
			if len(res.Events) != 0 {
				t.Errorf("FinalizeBlock(%s) events = %v; want none", tc.name, res.Events)
			}
			if res.Log == "" {
				t.Errorf("FinalizeBlock(%s) log is empty; want the reason", tc.name)
			}

			after := apptest.Dump(t, f.app.State())
			wantSeq := seq
			if tc.consumes {
				wantSeq++
				apptest.IgnoreSequence(t, before, after, signer)
			}
			if got := apptest.Sequence(t, f.app, signer); got != wantSeq {
				t.Errorf("Sequence(signer) after %s = %d; want %d", tc.name, got, wantSeq)
			}
			if d := apptest.DiffKeys(before, after); len(d) > 0 {
				t.Errorf("state keys changed by %s = %v; want none", tc.name, slices.Sorted(slices.Values(d)))
			}
		})
	}
}
