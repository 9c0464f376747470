package web_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/tx"
)

// TestAppointments: a patient funded by a payer finds a clinic's open slots
// on their page, books one with a key kept in the browser (the deposit
// leaves their balance for escrow in the same block), and cancels before the
// deadline (refunded); the chain holds each step as the page showed it.
func TestAppointments(t *testing.T) {
	chromiumPath(t)
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Payer, identity.Provider}, node.Config{})
	payer, clinic := nodes[0], nodes[1]
	send := func(what string, n *nodetest.Node, m contract.Msg) {
		t.Helper()
		if _, err := clinic.Client.Send(t.Context(), n.Admin, contract.Encode(m)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	start := time.Now().Add(2 * time.Hour).Unix()
	send("publish", clinic, schedule.Publish{Provider: "org1", Schedule: "gp", Category: "primary-care", Deposit: 1_000, CancelBefore: 3600})
	send("open", clinic, schedule.OpenSlots{Provider: "org1", Schedule: "gp", Slots: []schedule.SlotSpec{{Start: start, Minutes: 20}, {Start: start + 1800, Minutes: 20}}})
	send("deposit", payer, claims.Deposit{Payer: "org0", Amount: 100_000})

	b := newBrowser(t, clinic.URL)
	alice := b.person("alice")
	me := alice.newPatient("alice")
	addr, err := tx.ParseAddress(me)
	if err != nil {
		t.Fatal(err)
	}
	send("fund alice", payer, ledger.Send{From: "org0", ToPatient: addr, Amount: 3_000})
	balanceIs := func(what, want string) {
		t.Helper()
		alice.waitFor(what, `document.querySelector("#balance")?.innerText === `+jsString(want))
	}
	balanceIs("the funded balance", "30.00")

	alice.fill("#slot-search input[name=provider]", "org1")
	alice.fill("#slot-search input[name=schedule]", "gp")
	alice.click("#slot-search button[type=submit]")
	alice.click("#slot-table button.book")
	alice.waitFor("the booking shown", `document.querySelector("#slot-table")?.innerText.includes("booked by you")`)
	balanceIs("the deposit held", "20.00")
	var slots v1.SlotList
	token := clinic.Token(t, clinic.Admin)
	if status := getJSON(t, clinic.URL+"/v1/schedules/org1/gp/slots", token, &slots); status != http.StatusOK ||
		len(slots.Slots) != 2 || slots.Slots[0].Patient != addr || slots.Slots[0].State != schedule.Booked || slots.Slots[0].Held != 1_000 {
		t.Fatalf("the clinic's slots = %d %+v; want the first booked by alice, 10.00 held", status, slots.Slots)
	}
	alice.checkPage(screens(t), "appointments")

	// Cancelled two hours ahead, before the one-hour deadline: refunded.
	alice.click("#slot-table button.cancel-booking")
	alice.waitFor("the slot free again", `!document.querySelector("#slot-table button.cancel-booking") && document.querySelectorAll("#slot-table button.book").length === 2`)
	balanceIs("the deposit refunded", "30.00")
}
