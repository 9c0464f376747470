package trials_test

import (
	"testing"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// rule is the test trial's eligibility: adults of 40 to 69 with type 2
// diabetes (SNOMED CT 44054006) on metformin (RxNorm 860975) whose latest
// HbA1c (LOINC 4548-4) is 7 to 10 %.
const rule = `age_band in ["40-49", "50-59", "60-69"] && "44054006" in conditions && ` +
	`"860975" in medications && lab_in_range(labs, "4548-4", 7.0, 10.0)`

func TestCriteriaPublishedAfterApproval(t *testing.T) {
	ch := newChain(t)
	ch.must(researcher, registration())
	ch.refuse(researcher, trials.Criteria{Trial: trial, Rule: rule}, tx.CodeInvalid) // no version in force
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 1})
	ch.refuse(rivalAdmin, trials.Criteria{Trial: trial, Rule: rule}, tx.CodeWrongOrganization)
	ch.refuse(alice, trials.Criteria{Trial: trial, Rule: rule}, tx.CodeUnauthorized)
	ch.must(researcher, trials.Criteria{Trial: trial, Rule: rule})
	ch.must(researcher, trials.Criteria{Trial: trial, Rule: `sex == "female"`})
	c, err := trials.LoadCriteria(ch.s, trial, 2)
	if err != nil || c == nil || c.Rule != `sex == "female"` || c.Version != 1 || ch.trial().Criteria != 2 {
		t.Fatalf("criteria revision 2 = %+v, %v; trial %+v; want the second rule under version 1", c, err, ch.trial())
	}
	last := ch.history[len(ch.history)-1]
	if p, ok := trials.PublishedOf(last.Event); !ok || p.Trial != trial || p.Revision != 2 || p.Rule != `sex == "female"` {
		t.Errorf("PublishedOf(%v) = %+v, %v; want revision 2 and its rule", last.Event, p, ok)
	}
}

func TestCriteriaRefusals(t *testing.T) {
	for _, tc := range []struct{ name, rule string }{
		{"not CEL", "age_band ="},
		{"not bool", "age_band"},
		{"unknown variable", `postcode == "90210"`},
		{"too costly", `conditions.all(a, conditions.all(b, medications.all(c, a + b + c != "")))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			approved(t).refuse(researcher, trials.Criteria{Trial: trial, Rule: tc.rule}, tx.CodeInvalid)
		})
	}
	t.Run("unknown trial", func(t *testing.T) {
		approved(t).refuse(researcher, trials.Criteria{Trial: "NCT09999999", Rule: rule}, tx.CodeNotFound)
	})
}

func TestContactIsThePatientsOwnAnswer(t *testing.T) {
	ch := newChain(t)
	ch.refuse(researcher, trials.Contact{OptIn: true}, tx.CodeUnauthorized)
	ch.refuse(alice, trials.Contact{OptIn: false}, tx.CodeAlreadyExists) // not opted in yet
	ch.must(alice, trials.Contact{OptIn: true})
	ch.refuse(alice, trials.Contact{OptIn: true}, tx.CodeAlreadyExists)
	if in, err := trials.OptedIn(ch.s, addr(alice)); !in || err != nil {
		t.Fatalf("OptedIn(alice) = %v, %v; want true", in, err)
	}
	if e := ch.history[len(ch.history)-1].Event; len(e.Accounts) != 1 || e.Accounts[0] != addr(alice) {
		t.Errorf("contact event accounts = %v; want alice only", e.Accounts)
	}
	ch.must(alice, trials.Contact{OptIn: false})
	if in, _ := trials.OptedIn(ch.s, addr(alice)); in {
		t.Error("OptedIn after opting out = true")
	}
}

func TestMatchCountFromTheCustodianForTheCurrentRevision(t *testing.T) {
	ch := approved(t)
	count := trials.MatchCount{Trial: trial, Revision: 1, Custodian: clinic, Matched: 2}
	ch.refuse(clinicNode, count, tx.CodeInvalid) // no criteria yet
	ch.must(researcher, trials.Criteria{Trial: trial, Rule: rule})
	ch.refuse(researcher, count, tx.CodeWrongOrganization)
	ch.refuse(sponsorNode, trials.MatchCount{Trial: trial, Revision: 1, Custodian: sponsor, Matched: 2}, tx.CodeUnauthorized) // not a provider
	ch.must(clinicNode, count)
	ch.must(researcher, trials.Criteria{Trial: trial, Rule: `sex == "female"`})
	ch.refuse(clinicNode, count, tx.CodeInvalid) // revision 1 is stale now
	ch.must(clinicAdmin, trials.MatchCount{Trial: trial, Revision: 2, Custodian: clinic, Matched: 5})
	counts, err := trials.Counts(ch.s, trial)
	if err != nil || len(counts) != 1 || counts[0].Custodian != clinic || counts[0].Revision != 2 || counts[0].Matched != 5 {
		t.Fatalf("Counts = %+v, %v; want the clinic's 5 for revision 2", counts, err)
	}
}

func TestResearchParticipant(t *testing.T) {
	ch := enrolled(t)
	ch.must(bob, trials.Consent{Trial: trial, Version: 1}) // consented, never enrolled
	for _, tc := range []struct {
		who     string
		sponsor string
		want    bool
	}{{alice, sponsor, true}, {alice, rival, false}, {bob, sponsor, false}, {carol, sponsor, false}} {
		if id, ok, err := trials.ResearchParticipant(ch.s, tc.sponsor, addr(tc.who)); ok != tc.want || err != nil || ok && id != trial {
			t.Errorf("ResearchParticipant(%s, %s) = %q, %v, %v; want %v", tc.sponsor, tc.who, id, ok, err, tc.want)
		}
	}
	// An amendment in force ends it until alice consents again.
	ch.must(researcher, amendment())
	ch.must(boardAdmin, trials.Approve{Trial: trial, Version: 2})
	if _, ok, _ := trials.ResearchParticipant(ch.s, sponsor, addr(alice)); ok {
		t.Error("participant before re-consent: ok; want not")
	}
	ch.must(alice, trials.Consent{Trial: trial, Version: 2})
	if _, ok, _ := trials.ResearchParticipant(ch.s, sponsor, addr(alice)); !ok {
		t.Error("participant after re-consent: not; want ok")
	}
	ch.must(alice, trials.Withdraw{Trial: trial, Participant: addr(alice)})
	if _, ok, _ := trials.ResearchParticipant(ch.s, sponsor, addr(alice)); ok {
		t.Error("participant after withdrawal: ok; want not")
	}
}

func TestEligible(t *testing.T) {
	engine := condition.NewEngine(8)
	match := trials.Eligibility{AgeBand: "50-59", Sex: "female", Conditions: []string{"38341003", "44054006"},
		Medications: []string{"860975"}, Labs: []string{"2339-0=140", "4548-4=8.1"}}
	for _, tc := range []struct {
		name string
		edit func(*trials.Eligibility)
		want bool
	}{
		{"matches", func(*trials.Eligibility) {}, true},
		{"too young", func(e *trials.Eligibility) { e.AgeBand = "30-39" }, false},
		{"no diabetes", func(e *trials.Eligibility) { e.Conditions = []string{"38341003"} }, false},
		{"HbA1c too high", func(e *trials.Eligibility) { e.Labs = []string{"4548-4=11.2"} }, false},
		{"no HbA1c", func(e *trials.Eligibility) { e.Labs = nil }, false},
		{"HbA1c unreadable", func(e *trials.Eligibility) { e.Labs = []string{"4548-4=high"} }, false},
	} {
		e := match
		tc.edit(&e)
		if got, err := trials.Eligible(engine, rule, &e); got != tc.want || err != nil {
			t.Errorf("%s: Eligible(%+v) = %v, %v; want %v", tc.name, e, got, err, tc.want)
		}
	}
}
