package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/dataset"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// The demo's clinical trial: Acme Research sponsors it, Mercy's ethics
// board (its IRB, whose chair is an auditor of Mercy) approves its
// protocol versions. Alice and Bob consent to version 1 and are enrolled;
// a first visit's data is committed; an amendment (version 2) makes
// fasting glucose primary and weight secondary, after data capture began,
// and the board approves it; Alice consents again, Bob has not yet; the
// results report fasting glucose and HbA1c. The trial's outcome-switching
// report then shows a switched outcome. Everything is made up.
const (
	Sponsor = "acme-research"
	// Researcher is the sponsor's researcher, Board the ethics board and
	// BoardChair its member who approves.
	Researcher = "researcher"
	Board      = "mercy-hospital"
	BoardChair = "irb-chair"
	// Trial is the demo trial's ID.
	Trial = "DEMO-2026-001"
)

// StudyResource is the demo trial's FHIR ResearchStudy, whose commitment
// the registration holds.
func StudyResource() []byte {
	b, _ := json.Marshal(map[string]any{
		"resourceType": "ResearchStudy", "id": Trial, "status": "active",
		"title":       "Demo: a lifestyle programme and glycaemic control in prediabetes",
		"description": "A made-up trial of the CareLedger demo: nothing in it is real.",
		"phase":       map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/research-study-phase", "code": "phase-2"}}},
		"condition":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "15777000", "display": "Prediabetes"}}}},
	})
	return b
}

// visit1 is the demo's first dataset: a CSV file, its header as row 0,
// with the participants' study pseudonyms (never their accounts).
const visit1 = "subject,visit,hba1c_pct,weight_kg\nS-001,visit-1,6.1,82.4\nS-002,visit-1,6.3,91.0\n"

// trialSteps returns the demo trial's transactions in order: each
// signer's key name and messages.
func trialSteps(alice, bob tx.Address) ([]trialStep, error) {
	study, err := fhir.Parse(StudyResource())
	if err != nil {
		return nil, err
	}
	root, rows, err := dataset.Root(bytes.NewReader([]byte(visit1)))
	if err != nil {
		return nil, err
	}
	participants := []tx.Address{alice, bob}
	slices.SortFunc(participants, func(a, b tx.Address) int { return bytes.Compare(a[:], b[:]) })
	doc := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	return []trialStep{
		{Researcher, []contract.Msg{trials.Register{Trial: Trial, Sponsor: Sponsor, Board: Board, Study: sha256.Sum256(study.Canonical()),
			Protocol: doc("demo protocol v1"), SAP: doc("demo analysis plan v1"),
			Primary: []string{"hba1c-26w", "weight-26w"}, Secondary: []string{"ae-rate"}}}},
		{BoardChair, []contract.Msg{trials.Approve{Trial: Trial, Version: 1}}},
		{"patient-alice", []contract.Msg{trials.Consent{Trial: Trial, Version: 1}}},
		{"patient-bob", []contract.Msg{trials.Consent{Trial: Trial, Version: 1}}},
		{Researcher, []contract.Msg{
			trials.Enroll{Trial: Trial, Participant: alice}, trials.Enroll{Trial: Trial, Participant: bob},
			trials.CommitData{Trial: Trial, Dataset: "visit-1", Root: [32]byte(root), Rows: rows, Version: 1, Participants: participants},
			trials.Amend{Trial: Trial, Protocol: doc("demo protocol v2"), SAP: doc("demo analysis plan v2"),
				Primary: []string{"fasting-glucose-26w", "hba1c-26w"}, Secondary: []string{"ae-rate", "weight-26w"}}}},
		{BoardChair, []contract.Msg{trials.Approve{Trial: Trial, Version: 2}}},
		{"patient-alice", []contract.Msg{trials.Consent{Trial: Trial, Version: 2}}},
		{Researcher, []contract.Msg{trials.Report{Trial: Trial, Result: doc("demo results"), Outcomes: []string{"fasting-glucose-26w", "hba1c-26w"}}}},
	}, nil
}

type trialStep struct {
	key  string
	msgs []contract.Msg
}

// seedTrials runs the demo trial unless it is registered already.
func seedTrials(ctx context.Context, c *client.Client, dir keys.Dir, people []Account) error {
	researcher, err := dir.Load(Researcher, nil)
	if err != nil {
		return fmt.Errorf("demo researcher key: %w", err)
	}
	tok, err := c.Token(ctx, researcher)
	if err != nil {
		return err
	}
	if _, err := c.Trial(ctx, tok, Trial); err == nil {
		return nil
	} else if !client.IsCode(err, tx.CodeNotFound) {
		return err
	}
	addrs := map[string]tx.Address{}
	for _, p := range people {
		addrs[p.Key] = p.Address
	}
	steps, err := trialSteps(addrs["patient-alice"], addrs["patient-bob"])
	if err != nil {
		return err
	}
	for _, st := range steps {
		key, err := dir.Load(st.key, nil)
		if err != nil {
			return fmt.Errorf("demo key: %w", err)
		}
		if err := sendAll(ctx, c, key, st.msgs); err != nil {
			return fmt.Errorf("demo trial as %s: %w", st.key, err)
		}
	}
	return nil
}

func sendAll(ctx context.Context, c *client.Client, key ed25519.PrivKey, msgs []contract.Msg) error {
	encoded := make([]tx.Msg, len(msgs))
	for i, m := range msgs {
		encoded[i] = contract.Encode(m)
	}
	_, err := c.Send(ctx, key, encoded...)
	return err
}
