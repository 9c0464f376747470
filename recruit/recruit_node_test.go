package recruit_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/recruit"
	"github.com/careledger/careledger/tx"
)

// The network: org0 sponsors the trial, org1 and org2 hold patients'
// records (org1's admins are also the trial's ethics board).
const (
	sponsorOrg = "org0"
	clinicA    = "org1"
	clinicB    = "org2"
	trialID    = "NCT05550001"
)

// rule: adults of 40 to 69 with type 2 diabetes (SNOMED CT 44054006) on
// metformin (RxNorm 860975) whose latest HbA1c (LOINC 4548-4) is 7 to 10 %.
const rule = `age_band in ["40-49", "50-59", "60-69"] && "44054006" in conditions && ` +
	`"860975" in medications && lab_in_range(labs, "4548-4", 7.0, 10.0)`

type network struct {
	t                       *testing.T
	sponsor, nodeA, nodeB   *nodetest.Node
	researcher              ed25519.PrivKey
	alice, bob, carol, dave ed25519.PrivKey
	tokens                  map[string]string
}

func addr(k ed25519.PrivKey) tx.Address { return tx.AddressOf(k.PubKey().Bytes()) }

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func code(system, c string) map[string]any {
	return obj("coding", []any{obj("system", system, "code", c)})
}

// send signs msgs with key at the sponsor's node, waits for the commit and
// for both clinics' nodes to have its block.
func (n *network) send(key ed25519.PrivKey, msgs ...contract.Msg) tx.Code {
	n.t.Helper()
	var raw []tx.Msg
	for _, m := range msgs {
		raw = append(raw, contract.Encode(m))
	}
	ans, err := n.sponsor.Client.Send(context.Background(), key, raw...)
	if err != nil {
		var rej *tx.Rejection
		if !errors.As(err, &rej) {
			n.t.Fatalf("send %T: %v", msgs[0], err)
		}
		return rej.Code
	}
	nodetest.WaitHeight(n.t, n.nodeA.Client, ans.Height)
	nodetest.WaitHeight(n.t, n.nodeB.Client, ans.Height)
	return ans.Code
}

func (n *network) must(key ed25519.PrivKey, msgs ...contract.Msg) {
	n.t.Helper()
	if code := n.send(key, msgs...); code != tx.CodeOK {
		n.t.Fatalf("%T = %v; want ok", msgs[0], code)
	}
}

func (n *network) token(at *nodetest.Node, k ed25519.PrivKey) string {
	key := at.URL + string(k)
	if tok, ok := n.tokens[key]; !ok {
		n.tokens[key] = at.Token(n.t, k)
	} else {
		return tok
	}
	return n.tokens[key]
}

// do sends an HTTP request as who and returns the status and body.
func (n *network) do(at *nodetest.Node, who ed25519.PrivKey, method, path string, body any, headers ...string) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, at.URL+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token(at, who))
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// file stores a patient's records at a clinic: their Patient resource and,
// if diabetic, the condition, metformin and an HbA1c of hba1c taken 30
// days ago.
func (n *network) file(at *nodetest.Node, k ed25519.PrivKey, id, birthDate string, diabetic bool, hba1c string) {
	n.t.Helper()
	put := func(path string, res map[string]any) {
		n.t.Helper()
		if status, body := n.do(at, at.Admin, "PUT", "/fhir/"+path, res); status != http.StatusCreated {
			n.t.Fatalf("PUT %s = %d %s", path, status, body)
		}
	}
	subject := obj("reference", "Patient/"+id)
	put("Patient/"+id, obj("resourceType", "Patient", "id", id, "birthDate", birthDate, "gender", "female",
		"identifier", []any{obj("system", custodian.PatientSystem, "value", addr(k).String())}))
	if diabetic {
		put("Condition/"+id+"-dm", obj("resourceType", "Condition", "id", id+"-dm", "subject", subject,
			"code", code("http://snomed.info/sct", "44054006")))
		put("MedicationRequest/"+id+"-met", obj("resourceType", "MedicationRequest", "id", id+"-met", "status", "active",
			"intent", "order", "subject", subject, "medicationCodeableConcept", code("http://www.nlm.nih.gov/research/umls/rxnorm", "860975")))
	}
	taken := time.Now().AddDate(0, 0, -30).UTC().Format(time.RFC3339)
	put("Observation/"+id+"-a1c", obj("resourceType", "Observation", "id", id+"-a1c", "status", "final", "subject", subject,
		"code", code("http://loinc.org", "4548-4"), "effectiveDateTime", taken,
		"valueQuantity", obj("value", json.Number(hba1c), "unit", "%")))
}

// stream collects the Server-Sent Events of GET /v1/events (with query) as
// who at a node, until the test ends.
type stream struct {
	mu   sync.Mutex
	text strings.Builder
}

func (s *stream) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.text.String() }

func (n *network) listen(at *nodetest.Node, who ed25519.PrivKey, query string) *stream {
	n.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", at.URL+"/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+n.token(at, who))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		n.t.Fatalf("GET /v1/events%s: %v %v", query, err, res)
	}
	s := &stream{}
	sc := bufio.NewScanner(res.Body)
	line := make(chan struct{})
	go func() {
		defer res.Body.Close()
		first := true
		for sc.Scan() {
			if first {
				close(line)
				first = false
			}
			s.mu.Lock()
			s.text.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	<-line // connected
	return s
}

func newNet(t *testing.T) *network {
	nodes := nodetest.TestnetOf(t, []identity.OrgType{identity.Research, identity.Provider, identity.Provider}, node.Config{})
	n := &network{t: t, sponsor: nodes[0], nodeA: nodes[1], nodeB: nodes[2], researcher: ed25519.GenPrivKey(),
		alice: ed25519.GenPrivKey(), bob: ed25519.GenPrivKey(), carol: ed25519.GenPrivKey(), dave: ed25519.GenPrivKey(), tokens: map[string]string{}}
	n.must(n.sponsor.Admin, identity.RegisterMember{Org: sponsorOrg, PubKey: n.researcher.PubKey().Bytes(), Roles: []identity.Role{identity.Researcher}})
	for _, k := range []ed25519.PrivKey{n.alice, n.bob, n.carol, n.dave} {
		n.must(k, identity.RegisterPatient{})
	}
	// At clinic A: alice and bob match, carol has no diabetes. At clinic
	// B: dave matches. Bob never opts in to be contacted.
	n.file(n.nodeA, n.alice, "alice", "1968-04-02", true, "8.1")
	n.file(n.nodeA, n.bob, "bob", "1972-09-30", true, "7.9")
	n.file(n.nodeA, n.carol, "carol", "1965-01-15", false, "5.2")
	n.file(n.nodeB, n.dave, "dave", "1959-11-11", true, "9.4")
	for _, k := range []ed25519.PrivKey{n.alice, n.carol, n.dave} {
		n.must(k, trials.Contact{OptIn: true})
	}
	n.must(n.researcher, trials.Register{Trial: trialID, Sponsor: sponsorOrg, Board: clinicA,
		Study: sha256.Sum256([]byte("study")), Protocol: sha256.Sum256([]byte("protocol v1")), SAP: sha256.Sum256([]byte("sap v1")),
		Primary: []string{"hba1c-26w"}})
	n.must(n.nodeA.Admin, trials.Approve{Trial: trialID, Version: 1})
	return n
}

// counts waits until both clinics published a count of revision rev and
// returns the recruitment the sponsor reads.
func (n *network) counts(rev uint64) (map[string]uint64, []byte) {
	n.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := n.do(n.sponsor, n.researcher, "GET", "/v1/trials/"+trialID+"/recruitment", nil)
		if status != http.StatusOK {
			n.t.Fatalf("recruitment = %d %s", status, body)
		}
		var ans struct {
			Counts []trials.Count
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			n.t.Fatal(err)
		}
		got := map[string]uint64{}
		for _, c := range ans.Counts {
			if c.Revision == rev {
				got[c.Custodian] = c.Matched
			}
		}
		if len(got) == 2 {
			return got, body
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("counts of revision %d: %s; want both clinics'", rev, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *network) invitations(at *nodetest.Node, k ed25519.PrivKey) []recruit.Invitation {
	n.t.Helper()
	status, body := n.do(at, k, "GET", "/v1/patients/"+addr(k).String()+"/invitations", nil)
	if status != http.StatusOK {
		n.t.Fatalf("invitations = %d %s", status, body)
	}
	var ans struct{ Invitations []recruit.Invitation }
	if err := json.Unmarshal(body, &ans); err != nil {
		n.t.Fatal(err)
	}
	return ans.Invitations
}

// TestRecruitThroughTwoCustodians: the sponsor's criteria commit; each
// clinic's node evaluates them over its own opted-in patients, tells the
// matching ones on their own stream and in their invitations, and
// publishes only a count; the sponsor reads the counts and no patient; a
// patient who did not opt in, or did not match, is told nothing and shows
// nowhere; the sponsor learns who alice is only when she consents.
func TestRecruitThroughTwoCustodians(t *testing.T) {
	n := newNet(t)
	aliceStream := n.listen(n.nodeA, n.alice, "")
	sponsorStream := n.listen(n.nodeA, n.researcher, "") // every event
	if status, _ := n.do(n.nodeA, n.carol, "GET", "/v1/events?account="+addr(n.alice).String(), nil); status != http.StatusForbidden {
		t.Errorf("carol's stream of alice's events = %d; want 403", status)
	}

	n.must(n.researcher, trials.Criteria{Trial: trialID, Rule: rule})
	got, body := n.counts(1)
	if got[clinicA] != 1 || got[clinicB] != 1 {
		t.Errorf("counts = %v; want 1 at each clinic (alice, dave)", got)
	}
	for name, k := range map[string]ed25519.PrivKey{"alice": n.alice, "bob": n.bob, "carol": n.carol, "dave": n.dave} {
		if bytes.Contains(body, []byte(addr(k).String())) {
			t.Errorf("the sponsor's recruitment names %s: %s", name, body)
		}
	}

	// Invitations: each at the custodian that evaluated, to the patient.
	if inv := n.invitations(n.nodeA, n.alice); len(inv) != 1 || inv[0].Trial != trialID || inv[0].Custodian != clinicA || inv[0].Revision != 1 {
		t.Errorf("alice's invitations at clinic A = %+v; want trial %s, revision 1", inv, trialID)
	}
	if inv := n.invitations(n.nodeB, n.dave); len(inv) != 1 || inv[0].Custodian != clinicB {
		t.Errorf("dave's invitations at clinic B = %+v; want one from %s", inv, clinicB)
	}
	for name, k := range map[string]ed25519.PrivKey{"bob (not opted in)": n.bob, "carol (no match)": n.carol} {
		if inv := n.invitations(n.nodeA, k); len(inv) != 0 {
			t.Errorf("%s's invitations = %+v; want none", name, inv)
		}
	}
	if inv := n.invitations(n.nodeB, n.alice); len(inv) != 0 {
		t.Errorf("alice's invitations at clinic B, which holds none of her records = %+v; want none", inv)
	}
	// Nobody else reads alice's invitations: not the sponsor, not another
	// patient.
	for name, k := range map[string]ed25519.PrivKey{"the sponsor's researcher": n.researcher, "carol": n.carol} {
		if status, _ := n.do(n.nodeA, k, "GET", "/v1/patients/"+addr(n.alice).String()+"/invitations", nil); status != http.StatusForbidden {
			t.Errorf("alice's invitations as %s = %d; want 403", name, status)
		}
	}

	// The notice reaches alice's own stream only.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(aliceStream.String(), "event: "+recruit.EventInvitation) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := aliceStream.String(); !strings.Contains(s, "event: "+recruit.EventInvitation) || !strings.Contains(s, trialID) {
		t.Errorf("alice's stream has no invitation:\n%s", s)
	}
	if s := sponsorStream.String(); strings.Contains(s, recruit.EventInvitation) || !strings.Contains(s, trials.EventCount) {
		t.Errorf("the sponsor's stream of every event: has the count %v, carries an invitation %v; want the count only:\n%s",
			strings.Contains(s, trials.EventCount), strings.Contains(s, recruit.EventInvitation), s)
	}

	// Re-evaluating on demand is a clinic's own: the sponsor may not.
	if status, body := n.do(n.nodeA, n.researcher, "POST", "/v1/trials/"+trialID+"/recruit", nil); status != http.StatusForbidden {
		t.Errorf("POST recruit as the sponsor = %d %s; want 403", status, body)
	}
	// Bob opts in; clinic A's admin evaluates again: two now, and alice is
	// not told twice.
	n.must(n.bob, trials.Contact{OptIn: true})
	status, body := n.do(n.nodeA, n.nodeA.Admin, "POST", "/v1/trials/"+trialID+"/recruit", nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"matched": 2`)) {
		t.Errorf("POST recruit at clinic A = %d %s; want 2 matched", status, body)
	}
	if inv := n.invitations(n.nodeA, n.bob); len(inv) != 1 {
		t.Errorf("bob's invitations after opting in = %+v; want one", inv)
	}
	if c := strings.Count(aliceStream.String(), "event: "+recruit.EventInvitation); c != 1 {
		t.Errorf("alice was told %d times; want once", c)
	}

	// Until alice consents, the sponsor cannot enroll her (nor knows her).
	if code := n.send(n.researcher, trials.Enroll{Trial: trialID, Participant: addr(n.alice)}); code != tx.CodeUnauthorized {
		t.Errorf("enroll before consent = %v; want unauthorized", code)
	}
	n.must(n.alice, trials.Consent{Trial: trialID, Version: 1})
	n.must(n.researcher, trials.Enroll{Trial: trialID, Participant: addr(n.alice)})
}

// TestResearchReadsNeedEnrollment: a research read (purpose HRESCH) of
// alice's records at clinic A, with her grant to the sponsor, is refused
// before she is enrolled, permitted while she is enrolled and consented to
// the version in force, refused after an amendment comes into force until
// she consents again, and refused after she withdraws; each read, permitted
// or not, is a receipt on the chain.
func TestResearchReadsNeedEnrollment(t *testing.T) {
	n := newNet(t)
	n.must(n.alice, consent.Grant{Patient: addr(n.alice), Grantee: consent.Grantee{Org: sponsorOrg},
		Scope: consent.Scope{Types: []string{"Observation"}}, Purposes: []string{"HRESCH"}})
	read := func() int {
		t.Helper()
		status, _ := n.do(n.nodeA, n.researcher, "GET", "/fhir/Observation/alice-a1c", nil, "X-Purpose-Of-Use", "HRESCH")
		return status
	}
	step := func(what string, want int) {
		t.Helper()
		if got := read(); got != want {
			t.Errorf("research read %s = %d; want %d", what, got, want)
		}
	}
	step("with a grant, before enrollment", http.StatusForbidden)
	n.must(n.alice, trials.Consent{Trial: trialID, Version: 1})
	step("consented, not enrolled", http.StatusForbidden)
	n.must(n.researcher, trials.Enroll{Trial: trialID, Participant: addr(n.alice)})
	step("enrolled and consented", http.StatusOK)

	n.must(n.researcher, trials.Amend{Trial: trialID, Protocol: sha256.Sum256([]byte("protocol v2")), SAP: sha256.Sum256([]byte("sap v2")),
		Primary: []string{"hba1c-26w"}, Secondary: []string{"weight-26w"}})
	step("amendment pending", http.StatusOK)
	n.must(n.nodeA.Admin, trials.Approve{Trial: trialID, Version: 2})
	step("version 2 in force, before re-consent", http.StatusForbidden)
	n.must(n.alice, trials.Consent{Trial: trialID, Version: 2})
	step("after re-consent", http.StatusOK)
	n.must(n.alice, trials.Withdraw{Trial: trialID, Participant: addr(n.alice)})
	step("after withdrawal", http.StatusForbidden)
	// A treatment read by the sponsor's researcher is not research: the
	// grant names HRESCH only.
	if status, _ := n.do(n.nodeA, n.researcher, "GET", "/fhir/Observation/alice-a1c", nil, "X-Purpose-Of-Use", "TREAT"); status != http.StatusForbidden {
		t.Errorf("TREAT read by the researcher = %d; want 403", status)
	}

	// Every research read left a decision on alice's account: 7 reads, 3
	// permitted.
	txs, err := n.nodeA.Client.AccountTxs(context.Background(), n.token(n.nodeA, n.alice), addr(n.alice), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(txs) // oldest first
	var outcomes []string
	for _, r := range txs {
		for _, e := range r.Events {
			if e.Type != consent.EventAccess {
				continue
			}
			var purpose, outcome string
			for _, a := range e.Attrs {
				switch a.Key {
				case "purpose":
					purpose = a.Value
				case "outcome":
					outcome = a.Value
				}
			}
			if purpose == "HRESCH" {
				outcomes = append(outcomes, outcome)
			}
		}
	}
	if want := "deny deny permit permit deny permit deny"; strings.Join(outcomes, " ") != want {
		t.Errorf("alice's research receipts = %v; want %s", outcomes, want)
	}
}
