package app_test

import (
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// TestDeviceActsForNobody: a patient's monitoring device has an account,
// but every transaction it signs is refused, whatever it asks (a grant for
// its patient, a delegate, guardians, a recovery, a key of its own), and
// the patient cannot make it a delegate, a guardian or a care-team member.
func TestDeviceActsForNobody(t *testing.T) {
	deviceSalt := []byte("a device's salt.")
	c := newCareChain(t)
	patient := apptest.Addr(c.patient)
	device := apptest.Key("glucose-meter")
	c.send(t, c.caregiver, contract.Encode(identity.SetDevice{
		Patient: patient, PubKey: apptest.Pub(device), Custodian: apptest.OrgA, Codes: identity.CommitCodes(deviceSalt, []string{"2339-0"})}))
	if a := loadAccount(t, c.app, apptest.Addr(device)); a == nil || a.Kind != identity.Device || a.Suspended {
		t.Fatalf("device account %+v; want an active device", a)
	}
	other := apptest.Key("other-key")
	proof, err := device.Sign(identity.RotationSignBytes(apptest.ChainID, apptest.Addr(device), apptest.Pub(other)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		msg  tx.Msg
	}{
		{"a grant for its patient", contract.Encode(consent.Grant{Patient: patient, Grantee: consent.Grantee{Org: apptest.OrgB},
			Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"TREAT"}})},
		{"a delegate for its patient", contract.Encode(identity.SetDelegate{Delegate: apptest.Addr(c.stranger), Relation: identity.Caregiver})},
		{"guardians", contract.Encode(identity.SetGuardians{Guardians: []tx.Address{apptest.Addr(c.stranger)}, Threshold: 1, Delay: 7 * 86400})},
		{"a recovery of its patient", contract.Encode(identity.CancelRecovery{Patient: patient, Recovery: 1})},
		{"another device", contract.Encode(identity.SetDevice{Patient: patient, PubKey: apptest.Pub(other), Custodian: apptest.OrgA, Codes: identity.CommitCodes(deviceSalt, []string{"2339-0"})})},
		{"its own revocation", contract.Encode(identity.SetDevice{Patient: patient, PubKey: apptest.Pub(device), Remove: true})},
		{"a key of its own", contract.Encode(identity.RotateKey{NewPubKey: apptest.Pub(other), Proof: proof})},
		{"a care team", contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{apptest.Addr(device)}})},
	} {
		if r := c.try(t, device, tc.msg); r.Code != tx.CodeUnauthorized {
			t.Errorf("the device signs %s: code %v (%s); want %v", tc.name, r.Code, r.Log, tx.CodeUnauthorized)
		}
	}
	for _, tc := range []struct {
		name string
		by   ed25519.PrivKey
		msg  tx.Msg
	}{
		{"a delegate", c.patient, contract.Encode(identity.SetDelegate{Delegate: apptest.Addr(device), Relation: identity.Caregiver})},
		{"a guardian", c.patient, contract.Encode(identity.SetGuardians{Guardians: []tx.Address{apptest.Addr(device)}, Threshold: 1, Delay: 7 * 86400})},
		{"a care-team member", c.patient, contract.Encode(consent.SetTeam{Patient: patient, Members: []tx.Address{apptest.Addr(device)}})},
	} {
		if r := c.try(t, tc.by, tc.msg); r.Code != tx.CodeInvalid {
			t.Errorf("the device named %s: code %v (%s); want %v", tc.name, r.Code, r.Log, tx.CodeInvalid)
		}
	}

	// Revoked, its account is suspended at once; authorized again, active.
	c.send(t, c.patient, contract.Encode(identity.SetDevice{Patient: patient, PubKey: apptest.Pub(device), Remove: true}))
	if a := loadAccount(t, c.app, apptest.Addr(device)); !a.Suspended {
		t.Fatal("a revoked device's account is not suspended")
	}
	c.send(t, c.patient, contract.Encode(identity.SetDevice{Patient: patient, PubKey: apptest.Pub(device), Custodian: apptest.OrgA, Codes: identity.CommitCodes(deviceSalt, []string{"2339-0"})}))
	if a := loadAccount(t, c.app, apptest.Addr(device)); a.Suspended {
		t.Fatal("a device authorized again is still suspended")
	}
}
