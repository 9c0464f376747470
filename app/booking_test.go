package app_test

import (
	"fmt"
	"testing"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

// TestOneBookingPerSlotInABlock puts twenty patients' bookings of one slot
// in one block: the first in block order books it, every other one is
// already_exists and leaves its deposit with its patient; at the slot's
// time the provider marks the no-show and keeps the deposit.
func TestOneBookingPerSlotInABlock(t *testing.T) {
	a := apptest.NewChain(t)
	const n = 20
	var regs [][]byte
	patients := make([]tx.Address, n)
	for i := range n {
		k := apptest.Key(fmt.Sprintf("booking-patient-%d", i))
		patients[i] = apptest.Addr(k)
		regs = append(regs, apptest.SignTx(t, apptest.ChainID, k, 0, contract.Encode(identity.RegisterPatient{})))
	}
	apptest.RequireOK(t, "register", apptest.Deliver(t, a, regs...))

	fund := []tx.Msg{contract.Encode(claims.Deposit{Payer: apptest.OrgB, Amount: 1_000_000})}
	for _, p := range patients {
		fund = append(fund, contract.Encode(ledger.Send{From: apptest.OrgB, ToPatient: p, Amount: 2_000}))
	}
	start := apptest.BlockTime(10).Unix()
	ref := schedule.SlotRef{Provider: apptest.OrgA, Schedule: "gp", Start: start}
	apptest.RequireOK(t, "fund and open", apptest.Deliver(t, a,
		apptest.SignTx(t, apptest.ChainID, apptest.Key("admin-b"), 0, fund...),
		apptest.SignTx(t, apptest.ChainID, apptest.Key("admin-a"), 0,
			contract.Encode(schedule.Publish{Provider: apptest.OrgA, Schedule: "gp", Category: "primary-care", Deposit: 1_000, NoShowKeep: 10_000}),
			contract.Encode(schedule.OpenSlots{Provider: apptest.OrgA, Schedule: "gp", Slots: []schedule.SlotSpec{{Start: start, Minutes: 15}}}))))

	var race [][]byte
	for i := range n {
		race = append(race, apptest.SignTx(t, apptest.ChainID, apptest.Key(fmt.Sprintf("booking-patient-%d", i)), 1,
			contract.Encode(schedule.Book{Patient: patients[i], SlotRef: ref})))
	}
	for i, r := range apptest.Deliver(t, a, race...) {
		want := tx.CodeAlreadyExists
		if i == 0 {
			want = tx.CodeOK
		}
		if tx.Code(r.Code) != want {
			t.Errorf("booking %d of the block: code %d (%s); want %v", i, r.Code, r.Log, want)
		}
	}
	balance := func(acct string) uint64 {
		t.Helper()
		v, err := ledger.Balance(a.State(), acct)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if w, l, e := balance(ledger.Patient(patients[0])), balance(ledger.Patient(patients[1])), balance(schedule.Escrow); w != 1_000 || l != 2_000 || e != 1_000 {
		t.Errorf("winner, a loser, escrow = %d, %d, %d; want 1000, 2000, 1000", w, l, e)
	}

	for apptest.Height(t, a) < 9 {
		apptest.Deliver(t, a)
	}
	apptest.RequireOK(t, "no-show", apptest.Deliver(t, a, apptest.SignTx(t, apptest.ChainID, apptest.Key("admin-a"), 1,
		contract.Encode(schedule.Mark{SlotRef: ref, Outcome: schedule.NoShow}))))
	if p, e := balance(apptest.OrgA), balance(schedule.Escrow); p != 1_000 || e != 0 {
		t.Errorf("provider, escrow after the no-show = %d, %d; want 1000, 0", p, e)
	}
}
