package api_test

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestSchedulingThroughAPI runs scheduling with deposits and a reward
// program on a network of a payer (org0) and a provider (org1), through
// the HTTP API: the payer funds patients, patients race for one slot and
// exactly one wins, the provider marks it attended and attests it to the
// payer's program in one transaction, a no-show keeps a deposit, a
// cancellation before the deadline refunds one, and every balance is read
// back from /v1.
func TestSchedulingThroughAPI(t *testing.T) {
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Payer, identity.Provider}, node.Config{})
	payerNode, clinic := nodes[0], nodes[1]
	ctx, c := t.Context(), clinic.Client
	send := func(what string, k ed25519.PrivKey, msgs ...contract.Msg) {
		t.Helper()
		var raw []tx.Msg
		for _, m := range msgs {
			raw = append(raw, contract.Encode(m))
		}
		if _, err := c.Send(ctx, k, raw...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const racers = 8
	patients := make([]ed25519.PrivKey, racers)
	for i := range patients {
		patients[i] = ed25519.GenPrivKey()
		send("register patient", patients[i], identity.RegisterPatient{})
	}
	addr := func(k ed25519.PrivKey) tx.Address { return tx.AddressOf(k.PubKey().Bytes()) }
	alice, bob := patients[0], patients[1]

	send("deposit", payerNode.Admin, claims.Deposit{Payer: "org0", Amount: 100_000})
	for _, p := range patients {
		send("fund", payerNode.Admin, ledger.Send{From: "org0", ToPatient: addr(p), Amount: 3_000})
	}
	send("program", payerNode.Admin, rewards.Create{Sponsor: "org0", Program: "checkups", Funding: 10_000, PatientCap: 500,
		End: time.Now().Add(time.Hour).Unix(), Rules: []rewards.Rule{{Event: "attended", Amount: 500, Attesters: []string{"provider"}}}})

	start := time.Now().Add(4 * time.Second).Unix()
	later := time.Now().Add(2 * time.Hour).Unix()
	ref := func(s int64) schedule.SlotRef { return schedule.SlotRef{Provider: "org1", Schedule: "gp", Start: s} }
	send("publish and open", clinic.Admin,
		schedule.Publish{Provider: "org1", Schedule: "gp", Category: "primary-care", Deposit: 1_000, CancelBefore: 3600, NoShowKeep: 10_000},
		schedule.OpenSlots{Provider: "org1", Schedule: "gp", Slots: []schedule.SlotSpec{{Start: start, Minutes: 15}, {Start: start + 1, Minutes: 15}, {Start: later, Minutes: 15}}})

	// Every patient but bob races for the first slot.
	var wg sync.WaitGroup
	codes := make([]tx.Code, racers)
	for i, p := range patients {
		if p.Equals(bob) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Send(ctx, p, contract.Encode(schedule.Book{Patient: addr(p), SlotRef: ref(start)}))
			codes[i], _ = tx.CodeOf(err)
		}()
	}
	wg.Wait()
	winner := -1
	for i, code := range codes {
		switch {
		case patients[i].Equals(bob):
		case code == tx.CodeOK && winner < 0:
			winner = i
		case code != tx.CodeAlreadyExists:
			t.Fatalf("racer %d got %v; want one ok and already_exists for the others", i, code)
		}
	}
	if winner < 0 {
		t.Fatal("no racer booked the slot")
	}
	send("bob books", bob, schedule.Book{Patient: addr(bob), SlotRef: ref(start + 1)})
	send("alice books later", alice, schedule.Book{Patient: addr(alice), SlotRef: ref(later)})
	send("alice cancels", alice, schedule.Cancel{SlotRef: ref(later)})

	// The bookings as others see them: the provider sees its patients,
	// another patient sees only that the slots are taken.
	staff, err := c.Slots(ctx, clinic.Token(t, clinic.Admin), "org1", "gp")
	if err != nil || len(staff.Slots) != 3 || staff.Slots[1].Patient != addr(bob) || staff.Slots[1].Held != 1_000 {
		t.Fatalf("Slots(as the provider) = %+v, %v; want bob's booking shown", staff, err)
	}
	other := patients[(winner+1)%racers]
	if other.Equals(bob) {
		other = patients[(winner+2)%racers]
	}
	seen, err := c.Slots(ctx, clinic.Token(t, other), "org1", "gp")
	if err != nil || seen.Slots[1].State != schedule.Booked || seen.Slots[1].Patient != (tx.Address{}) {
		t.Fatalf("Slots(as another patient) = %+v, %v; want bob's slot booked, its patient hidden", seen, err)
	}
	// Bob's caregiver, his delegate, sees his booking as he does.
	caregiver := ed25519.GenPrivKey()
	send("the caregiver registers", caregiver, identity.RegisterPatient{})
	send("bob names a delegate", bob, identity.SetDelegate{Delegate: addr(caregiver), Relation: identity.Caregiver})
	if seen, err := c.Slots(ctx, clinic.Token(t, caregiver), "org1", "gp"); err != nil || seen.Slots[1].Patient != addr(bob) || seen.Slots[1].Held != 1_000 {
		t.Errorf("Slots(as bob's delegate) = %+v, %v; want bob's booking shown", seen, err)
	}

	for time.Now().Unix() <= start+2 {
		time.Sleep(200 * time.Millisecond)
	}
	w := patients[winner]
	send("attended and attested", clinic.Admin,
		schedule.Mark{SlotRef: ref(start), Outcome: schedule.Attended},
		rewards.Attest{Program: "checkups", Patient: addr(w), Event: "attended", Ref: sha256.Sum256([]byte("visit 1"))})
	send("no-show", clinic.Admin, schedule.Mark{SlotRef: ref(start + 1), Outcome: schedule.NoShow})
	if _, err := c.Send(ctx, payerNode.Admin, contract.Encode(schedule.Mark{SlotRef: ref(start + 1), Outcome: schedule.Attended})); !isCode(err, tx.CodeWrongOrganization) {
		t.Errorf("mark by the payer: %v; want wrong_organization", err)
	}

	want := map[int]uint64{winner: 3_000 + 500, 1: 2_000} // the winner's deposit back and a reward; bob's kept
	if winner != 0 {
		want[0] = 3_000 // alice's cancellation refunded in full
	}
	for i := range racers {
		b := struct {
			who  ed25519.PrivKey
			want uint64
		}{patients[i], 3_000}
		if v, ok := want[i]; ok {
			b.want = v
		}
		got, err := c.Balance(ctx, clinic.Token(t, b.who), addr(b.who))
		if err != nil || got.Balance != b.want || got.Account != ledger.Patient(addr(b.who)) {
			t.Errorf("Balance(%s) = %+v, %v; want %d", addr(b.who), got, err, b.want)
		}
	}
	if got := statusOf(t, "GET", clinic.URL+"/v1/patients/"+addr(bob).String()+"/balance", clinic.Token(t, alice)); got != http.StatusForbidden {
		t.Errorf("GET another patient's balance = HTTP %d; want 403", got)
	}
	p, err := c.Program(ctx, clinic.Token(t, alice), "checkups")
	if err != nil || p.Paid != 500 || p.Sponsor != "org0" {
		t.Errorf("Program(checkups) = %+v, %v; want 500 paid by org0", p, err)
	}
	got, err := c.Rewarded(ctx, clinic.Token(t, w), "checkups", addr(w))
	if err != nil || got != (rewards.Received{Total: 500, Count: 1}) {
		t.Errorf("Rewarded(checkups, winner) = %+v, %v; want 500 in one reward, none held (it pays to balances)", got, err)
	}
	if got := statusOf(t, "GET", clinic.URL+"/v1/programs/checkups/patients/"+addr(bob).String(), clinic.Token(t, alice)); got != http.StatusForbidden {
		t.Errorf("GET what a program gave another patient = HTTP %d; want 403", got)
	}
}
