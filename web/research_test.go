package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/demo"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

// demoTrialNode starts a node seeded as `careledger node --demo` seeds it.
func demoTrialNode(t *testing.T) (*nodetest.Node, keys.Dir, []demo.Account) {
	t.Helper()
	n := nodetest.Start(t, demo.InitOptions(node.Config{}))
	dir := keys.Dir(filepath.Join(n.Home, "keys"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	people, err := demo.Seed(ctx, n.Client, dir)
	if err != nil {
		t.Fatalf("seed the demo: %v", err)
	}
	return n, dir, people
}

// TestDemoTrial: the demo registers a trial whose ethics board approved an
// amendment after data capture began, with Alice and Bob enrolled (Bob not
// yet consenting to version 2), a dataset committed and results reported;
// its outcome-switching report finds the switched outcomes; seeding again
// changes nothing.
func TestDemoTrial(t *testing.T) {
	n, dir, _ := demoTrialNode(t)
	ctx := t.Context()
	researcher, err := dir.Load(demo.Researcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := n.Token(t, researcher)
	a, err := n.Client.Trial(ctx, tok, demo.Trial)
	if err != nil {
		t.Fatalf("the demo trial: %v", err)
	}
	if a.Trial.Sponsor != demo.Sponsor || a.Trial.Board != demo.Board || a.Trial.InForce != 2 || len(a.Versions) != 2 || a.Versions[0].Pending() || a.Versions[1].Pending() || a.Trial.Results != 1 {
		t.Errorf("the demo trial: %+v, %d versions; want version 2 of 2 in force, both approved by %s, one results report", a.Trial, len(a.Versions), demo.Board)
	}
	if d, err := n.Client.TrialDataset(ctx, tok, demo.Trial, "visit-1"); err != nil || d.Rows != 3 || d.Participants != 2 {
		t.Errorf("dataset visit-1: %+v, %v; want 3 rows of 2 participants", d, err)
	}
	raw, err := n.Client.TrialReport(ctx, tok, demo.Trial)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ Findings trials.Switching }
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, c := range rep.Findings.Changed {
		changed = append(changed, c.Outcome+":"+c.From+">"+c.To)
	}
	if strings.Join(changed, " ") != "fasting-glucose-26w:>primary weight-26w:primary>secondary" {
		t.Errorf("changed after data capture: %q; want fasting glucose made primary and weight demoted", changed)
	}
	// Bob is enrolled but consented to version 1 only.
	status, body, err := n.Client.FHIR(ctx, client.FHIRRequest{Method: "GET", Path: "ResearchSubject?study=" + demo.Trial, Token: tok})
	if err != nil || status != 200 || strings.Count(string(body), `"status":"on-study"`) != 2 || strings.Count(string(body), `"valueBoolean":true`) != 1 {
		t.Errorf("the demo trial's participants: %d %v %s; want two on study, one to consent again", status, err, body)
	}
	if _, err := demo.Seed(ctx, n.Client, dir); err != nil {
		t.Fatalf("seed again: %v", err)
	}
	if a, err := n.Client.Trial(ctx, tok, demo.Trial); err != nil || len(a.Versions) != 2 {
		t.Errorf("after seeding again: %d versions, %v; want 2", len(a.Versions), err)
	}
}

// TestResearchViews is the trial's people in Chromium against a demo node:
// the sponsor's researcher sees the trial's versions and approvals, its
// enrollment (Bob to consent again), the data commitment and the
// outcome-switching report; after an amendment, the ethics board's chair
// sees it awaiting approval and approves it, signed in the browser; Bob
// consents again to the version now in force and then withdraws; Carol
// consents to the trial from the list of trials open to consent, and the
// researcher enrolls her from the sponsor's view.
func TestResearchViews(t *testing.T) {
	chromiumPath(t)
	n, dir, _ := demoTrialNode(t)
	ctx := t.Context()
	b := newBrowser(t, n.URL)
	shots := screens(t)

	sponsor := b.person("researcher")
	sponsor.signInWithFile(demo.Researcher, dir.Path(demo.Researcher), "")
	sponsor.waitFor("the trials view", `document.getElementById("main").dataset.route === "#/research" && document.querySelector("#trial-report")`)
	rowsOf := func(p *page, sel string) []string {
		return eval[[]string](p, "rows of "+sel, `[...document.querySelectorAll(`+jsString(sel+" tbody tr")+`)].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	}
	if v := rowsOf(sponsor, "#trial-versions"); len(v) != 2 || !strings.Contains(v[1], "fasting-glucose-26w, hba1c-26w") || !strings.Contains(v[1], "approved at block") {
		t.Errorf("the versions: %q; want 2, version 2 approved with fasting glucose primary", v)
	}
	if e := rowsOf(sponsor, "#trial-enrollment"); len(e) != 2 || strings.Count(strings.Join(e, "\n"), "re-consent needed") != 1 {
		t.Errorf("the enrollment: %q; want Alice and Bob, one to consent again", e)
	}
	if d := rowsOf(sponsor, "#trial-datasets"); len(d) != 1 || !strings.HasPrefix(d[0], "visit-1") {
		t.Errorf("the data commitments: %q; want visit-1", d)
	}
	if r := sponsor.text("#trial-report"); !strings.Contains(r, "Changed after data capture: weight-26w from primary in version 1 to secondary in version 2") ||
		!strings.Contains(r, "Not pre-specified: fasting-glucose-26w") {
		t.Errorf("the report: %q; want weight demoted after capture and fasting glucose not pre-specified", r)
	}
	eval[bool](sponsor, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)
	sponsor.checkPage(shots, "research-sponsor")

	// Version 3, proposed by the sponsor, awaits the board.
	researcher, err := dir.Load(demo.Researcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.Send(ctx, researcher, contract.Encode(trials.Amend{Trial: demo.Trial, Protocol: sha256.Sum256([]byte("v3")), SAP: sha256.Sum256([]byte("sap v3")),
		Primary: []string{"fasting-glucose-26w", "hba1c-26w"}, Secondary: []string{"ae-rate", "bmi-26w", "weight-26w"}})); err != nil {
		t.Fatalf("amend: %v", err)
	}
	chair := b.person("board chair")
	chair.signInWithFile(demo.BoardChair, dir.Path(demo.BoardChair), "")
	chair.goTo("#/research")
	if p := rowsOf(chair, "#board-pending"); len(p) != 1 || !strings.Contains(p[0], demo.Trial+" 3") {
		chair.fail("awaiting approval", fmt.Errorf("%q; want version 3", p))
	}
	eval[bool](chair, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)
	chair.checkPage(shots, "research-board")
	chair.click("#board-pending button.approve")
	chair.waitFor("the approval", `document.querySelector("#board-pending")?.innerText.includes("none") && document.querySelector("#board-approved")?.innerText.includes("bmi-26w")`)
	if a, err := n.Client.Trial(ctx, n.Token(t, researcher), demo.Trial); err != nil || a.Trial.InForce != 3 {
		t.Fatalf("after the approval in the browser: %+v, %v; want version 3 in force", a.Trial, err)
	}

	// Bob consents again, then withdraws.
	bob := b.person("bob")
	bob.signInWithFile("patient-bob", dir.Path("patient-bob"), "")
	bob.goTo("#/research")
	if r := rowsOf(bob, "#my-trials-body"); len(r) != 1 || !strings.Contains(r[0], "consent again before your data is captured") {
		t.Fatalf("Bob's trials: %q; want the demo trial, to consent again", r)
	}
	eval[bool](bob, "clear the status line", `(document.getElementById("status").replaceChildren(), true)`)
	bob.checkPage(shots, "research-participant")
	bob.click("#my-trials-body button.consent")
	bob.waitFor("the consent", `document.querySelector("#my-trials-body")?.innerText.includes("your consent covers it")`)
	eval[bool](bob, "accept the confirmation", `(window.confirm = () => true, true)`)
	bob.click("#my-trials-body button.withdraw")
	bob.waitFor("the withdrawal", `document.querySelector("#my-trials-body")?.innerText.includes("withdrawn")`)
	status, body, err := n.Client.FHIR(ctx, client.FHIRRequest{Method: "GET", Path: "ResearchSubject?status=withdrawn&study=" + demo.Trial, Token: n.Token(t, researcher)})
	if err != nil || status != 200 || strings.Count(string(body), `"status":"withdrawn"`) != 1 || !strings.Contains(string(body), `"valueUnsignedInt":3`) {
		t.Errorf("Bob after the page: %d %v %s; want withdrawn, having consented to version 3", status, err, body)
	}

	// Carol consents from the trials open to consent.
	carol := b.person("carol")
	carol.signInWithFile("patient-carol", dir.Path("patient-carol"), "")
	carol.goTo("#/research")
	if r := rowsOf(carol, "#open-trials-body"); len(r) != 1 || !strings.Contains(r[0], demo.Trial) {
		t.Fatalf("trials open to Carol: %q; want the demo trial", r)
	}
	carol.click("#open-trials-body button.consent")
	carol.waitFor("the consent", `document.querySelector("#my-trials-body")?.innerText.includes("consented, not yet enrolled")`)

	// The researcher enrolls her from the sponsor's view.
	sponsor.goTo("#/research?trial=" + demo.Trial)
	if e := rowsOf(sponsor, "#trial-enrollment"); len(e) != 3 || strings.Count(strings.Join(e, "\n"), "pending-on-study") != 1 {
		t.Fatalf("the enrollment after Carol's consent: %q; want her pending", e)
	}
	sponsor.click("#trial-enrollment button.enroll")
	sponsor.waitFor("the enrollment", `document.querySelector("#trial-enrollment") && !document.querySelector("#trial-enrollment button.enroll") && !document.querySelector("#trial-enrollment").innerText.includes("pending-on-study")`)
	status, body, err = n.Client.FHIR(ctx, client.FHIRRequest{Method: "GET", Path: "ResearchSubject?status=on-study&study=" + demo.Trial, Token: n.Token(t, researcher)})
	if err != nil || status != 200 || strings.Count(string(body), `"status":"on-study"`) != 2 {
		t.Errorf("after the enrollment in the browser: %d %v %s; want Alice and Carol on study", status, err, body)
	}
}
