package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/dataset"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/nodetest"
	"github.com/careledger/careledger/trialreport"
	"github.com/careledger/careledger/tx"
)

// TestTrialOverHTTP runs a trial through the HTTP API of a real node whose
// organization is a research sponsor: an ethics board admitted by
// governance approves the protocol and an amendment, enrollment without
// consent is refused, data capture waits for re-consent, a dataset file is
// checked against its commitment read from the node, and the signed
// outcome-switching report finds the switched outcome offline.
func TestTrialOverHTTP(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t))
	careledger(t, "init", "--home", home, "--http", httpAddr, "--p2p", fmt.Sprintf("127.0.0.1:%d", nodetest.FreePort(t)),
		"--org-id", "acme-research", "--org-type", "research")
	url := "http://" + httpAddr
	p := startNode(t, home)
	c := client.New(url)
	ctx := context.Background()
	waitFor(t, func() bool { h, err := c.Height(ctx); return err == nil && h >= 1 }) // the genesis state committed

	sponsor, board, alice, bob := adminKey(t, home), ed25519.GenPrivKey(), ed25519.GenPrivKey(), ed25519.GenPrivKey()
	send := func(key ed25519.PrivKey, m contract.Msg) tx.Code {
		t.Helper()
		_, err := c.Send(ctx, key, contract.Encode(m))
		var r *tx.Rejection
		if errors.As(err, &r) {
			return r.Code
		}
		if err != nil {
			t.Fatalf("send %T: %v", m, err)
		}
		return tx.CodeOK
	}
	must := func(key ed25519.PrivKey, m contract.Msg) {
		t.Helper()
		if code := send(key, m); code != tx.CodeOK {
			t.Fatalf("%T = %v; want ok", m, code)
		}
	}
	// The node's organization holds all the power: its proposal passes.
	must(sponsor, governance.Propose{Kind: governance.AdmitOrg, Deadline: 10, Org: identity.GenesisOrg{
		ID: "city-irb", Name: "City IRB", Type: identity.Research, Admins: []tx.PubKey{board.PubKey().Bytes()}}})
	must(alice, identity.RegisterPatient{})
	must(bob, identity.RegisterPatient{})

	// The study's commitment is of the HL7 example's canonical JSON.
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "fhir-examples", "resources", "ResearchStudy-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	study, err := fhir.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	const trial = "NCT00000042"
	must(sponsor, trials.Register{Trial: trial, Sponsor: "acme-research", Board: "city-irb",
		Study: sha256.Sum256(study.Canonical()), Protocol: sha256.Sum256([]byte("protocol v1")), SAP: sha256.Sum256([]byte("sap v1")),
		Primary: []string{"hba1c-26w", "weight-26w"}, Secondary: []string{"ae-rate"}})
	must(board, trials.Approve{Trial: trial, Version: 1})
	must(alice, trials.Consent{Trial: trial, Version: 1})
	must(sponsor, trials.Enroll{Trial: trial, Participant: tx.AddressOf(alice.PubKey().Bytes())})
	if code := send(sponsor, trials.Enroll{Trial: trial, Participant: tx.AddressOf(bob.PubKey().Bytes())}); code != tx.CodeUnauthorized {
		t.Fatalf("enroll without consent = %v; want unauthorized", code)
	}

	file := filepath.Join(t.TempDir(), "visit-1.csv")
	os.WriteFile(file, []byte("subject,visit,hba1c_pct\nP-0001,visit-1,7.2\nP-0001,visit-1b,7.0\n"), 0o600)
	f, _ := os.Open(file)
	root, rows, err := dataset.Root(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	participants := []tx.Address{tx.AddressOf(alice.PubKey().Bytes())}
	must(sponsor, trials.CommitData{Trial: trial, Dataset: "visit-1", Root: [32]byte(root), Rows: rows, Version: 1, Participants: participants})

	// Version 2 demotes weight and adds fasting glucose, after capture.
	must(sponsor, trials.Amend{Trial: trial, Protocol: sha256.Sum256([]byte("protocol v2")), SAP: sha256.Sum256([]byte("sap v2")),
		Primary: []string{"fasting-glucose-26w", "hba1c-26w"}, Secondary: []string{"ae-rate", "weight-26w"}})
	must(board, trials.Approve{Trial: trial, Version: 2})
	visit2 := trials.CommitData{Trial: trial, Dataset: "visit-2", Root: sha256.Sum256([]byte("visit 2")), Rows: 2, Version: 2, Participants: participants}
	if code := send(sponsor, visit2); code != tx.CodeUnauthorized {
		t.Fatalf("data of a participant who has not re-consented = %v; want unauthorized", code)
	}
	must(alice, trials.Consent{Trial: trial, Version: 2})
	must(sponsor, visit2)
	// The same through the CLI: a participant's consent with their own
	// key, their enrollment and a dataset committed from its file.
	careledgerEnv(t, home, url, "keys", "new", "carol")
	carol := strings.TrimSpace(careledgerEnv(t, home, url, "keys", "show", "--address", "carol"))
	careledgerEnv(t, home, url, "tx", "register-patient", "--key", "carol")
	careledgerEnv(t, home, url, "tx", "trial-consent", "--key", "carol", "--trial", trial, "--version", "2")
	careledgerEnv(t, home, url, "tx", "trial-enroll", "--key", "admin", "--trial", trial, carol)
	careledgerEnv(t, home, url, "tx", "trial-commit-data", "--key", "admin", "--trial", trial, "--dataset", "visit-3", "--version", "2",
		"--participants", carol+","+participants[0].String(), file)
	var d3 trials.Dataset
	mustJSON(t, careledgerEnv(t, home, url, "query", "trial-dataset", "--key", "admin", trial, "visit-3"), &d3)
	if d3.Root != tx.Hash(root) || d3.Participants != 2 || d3.Version != 2 {
		t.Errorf("query trial-dataset visit-3 = %+v; want the file's root, two participants, version 2", d3)
	}
	must(sponsor, trials.Report{Trial: trial, Result: sha256.Sum256([]byte("results")), Outcomes: []string{"fasting-glucose-26w", "hba1c-26w"}})
	// Recruitment through the CLI: a patient opts in to research contact,
	// the sponsor publishes criteria and reads the counts (none: this node's
	// organization holds no patients' records), the patient reads their
	// invitations here (none).
	careledgerEnv(t, home, url, "trials", "contact", "--key", "carol", "yes")
	careledgerEnv(t, home, url, "trials", "criteria", "--key", "admin", trial, `"44054006" in conditions && lab_in_range(labs, "4548-4", 7.0, 10.0)`)
	var rec struct {
		Criteria []trials.CriteriaRevision
		Counts   []trials.Count
	}
	mustJSON(t, careledgerEnv(t, home, url, "trials", "recruitment", "--key", "admin", trial), &rec)
	if len(rec.Criteria) != 1 || rec.Criteria[0].Version != 2 || len(rec.Counts) != 0 {
		t.Errorf("trials recruitment = %+v; want revision 1 under version 2 and no counts", rec)
	}
	if out := careledgerEnv(t, home, url, "trials", "invitations", "--key", "carol"); !strings.Contains(out, `"invitations": []`) {
		t.Errorf("trials invitations = %s; want none", out)
	}

	// The dataset file checks against the root read from the node.
	env := append(os.Environ(), "CARELEDGER_NODE="+url, "CARELEDGER_KEYS="+filepath.Join(home, "keys"))
	cmd := exec.Command(binary, "verify", "dataset", "--key", "admin", "--trial", trial, "--dataset", "visit-1", file)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "verified: 3 rows") {
		t.Fatalf("verify dataset from the node: %v\n%s", err, out)
	}

	// The report, signed by the node, verifies offline and finds the switch.
	var rep json.RawMessage
	waitFor(t, func() bool {
		var r trialreport.Report
		rep, err = c.TrialReport(ctx, tokenOf(t, c, sponsor), trial)
		return err == nil && json.Unmarshal(rep, &r) == nil && r.Findings != nil && len(r.Findings.Results) == 1
	})
	var shown struct {
		Trial    trials.Trial
		Versions []trials.Version
	}
	mustJSON(t, careledgerEnv(t, home, url, "query", "trial", "--key", "admin", trial), &shown)
	if shown.Trial.InForce != 2 || len(shown.Versions) != 2 || shown.Versions[1].Approver != tx.AddressOf(board.PubKey().Bytes()) {
		t.Errorf("query trial = %+v; want version 2 in force, approved by the board", shown)
	}
	fromCLI := careledgerEnv(t, home, url, "query", "trial-report", "--key", "admin", trial)
	p.stop(t)
	genesis := filepath.Join(home, "config", "genesis.json")
	verify := func(b []byte) (string, error) {
		path := filepath.Join(t.TempDir(), "report.json")
		os.WriteFile(path, b, 0o600)
		out, err := exec.Command(binary, "verify", "trial-report", "--genesis", genesis, path).CombinedOutput()
		return string(out), err
	}
	out, err := verify(rep)
	if err != nil {
		t.Fatalf("verify trial-report: %v\n%s", err, out)
	}
	t.Logf("careledger verify trial-report:\n%s", out)
	for _, want := range []string{"not reported: weight-26w (primary)", "not pre-specified: fasting-glucose-26w",
		`changed after data capture: weight-26w from "primary" in version 1 to "secondary" in version 2`} {
		if !strings.Contains(out, want) {
			t.Errorf("verify trial-report output lacks %q:\n%s", want, out)
		}
	}
	if out, err := verify([]byte(fromCLI)); err != nil {
		t.Errorf("verify trial-report of query trial-report's output: %v\n%s", err, out)
	}
	var r trialreport.Report
	if err := json.Unmarshal(rep, &r); err != nil {
		t.Fatal(err)
	}
	r.Findings.NotReported = slices.DeleteFunc(r.Findings.NotReported, func(f trials.Finding) bool { return f.Outcome == "weight-26w" })
	tampered, _ := json.Marshal(r)
	if out, err := verify(tampered); err == nil || !strings.Contains(out, "NOT VERIFIED") {
		t.Errorf("verify trial-report of a report with a finding removed: %v\n%s; want NOT VERIFIED", err, out)
	}
}
