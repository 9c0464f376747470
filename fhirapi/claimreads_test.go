package fhirapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/identity"
)

// TestClaimReadsAreReceipted: the payer's claims agent reading a
// ClaimResponse, and the patient searching their explanations of
// benefits, each leave a claims.read receipt in the audit log, naming the
// reader, how it relates to the claim and the patient's account, before
// the answer; the clinic's own claims agent reads its claim without one,
// and a stranger is refused and leaves none.
func TestClaimReadsAreReceipted(t *testing.T) {
	n := newClaimsNet(t)
	n.loadPolicy("fee,99213,,100\n")
	k, pid := n.covered("1970-01-01")
	cr := n.submit(claimOf(k, pid, "claim", item("99213", "2024-03-05", 1, "120.00")))
	n.synced(cr)
	receipts := func(want int) []contract.Event {
		t.Helper()
		var got []contract.Event
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got = n.claimReads(k, cr.ID)
			if len(got) >= want || time.Now().After(deadline) {
				return got
			}
		}
	}

	if status, body := n.fhir(n.clinic, n.clinicAgt, "GET", "ClaimResponse/"+cr.ID, nil); status != http.StatusOK {
		t.Fatalf("the clinic's agent reads its ClaimResponse = %d %s", status, body)
	}
	if status, body := n.fhir(n.payer, n.payerAgent, "GET", "ClaimResponse/"+cr.ID, nil); status != http.StatusOK {
		t.Fatalf("the payer's agent reads the ClaimResponse = %d %s", status, body)
	}
	got := receipts(1)
	if len(got) != 1 || got[0].Attr("reader") != addr(n.payerAgent).String() || got[0].Attr("as") != "payer" ||
		got[0].Attr("view") != "ClaimResponse" || got[0].Attr("purpose") != "HPAYMT" || got[0].Attr("node") != payerOrg {
		t.Fatalf("receipts after the clinic's and the payer's reads = %+v; want one, the payer agent's, for payment, by the payer's node", got)
	}

	status, body := n.fhir(n.clinic, k, "GET", "ExplanationOfBenefit?patient="+addr(k).String(), nil)
	if status != http.StatusOK || !json.Valid(body) {
		t.Fatalf("the patient searches their EOBs = %d %s", status, body)
	}
	got = receipts(2)
	if len(got) != 2 || got[1].Attr("reader") != addr(k).String() || got[1].Attr("as") != "patient" ||
		got[1].Attr("view") != "ExplanationOfBenefit" || got[1].Attr("purpose") != "PATRQT" || got[1].Attr("node") != clinicOrg {
		t.Errorf("receipts after the patient's EOB search = %+v; want the patient's read of the EOB added", got)
	}

	stranger := ed25519.GenPrivKey()
	n.send(stranger, identity.RegisterPatient{})
	if status, _ := n.fhir(n.payer, stranger, "GET", "ClaimResponse/"+cr.ID, nil); status != http.StatusForbidden {
		t.Errorf("a stranger reads the ClaimResponse = %d; want 403", status)
	}
	if status, _ := n.fhir(n.clinic, n.clinicAgt, "GET", "ExplanationOfBenefit/"+cr.ID, nil); status != http.StatusOK {
		t.Errorf("the clinic's agent reads the EOB = %d; want 200", status)
	}
	n.synced(n.submit(claimOf(k, pid, "claim", item("99213", "2024-03-06", 1, "120.00")))) // a later block
	if got := n.claimReads(k, cr.ID); len(got) != 2 {
		t.Errorf("receipts after a stranger's and the clinic's reads = %d; want still 2", len(got))
	}
}

// claimReads returns the claims.read events of claim (hex) in the audit
// log of the patient's account, in log order, as the patient lists them.
func (n *claimsNet) claimReads(patient ed25519.PrivKey, claim string) []contract.Event {
	n.t.Helper()
	req, err := http.NewRequest("GET", n.payer.URL+"/v1/audit/events?limit=1000&account="+addr(patient).String(), nil)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token(n.payer, patient))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	var l v1.EventList
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != http.StatusOK {
		n.t.Fatalf("audit events = %d, %v", res.StatusCode, err)
	}
	var out []contract.Event
	for _, e := range l.Events {
		if e.Event.Event.Type == claims.EventRead && e.Event.Event.Attr("claim") == claim {
			out = append(out, e.Event.Event)
		}
	}
	return out
}
