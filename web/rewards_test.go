package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestAttendedCheckupPaysReward, on a node seeded as `careledger node
// --demo` seeds it: Alice books a check-up on Mercy's demo schedule from
// her page; Dr Adams sees it among his hospital's booked appointments on
// the clinician view and, once it has started, marks it attended, which
// attests it to the demo payer's program in the same transaction, signed
// in his browser; Alice's page shows the reward paid, its history entry
// and the program she is now in, and she redeems part of her balance to
// the payer. The chain holds each step as the pages showed it.
func TestAttendedCheckupPaysReward(t *testing.T) {
	chromiumPath(t)
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	people, err := demo.Seed(ctx, n.Client, dir)
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	var alice tx.Address
	for _, p := range people {
		if p.Key == "patient-alice" {
			alice = p.Address
		}
	}
	mercy := demo.Schedules[0]
	shots := screens(t)
	b := newBrowser(t, n.URL)

	patient := b.person("alice")
	patient.signInWithFile("patient-alice", dir.Path("patient-alice"), "")
	patient.waitFor("the patient view", `document.getElementById("main").dataset.route === "#/patient" && document.querySelector("#rewards-total")?.innerText === "0.00"`)
	patient.waitFor("the demo program offered", `document.querySelector("#reward-programs")?.innerText.includes(`+jsString(demo.RewardProgram)+`)`)

	// A check-up that starts soon, beside the demo's slots of the coming
	// days: the earliest slot of the schedule, so the first to book.
	admin, err := dir.Load("admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(20 * time.Second).Unix()
	if _, err := n.Client.Send(ctx, admin, contract.Encode(schedule.OpenSlots{Provider: mercy.Provider, Schedule: mercy.Schedule,
		Slots: []schedule.SlotSpec{{Start: start, Minutes: demo.SlotMinutes}}})); err != nil {
		t.Fatalf("open a slot: %v", err)
	}
	patient.fill("#slot-search input[name=provider]", mercy.Provider)
	patient.fill("#slot-search input[name=schedule]", mercy.Schedule)
	patient.click("#slot-search button[type=submit]")
	patient.click("#slot-table button.book")
	patient.waitFor("the booking shown", `document.querySelector("#slot-table")?.innerText.includes("booked by you")`)

	clinician := b.person("dr-adams")
	clinician.signInWithFile("dr-adams", dir.Path("dr-adams"), "")
	clinician.waitFor("the clinician view", `document.getElementById("main").dataset.route.startsWith("#/clinician")`)
	clinician.waitFor("alice's booking on the schedule", `document.querySelector("#appointment-table")?.innerText.includes("booked") && document.querySelector("#attest-programs")?.innerText.includes(`+jsString(demo.RewardProgram)+`)`)
	free := eval[int](clinician, "the free slots", `document.querySelectorAll("[data-schedule='checkups'] tbody tr").length`)
	if want := demo.SlotDays*len(demo.SlotHours) + 1; free != want {
		t.Errorf("the clinician sees %d slots of checkups; want %d (the demo's and the test's)", free, want)
	}
	clinician.checkPage(shots, "clinician-schedule")

	// Once the slot has started, the view offers to mark it attended.
	clinician.click("#appointment-table button.attended")
	clinician.waitFor("the appointment attended", `document.querySelector("#appointment-table .state")?.innerText === "attended"`)

	patient.waitFor("the reward shown", `document.querySelector("#rewards-total")?.innerText === "10.00" && document.querySelector("#balance")?.innerText === "10.00"`)
	rows := eval[[]string](patient, "the reward history", `[...document.querySelectorAll("#reward-history tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 1 || !strings.Contains(rows[0], demo.RewardProgram) || !strings.Contains(rows[0], "appointment attended") ||
		!strings.Contains(rows[0], mercy.Provider) || !strings.Contains(rows[0], "+10.00") {
		t.Errorf("alice's reward history: %q; want one reward of 10.00 from %s for an appointment attended at %s", rows, demo.RewardProgram, mercy.Provider)
	}
	if got := patient.text("[data-program=" + jsString(demo.RewardProgram) + "]"); got != "you are in it" {
		t.Errorf("the program's status on alice's page: %q; want you are in it", got)
	}
	patient.checkPage(shots, "patient-rewards")

	// Alice redeems 4.00 of it to the payer.
	patient.click("#redeem summary")
	patient.do("choose the payer", chromedp.SetValue(chromedp.CSS("#redeem-payer"), demo.Payer))
	patient.fill("#redeem-amount", "4")
	patient.click("#redeem-form button[type=submit]")
	patient.waitFor("the balance after redeeming", `document.querySelector("#balance")?.innerText === "6.00"`)

	aliceKey, err := dir.Load("patient-alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := n.Token(t, admin)
	if bal, err := n.Client.Balance(ctx, n.Token(t, aliceKey), alice); err != nil || bal.Balance != demo.RewardAmount-400 {
		t.Errorf("alice's balance on the chain = %+v, %v; want %d (the reward less the 4.00 redeemed)", bal, err, demo.RewardAmount-400)
	}
	if prog, err := n.Client.Program(ctx, tok, demo.RewardProgram); err != nil || prog.Paid != demo.RewardAmount {
		t.Errorf("the program on the chain = %+v, %v; want %d paid", prog, err, demo.RewardAmount)
	}
	slots, err := n.Client.Slots(ctx, tok, mercy.Provider, mercy.Schedule)
	if err != nil || len(slots.Slots) == 0 || slots.Slots[0].Start != start || slots.Slots[0].State != schedule.Done || slots.Slots[0].Patient != alice {
		t.Errorf("the slot on the chain = %+v, %v; want alice's, attended", slots.Slots, err)
	}
}
