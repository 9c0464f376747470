package web_test

import (
	"context"
	"fmt"
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
// --demo` seeds it: Alice chooses Mercy's demo schedule on her page and
// books two check-ups; Dr Adams sees them among his hospital's booked
// appointments on the clinician view and, once they have started, marks
// the first attended, which attests it to the demo payer's program in the
// same transaction, signed in his browser, and the second a no-show.
// Alice's page shows the reward, its history entry, the program she is now
// in and the 10.00 it holds for her (the demo program redeems to the payer
// alone, so her balance does not move); redeeming more than that is
// refused and changes nothing, and she redeems 4.00 to the payer. The
// chain holds each step as the pages showed it.
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

	// Two check-ups that start soon, beside the demo's slots of the coming
	// days: the earliest slots of the schedule, so the first to book.
	admin, err := dir.Load("admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(20 * time.Second).Unix()
	if _, err := n.Client.Send(ctx, admin, contract.Encode(schedule.OpenSlots{Provider: mercy.Provider, Schedule: mercy.Schedule,
		Slots: []schedule.SlotSpec{{Start: start, Minutes: demo.SlotMinutes}, {Start: start + 1, Minutes: demo.SlotMinutes}}})); err != nil {
		t.Fatalf("open a slot: %v", err)
	}
	patient.click("#schedule-choices button[data-provider=" + jsString(mercy.Provider) + "][data-schedule=" + jsString(mercy.Schedule) + "]")
	patient.click("#slot-table button.book")
	patient.waitFor("the first booking shown", `document.querySelectorAll("#slot-table button.cancel-booking").length === 1`)
	patient.click("#slot-table button.book")
	patient.waitFor("the second booking shown", `document.querySelectorAll("#slot-table button.cancel-booking").length === 2`)

	clinician := b.person("dr-adams")
	clinician.signInWithFile("dr-adams", dir.Path("dr-adams"), "")
	clinician.waitFor("the clinician view", `document.getElementById("main").dataset.route.startsWith("#/clinician")`)
	clinician.waitFor("alice's bookings on the schedule", `document.querySelectorAll("#appointment-table .state").length === 2 && document.querySelector("#attest-programs")?.innerText.includes(`+jsString(demo.RewardProgram)+`)`)
	free := eval[int](clinician, "the free slots", `document.querySelectorAll("[data-schedule='checkups'] tbody tr").length`)
	if want := demo.SlotDays*len(demo.SlotHours) + 2; free != want {
		t.Errorf("the clinician sees %d slots of checkups; want %d (the demo's and the test's)", free, want)
	}
	clinician.checkPage(shots, "clinician-schedule")

	// Once the slots have started, the view offers to mark them: the first
	// attended, the second a no-show.
	state := func(start int64) string {
		return fmt.Sprintf(`document.querySelector("#appointment-table .state[data-start='%d']")?.innerText`, start)
	}
	clinician.click(fmt.Sprintf("#appointment-table button.attended[data-start='%d']", start))
	clinician.waitFor("the first appointment attended", state(start)+` === "attended"`)
	clinician.click(fmt.Sprintf("#appointment-table button.no-show[data-start='%d']", start+1))
	clinician.waitFor("the second a no-show", state(start+1)+` === "no-show"`)

	held := "[data-held=" + jsString(demo.RewardProgram) + "]"
	patient.waitFor("the reward shown, held", `document.querySelector("#rewards-total")?.innerText === "10.00" && document.querySelector(`+jsString(held)+`)?.innerText === "10.00"`)
	if got := patient.text("#balance"); got != "0.00" {
		t.Errorf("alice's balance after a held reward: %q; want 0.00 (the program holds the reward for her to redeem)", got)
	}
	rows := eval[[]string](patient, "the reward history", `[...document.querySelectorAll("#reward-history tbody tr")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	if len(rows) != 1 || !strings.Contains(rows[0], demo.RewardProgram) || !strings.Contains(rows[0], "appointment attended") ||
		!strings.Contains(rows[0], mercy.Provider) || !strings.Contains(rows[0], "+10.00") {
		t.Errorf("alice's reward history: %q; want one reward of 10.00 from %s for an appointment attended at %s", rows, demo.RewardProgram, mercy.Provider)
	}
	if got := patient.text("[data-program=" + jsString(demo.RewardProgram) + "]"); got != "you are in it" {
		t.Errorf("the program's status on alice's page: %q; want you are in it", got)
	}
	patient.click("#redeem summary")
	if got := eval[[]string](patient, "the organizations to redeem to", `[...document.querySelectorAll("#redeem-to option")].map((o) => o.value)`); len(got) != 1 || got[0] != demo.Payer {
		t.Errorf("alice may redeem demo-checkups to %q; want %s alone", got, demo.Payer)
	}
	patient.checkPage(shots, "patient-rewards")

	aliceKey, err := dir.Load("patient-alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	payerKey, err := dir.Load("acme-health-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceTok, payerTok := n.Token(t, aliceKey), n.Token(t, payerKey)
	payerBefore, err := n.Client.LedgerAccount(ctx, payerTok, demo.Payer)
	if err != nil {
		t.Fatalf("the payer's account: %v", err)
	}

	// More than the program holds is refused, and nothing changes.
	patient.do("choose the program", chromedp.SetValue(chromedp.CSS("#redeem-program"), demo.RewardProgram))
	patient.do("choose the payer", chromedp.SetValue(chromedp.CSS("#redeem-to"), demo.Payer))
	patient.fill("#redeem-amount", "50")
	patient.click("#redeem-form button[type=submit]")
	patient.waitFor("the overdraft refused", `document.querySelector("#status p.error")`)
	if got := patient.text("#status p.error"); !strings.Contains(got, "holds 10.00") {
		t.Errorf("the refusal says %q; want what the program holds, 10.00", got)
	}
	if got, err := n.Client.Rewarded(ctx, aliceTok, demo.RewardProgram, alice); err != nil || got.Held != demo.RewardAmount {
		t.Errorf("what the program holds for alice after a refused redemption = %+v, %v; want %d", got, err, demo.RewardAmount)
	}
	if acct, err := n.Client.LedgerAccount(ctx, payerTok, demo.Payer); err != nil || acct.Balance != payerBefore.Balance {
		t.Errorf("the payer's account after a refused redemption = %+v, %v; want %d, unchanged", acct, err, payerBefore.Balance)
	}

	// 4.00 to the payer, against a co-pay.
	patient.fill("#redeem-amount", "4")
	patient.click("#redeem-form button[type=submit]")
	patient.waitFor("the held amount after redeeming", `document.querySelector(`+jsString(held)+`)?.innerText === "6.00" && document.querySelector("#rewards-held")?.innerText === "6.00"`)
	if got := patient.text("#rewards-total"); got != "10.00" {
		t.Errorf("the rewards received after redeeming: %q; want 10.00, unchanged", got)
	}

	tok := n.Token(t, admin)
	if got, err := n.Client.Rewarded(ctx, aliceTok, demo.RewardProgram, alice); err != nil || got.Total != demo.RewardAmount || got.Held != demo.RewardAmount-400 {
		t.Errorf("what the program rewarded alice on the chain = %+v, %v; want %d, %d of it held (4.00 redeemed)", got, err, demo.RewardAmount, demo.RewardAmount-400)
	}
	if acct, err := n.Client.LedgerAccount(ctx, payerTok, demo.Payer); err != nil || acct.Balance != payerBefore.Balance+400 {
		t.Errorf("the payer's account after the redemption = %+v, %v; want %d (4.00 more)", acct, err, payerBefore.Balance+400)
	}
	if bal, err := n.Client.Balance(ctx, aliceTok, alice); err != nil || bal.Balance != 0 {
		t.Errorf("alice's balance on the chain = %+v, %v; want 0 (the reward was held, then redeemed to the payer)", bal, err)
	}
	if prog, err := n.Client.Program(ctx, tok, demo.RewardProgram); err != nil || prog.Paid != demo.RewardAmount {
		t.Errorf("the program on the chain = %+v, %v; want %d paid", prog, err, demo.RewardAmount)
	}
	slots, err := n.Client.Slots(ctx, tok, mercy.Provider, mercy.Schedule)
	if err != nil || len(slots.Slots) < 2 || slots.Slots[0].State != schedule.Done || slots.Slots[1].State != schedule.Missed || slots.Slots[0].Patient != alice {
		t.Errorf("the slots on the chain = %+v, %v; want alice's first attended, her second a no-show", slots.Slots, err)
	}
}
