package app_test

import (
	"slices"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// fixture is a chain after genesis and one block that registered:
//   - patient, a patient (next sequence 1);
//   - physician, a physician of orgA, and nurse, a nurse of orgA whom
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
		app:    newChain(t),
		adminA: testKey("admin-a"), adminB: testKey("admin-b"),
		patient: testKey("patient"), physician: testKey("physician"), nurse: testKey("nurse"),
		rotatedOld: testKey("rotated-old"), rotatedNew: testKey("rotated-new"),
	}
	f.rotated = addrOf(f.rotatedOld)
	requireOK(t, "fixture", deliver(t, f.app,
		signTx(t, testChainID, f.patient, 0, identity.Encode(identity.RegisterPatient{})),
		signTx(t, testChainID, f.adminA, 0, identity.Encode(identity.RegisterMember{
			Org: orgA, PubKey: pubOf(f.physician), Roles: []identity.Role{identity.Physician}})),
		signTx(t, testChainID, f.adminA, 1, identity.Encode(identity.RegisterMember{
			Org: orgA, PubKey: pubOf(f.nurse), Roles: []identity.Role{identity.Nurse}})),
		signTx(t, testChainID, f.adminA, 2, identity.Encode(identity.SetMemberStatus{Member: addrOf(f.nurse), Suspended: true})),
		signTx(t, testChainID, f.rotatedOld, 0, identity.Encode(identity.RegisterPatient{})),
		signTx(t, testChainID, f.rotatedOld, 1, rotation(t, f.rotated, f.rotatedNew, f.rotatedNew)),
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
			raw := signTx(t, testChainID, f.patient, 1, rotation(t, addrOf(f.patient), testKey("p2"), testKey("p2")))
			return raw[:len(raw)-1], addrOf(f.patient)
		}, tx.CodeMalformed, tx.CodeMalformed, false},
		{"malformed message body", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, tx.Msg{Type: identity.TypeSetMemberStatus, Body: []byte{1, 2, 3}}), addrOf(f.adminA)
		}, tx.CodeMalformed, tx.CodeMalformed, false},
		{"oversized", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, tx.Msg{Type: identity.TypeRegisterPatient, Body: big}), addrOf(f.patient)
		}, tx.CodeOversized, tx.CodeOversized, false},
		{"wrong chain ID", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, "careledger-other", f.patient, 1, rotation(t, addrOf(f.patient), testKey("p2"), testKey("p2"))), addrOf(f.patient)
		}, tx.CodeWrongChain, tx.CodeWrongChain, false},
		{"bad signature", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			raw := signTx(t, testChainID, f.patient, 1, rotation(t, addrOf(f.patient), testKey("p2"), testKey("p2")))
			raw[len(raw)-10] ^= 0x40
			return raw, addrOf(f.patient)
		}, tx.CodeBadSignature, tx.CodeBadSignature, false},
		{"signed by another key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			tr := &tx.Tx{ChainID: testChainID, Signer: pubOf(f.adminA), Sequence: 3,
				Msgs: []tx.Msg{identity.Encode(identity.SetMemberStatus{Member: addrOf(f.nurse)})}}
			if err := tr.Sign(f.patient); err != nil {
				t.Fatal(err)
			}
			return tr.Encode(), addrOf(f.adminA)
		}, tx.CodeBadSignature, tx.CodeBadSignature, false},
		{"replayed sequence", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 0, rotation(t, addrOf(f.patient), testKey("p2"), testKey("p2"))), addrOf(f.patient)
		}, tx.CodeSequenceReplayed, tx.CodeSequenceReplayed, false},
		{"skipped sequence", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 2, rotation(t, addrOf(f.patient), testKey("p2"), testKey("p2"))), addrOf(f.patient)
		}, tx.CodeSequenceSkipped, tx.CodeSequenceSkipped, false},
		{"unknown message type", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, tx.Msg{Type: 99}), addrOf(f.patient)
		}, tx.CodeUnknownMessage, tx.CodeUnknownMessage, false},
		{"unknown type after a known one", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, testKey("newcomer"), 0,
				identity.Encode(identity.RegisterPatient{}), tx.Msg{Type: 99}), addrOf(testKey("newcomer"))
		}, tx.CodeUnknownMessage, tx.CodeUnknownMessage, false},
		{"unregistered signer", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			k := testKey("stranger")
			return signTx(t, testChainID, k, 0, identity.Encode(identity.SetMemberRoles{
				Member: addrOf(f.physician), Roles: []identity.Role{identity.Admin}})), addrOf(k)
		}, tx.CodeUnknownSigner, tx.CodeUnknownSigner, false},
		{"rotated-away key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.rotatedOld, 2, rotation(t, f.rotated, testKey("r3"), testKey("r3"))), f.rotated
		}, tx.CodeUnknownSigner, tx.CodeUnknownSigner, false},
		{"member acting for another organization", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: orgB, PubKey: pubOf(testKey("m")), Roles: []identity.Role{identity.ClaimsAgent}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeWrongOrganization, true},
		{"admin of another organization suspending", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminB, 0, identity.Encode(identity.SetMemberStatus{
				Member: addrOf(f.physician), Suspended: true})), addrOf(f.adminB)
		}, tx.CodeOK, tx.CodeWrongOrganization, true},
		{"non-admin member registering", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.physician, 0, identity.Encode(identity.RegisterMember{
				Org: orgA, PubKey: pubOf(testKey("m")), Roles: []identity.Role{identity.Nurse}})), addrOf(f.physician)
		}, tx.CodeOK, tx.CodeUnauthorized, true},
		{"patient setting roles", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, identity.Encode(identity.SetMemberRoles{
				Member: addrOf(f.physician), Roles: []identity.Role{identity.Admin}})), addrOf(f.patient)
		}, tx.CodeOK, tx.CodeUnauthorized, true},
		{"suspended member acting", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.nurse, 0, rotation(t, addrOf(f.nurse), testKey("n2"), testKey("n2"))), addrOf(f.nurse)
		}, tx.CodeSuspended, tx.CodeSuspended, false},
		{"rotating to a key in use", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, rotation(t, addrOf(f.patient), f.physician, f.physician)), addrOf(f.patient)
		}, tx.CodeOK, tx.CodeKeyInUse, true},
		{"registering a member with a key in use", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: orgA, PubKey: pubOf(f.patient), Roles: []identity.Role{identity.Nurse}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeKeyInUse, true},
		// A patient registering again with the same key is refused as
		// key_in_use (the key check comes first), not already_exists.
		{"existing patient registering again", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, identity.Encode(identity.RegisterPatient{})), addrOf(f.patient)
		}, tx.CodeOK, tx.CodeAlreadyExists, true},
		// already_exists also answers an account whose address is the key's
		// but whose current key is another: the key it rotated away from.
		{"existing patient registering with a former key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.rotatedOld, 0, identity.Encode(identity.RegisterPatient{})), f.rotated
		}, tx.CodeOK, tx.CodeAlreadyExists, false},
		{"registering a member with a former key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: orgA, PubKey: pubOf(f.rotatedOld), Roles: []identity.Role{identity.Nurse}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeAlreadyExists, true},
		{"unknown role", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: orgA, PubKey: pubOf(testKey("m")), Roles: []identity.Role{identity.Nurse, "surgeon"}})), addrOf(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"no roles", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.SetMemberRoles{Member: addrOf(f.physician)})), addrOf(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"admin dropping own admin role", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.SetMemberRoles{
				Member: addrOf(f.adminA), Roles: []identity.Role{identity.Physician}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"admin suspending themselves", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.SetMemberStatus{
				Member: addrOf(f.adminA), Suspended: true})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"invalid organization ID", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: "General Hospital", PubKey: pubOf(testKey("m")), Roles: []identity.Role{identity.Nurse}})), addrOf(f.adminA)
		}, tx.CodeInvalid, tx.CodeInvalid, false},
		{"rotating to the current key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, rotation(t, addrOf(f.patient), f.patient, f.patient)), addrOf(f.patient)
		}, tx.CodeOK, tx.CodeInvalid, true},
		{"rotation proof by the old key", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.patient, 1, rotation(t, addrOf(f.patient), testKey("p2"), f.patient)), addrOf(f.patient)
		}, tx.CodeOK, tx.CodeBadSignature, true},
		{"unknown organization", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.RegisterMember{
				Org: "no-such-org", PubKey: pubOf(testKey("m")), Roles: []identity.Role{identity.Nurse}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
		{"unknown member", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.SetMemberStatus{
				Member: addrOf(testKey("nobody")), Suspended: true})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
		{"patient as member", func(t *testing.T, f *fixture) ([]byte, tx.Address) {
			return signTx(t, testChainID, f.adminA, 3, identity.Encode(identity.SetMemberRoles{
				Member: addrOf(f.patient), Roles: []identity.Role{identity.Nurse}})), addrOf(f.adminA)
		}, tx.CodeOK, tx.CodeNotFound, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			raw, signer := tc.build(t, f)
			seq := sequence(t, f.app, signer)
			before := dump(t, f.app.State())

			if got := checkTx(t, f.app, raw); got != tc.checkCode {
				t.Errorf("CheckTx(%s) = %v; want %v", tc.name, got, tc.checkCode)
			}
			res := deliver(t, f.app, raw)[0]
			if got := tx.Code(res.Code); got != tc.code {
				t.Errorf("FinalizeBlock(%s) code = %v (%s); want %v", tc.name, got, res.Log, tc.code)
			}
			if len(res.Events) != 0 {
				t.Errorf("FinalizeBlock(%s) events = %v; want none", tc.name, res.Events)
			}
			if res.Log == "" {
				t.Errorf("FinalizeBlock(%s) log is empty; want the reason", tc.name)
			}

			after := dump(t, f.app.State())
			wantSeq := seq
			if tc.consumes {
				wantSeq++
				ignoreSequence(t, before, after, signer)
			}
			if got := sequence(t, f.app, signer); got != wantSeq {
				t.Errorf("Sequence(signer) after %s = %d; want %d", tc.name, got, wantSeq)
			}
			if d := diffKeys(before, after); len(d) > 0 {
				t.Errorf("state keys changed by %s = %v; want none", tc.name, slices.Sorted(slices.Values(d)))
			}
		})
	}
}
