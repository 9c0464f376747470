package app_test

import (
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// TestRecoveryCompletedByNewKey follows a recovery through the app: the new
// key, not registered, completes it at sequence 0 once its delay passed,
// without touching the patient's sequence; the new key then signs for the
// patient at the patient's next sequence, the old key for nobody, and the
// completing transaction cannot be replayed.
func TestRecoveryCompletedByNewKey(t *testing.T) {
	a := apptest.NewChain(t)
	pat, guard, newKey := apptest.Key("recovered patient"), apptest.Key("guardian"), apptest.Key("recovered new")
	p := apptest.Addr(pat)
	apptest.RequireOK(t, "register", apptest.Deliver(t, a,
		apptest.SignTx(t, apptest.ChainID, pat, 0, contract.Encode(identity.RegisterPatient{})),
		apptest.SignTx(t, apptest.ChainID, guard, 0, contract.Encode(identity.RegisterPatient{}))))
	set := identity.SetGuardians{Guardians: []tx.Address{apptest.Addr(guard)}, Threshold: 1, Delay: apptest.MinRecoveryDelay}
	deliverOne(t, a, "set guardians", apptest.SignTx(t, apptest.ChainID, pat, 1, contract.Encode(set)))
	deliverOne(t, a, "propose", apptest.SignTx(t, apptest.ChainID, guard, 1, contract.Encode(apptest.RecoveryProposal(t, p, newKey))))

	complete := apptest.SignTx(t, apptest.ChainID, newKey, 0, contract.Encode(identity.CompleteRecovery{Patient: p, Recovery: 1}))
	if got := apptest.CheckTx(t, a, complete); got != tx.CodeOK {
		t.Fatalf("CheckTx(complete by the unregistered new key) = %v; want ok (the message is open)", got)
	}
	if res := apptest.Deliver(t, a, complete); tx.Code(res[0].Code) != tx.CodeInvalid {
		t.Fatalf("complete 5 s after approval, delay 10 s: %v (%s); want invalid", tx.Code(res[0].Code), res[0].Log)
	}
	// The early attempt consumed nothing: the same transaction completes
	// the recovery once the delay has passed.
	deliverOne(t, a, "complete", complete)

	if got := apptest.Sequence(t, a, p); got != 2 {
		t.Errorf("patient's sequence after completion = %d; want 2, unchanged", got)
	}
	if got := apptest.CheckTx(t, a, complete); got != tx.CodeSequenceReplayed {
		t.Errorf("CheckTx(the completion again) = %v; want sequence_replayed", got)
	}
	old := apptest.SignTx(t, apptest.ChainID, pat, 2, contract.Encode(identity.SetGuardians{}))
	if got := apptest.CheckTx(t, a, old); got != tx.CodeUnknownSigner {
		t.Errorf("CheckTx(old key) = %v; want unknown_signer", got)
	}
	deliverOne(t, a, "new key acts for the patient", apptest.SignTx(t, apptest.ChainID, newKey, 2, contract.Encode(identity.SetGuardians{})))
}
