package apptest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// trialsModel is the script generator's picture of one trial: OrgD sponsors
// it and OrgA is its ethics board.
type trialsModel struct {
	registered bool
	pending    bool   // a version awaits approval
	versions   uint64 // proposed so far
	inForce    uint64
	datasets   int
	results    int
	people     []*trialParticipant // in the order they first consented
	criteria   uint64              // criteria revisions published
	optedIn    map[*modelAccount]bool
}

type trialParticipant struct {
	acct      *modelAccount
	consented uint64
	enrolled  bool
	withdrawn bool
}

const scriptTrial = "NCT00000042"

// scriptOutcomes are the outcomes of version v: version 2 on demotes
// weight and adds fasting glucose.
func scriptOutcomes(v uint64) (primary, secondary []string) {
	if v == 1 {
		return []string{"hba1c-26w", "weight-26w"}, []string{"ae-rate"}
	}
	return []string{"fasting-glucose-26w", "hba1c-26w"}, []string{"ae-rate", "weight-26w"}
}

func (m *trialsModel) participant(a *modelAccount) *trialParticipant {
	for _, p := range m.people {
		if p.acct == a {
			return p
		}
	}
	return nil
}

// trialsSetup registers the trial, or has the board approve its pending
// version.
func (g *scriptGen) trialsSetup() (ScriptTx, bool) {
	m := &g.trials
	switch {
	case !m.registered:
		admin := g.orgAdmin(OrgD)
		if admin == nil {
			return ScriptTx{}, false
		}
		m.registered, m.pending, m.versions = true, true, 1
		primary, secondary := scriptOutcomes(1)
		msg := trials.Register{Trial: scriptTrial, Sponsor: OrgD, Board: OrgA, Study: sha256.Sum256([]byte("study")),
			Protocol: sha256.Sum256([]byte("protocol 1")), SAP: sha256.Sum256([]byte("sap 1")), Primary: primary, Secondary: secondary}
		return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeOK, "register a trial"}, true
	case m.pending:
		board := g.orgAdmin(OrgA)
		if board == nil {
			return ScriptTx{}, false
		}
		m.pending, m.inForce = false, m.versions
		return ScriptTx{g.next(board, true, contract.Encode(trials.Approve{Trial: scriptTrial, Version: m.versions})), tx.CodeOK, "approve a protocol version"}, true
	}
	return ScriptTx{}, false
}

// trialsAmend proposes version 2 or 3 once a version is in force.
func (g *scriptGen) trialsAmend() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgD)
	if admin == nil || m.inForce == 0 || m.pending || m.versions >= 3 {
		return ScriptTx{}, false
	}
	m.versions++
	m.pending = true
	primary, secondary := scriptOutcomes(m.versions)
	msg := trials.Amend{Trial: scriptTrial, Protocol: sha256.Sum256(fmt.Appendf(nil, "protocol %d", m.versions)),
		SAP: sha256.Sum256(fmt.Appendf(nil, "sap %d", m.versions)), Primary: primary, Secondary: secondary}
	return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeOK, "amend a protocol"}, true
}

// trialsConsent has a patient consent to the version in force; one in four
// names another version and is invalid.
func (g *scriptGen) trialsConsent() (ScriptTx, bool) {
	m := &g.trials
	if m.inForce == 0 {
		return ScriptTx{}, false
	}
	a := g.pick(func(a *modelAccount) bool {
		p := m.participant(a)
		return patient(a) && (p == nil || !p.withdrawn && p.consented != m.inForce)
	})
	for _, p := range m.people { // participants asked to re-consent come first
		if p.enrolled && !p.withdrawn && p.consented != m.inForce {
			a = p.acct
			break
		}
	}
	if a == nil {
		return ScriptTx{}, false
	}
	if g.rng.IntN(4) == 0 {
		msg := trials.Consent{Trial: scriptTrial, Version: m.inForce + 1}
		return ScriptTx{g.next(a, true, contract.Encode(msg)), tx.CodeInvalid, "consent to a version not in force"}, true
	}
	p := m.participant(a)
	if p == nil {
		p = &trialParticipant{acct: a}
		m.people = append(m.people, p)
	}
	p.consented = m.inForce
	return ScriptTx{g.next(a, true, contract.Encode(trials.Consent{Trial: scriptTrial, Version: m.inForce})), tx.CodeOK, "consent to a trial"}, true
}

// trialsEnroll enrolls a participant who consented to the version in force,
// or tries one who has not (unauthorized).
func (g *scriptGen) trialsEnroll() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgD)
	if admin == nil || m.inForce == 0 {
		return ScriptTx{}, false
	}
	for _, p := range m.people {
		if !p.enrolled && !p.withdrawn && p.consented == m.inForce {
			p.enrolled = true
			return ScriptTx{g.next(admin, true, contract.Encode(trials.Enroll{Trial: scriptTrial, Participant: p.acct.addr})), tx.CodeOK, "enroll"}, true
		}
	}
	a := g.pick(func(a *modelAccount) bool { return patient(a) && m.participant(a) == nil })
	if a == nil {
		return ScriptTx{}, false
	}
	return ScriptTx{g.next(admin, true, contract.Encode(trials.Enroll{Trial: scriptTrial, Participant: a.addr})), tx.CodeUnauthorized, "enroll without consent"}, true
}

// trialsWithdraw has an enrolled participant withdraw.
func (g *scriptGen) trialsWithdraw() (ScriptTx, bool) {
	m := &g.trials
	enrolled := 0
	for _, p := range m.people {
		if p.enrolled && !p.withdrawn {
			enrolled++
		}
	}
	if enrolled == 0 || enrolled < 2 && m.datasets == 0 { // keep someone to capture data from
		return ScriptTx{}, false
	}
	for _, p := range m.people {
		if p.enrolled && !p.withdrawn {
			p.withdrawn = true
			return ScriptTx{g.next(p.acct, true, contract.Encode(trials.Withdraw{Trial: scriptTrial, Participant: p.acct.addr})), tx.CodeOK, "withdraw"}, true
		}
	}
	return ScriptTx{}, false
}

// trialsCommitData commits a dataset of the participants who may give data,
// or, if one enrolled participant has not re-consented or withdrew, names
// them too and is unauthorized.
func (g *scriptGen) trialsCommitData() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgD)
	if admin == nil || m.inForce == 0 {
		return ScriptTx{}, false
	}
	var ok, blocked []tx.Address
	for _, p := range m.people {
		switch {
		case p.enrolled && !p.withdrawn && p.consented == m.inForce:
			ok = append(ok, p.acct.addr)
		case p.enrolled:
			blocked = append(blocked, p.acct.addr)
		}
	}
	want := tx.CodeOK
	if len(blocked) > 0 && (len(ok) == 0 || g.rng.IntN(3) == 0) {
		ok, want = append(ok, blocked[0]), tx.CodeUnauthorized
	}
	if len(ok) == 0 {
		return ScriptTx{}, false
	}
	slices.SortFunc(ok, func(a, b tx.Address) int { return bytes.Compare(a[:], b[:]) })
	m.datasets++
	msg := trials.CommitData{Trial: scriptTrial, Dataset: fmt.Sprintf("visit-%d", m.datasets), Root: sha256.Sum256(fmt.Appendf(nil, "dataset %d", m.datasets)),
		Rows: uint64(len(ok) * 4), Version: m.inForce, Participants: ok}
	if want != tx.CodeOK {
		m.datasets-- // the name stays free
	}
	return ScriptTx{g.next(admin, true, contract.Encode(msg)), want, "commit a dataset"}, true
}

// trialsReport reports results of outcomes the versions named, or of one
// none named (not_found).
func (g *scriptGen) trialsReport() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgD)
	if admin == nil || m.inForce == 0 {
		return ScriptTx{}, false
	}
	msg := trials.Report{Trial: scriptTrial, Result: sha256.Sum256(fmt.Appendf(nil, "results %d", m.results)), Outcomes: []string{"ae-rate", "hba1c-26w"}}
	if g.rng.IntN(3) == 0 {
		msg.Outcomes = []string{"mortality"}
		return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeNotFound, "report an unknown outcome"}, true
	}
	m.results++
	return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeOK, "report results"}, true
}

// scriptRules are the eligibility rules the script publishes in turn.
var scriptRules = []string{
	`age_band in ["40-49", "50-59"] && "44054006" in conditions`,
	`lab_in_range(labs, "4548-4", 7.0, 10.0)`,
}

// trialsCriteria publishes the next criteria revision once a version is in
// force; one in four publishes a rule that does not compile (invalid).
func (g *scriptGen) trialsCriteria() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgD)
	if admin == nil || m.inForce == 0 || m.criteria >= 3 {
		return ScriptTx{}, false
	}
	if g.rng.IntN(4) == 0 {
		msg := trials.Criteria{Trial: scriptTrial, Rule: `postcode == "90210"`}
		// Refused without state: it never reaches a block, its sequence stays free.
		return ScriptTx{g.next(admin, false, contract.Encode(msg)), tx.CodeInvalid, "publish criteria that do not compile"}, true
	}
	msg := trials.Criteria{Trial: scriptTrial, Rule: scriptRules[int(m.criteria)%len(scriptRules)]}
	m.criteria++
	return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeOK, "publish eligibility criteria"}, true
}

// trialsContact has a patient opt in to research contact, or out again.
func (g *scriptGen) trialsContact() (ScriptTx, bool) {
	a := g.pick(patient)
	if a == nil {
		return ScriptTx{}, false
	}
	in := !g.trials.optedIn[a]
	if g.trials.optedIn == nil {
		g.trials.optedIn = map[*modelAccount]bool{}
	}
	g.trials.optedIn[a] = in
	return ScriptTx{g.next(a, true, contract.Encode(trials.Contact{OptIn: in})), tx.CodeOK, "answer research contact"}, true
}

// trialsMatchCount has the hospital publish its count for the current
// criteria, or for a stale revision (invalid).
func (g *scriptGen) trialsMatchCount() (ScriptTx, bool) {
	m := &g.trials
	admin := g.orgAdmin(OrgA)
	if admin == nil || m.criteria == 0 {
		return ScriptTx{}, false
	}
	msg := trials.MatchCount{Trial: scriptTrial, Revision: m.criteria, Custodian: OrgA, Matched: uint64(g.rng.IntN(20))}
	if m.criteria > 1 && g.rng.IntN(3) == 0 {
		msg.Revision = m.criteria - 1
		return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeInvalid, "count a stale criteria revision"}, true
	}
	return ScriptTx{g.next(admin, true, contract.Encode(msg)), tx.CodeOK, "publish a match count"}, true
}
