package claims_test

import (
	"slices"
	"testing"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/tx"
)

// TestFirstClaimOfTheYear follows one office visit through the deductible
// and the payment: the plan pays nothing until the deductible is met, the
// payment moves in the same message.
func TestClaimSettles(t *testing.T) {
	ch := newPayer(t)
	// 120.00 charged, 100.00 allowed: 20.00 contractual (45), all 100.00 to the deductible (1).
	d := ch.decide(ch.claim(line("99213", 12_000, 20250310)))
	l := d.Lines[0]
	if l.Status != claims.Approved || l.Eligible != 10_000 || l.Patient != 10_000 || l.Benefit != 0 || l.Version != 1 {
		t.Fatalf("first visit = %+v; want approved, eligible 10000 all owed by the patient, version 1", l)
	}
	if want := []claims.Adjustment{{Reason: "45", Amount: 2_000}, {Reason: "1", Amount: 10_000}}; !slices.Equal(l.Adjustments, want) {
		t.Errorf("adjustments = %v; want %v", l.Adjustments, want)
	}
	// 2,000.00 allowed for an MRI with its authorization would be next; a
	// visit of 150.00 now: 400.00 of deductible left covers it all; then a
	// third visit pays past the deductible.
	ch.decide(ch.claim(line("99214", 15_000, 20250311)))
	ch.decide(ch.claim(line("99214", 15_000, 20250312)))
	d = ch.decide(ch.claim(line("99214", 15_000, 20250313)))
	// Deductible met so far: 100 + 150 + 150 = 400; 100.00 left. Of 150.00:
	// 100.00 deductible, 25.00 copay, 20% of 25.00 = 5.00 co-insurance.
	l = d.Lines[0]
	if l.Patient != 13_000 || l.Benefit != 2_000 {
		t.Errorf("fourth visit = patient %d, benefit %d; want 13000, 2000 (%+v)", l.Patient, l.Benefit, l)
	}
	if got := ch.balance(clinic); got != 2_000 {
		t.Errorf("clinic balance = %d; want 2000 paid in the block", got)
	}
	if got := ch.balance(payer); got != 10_000_000-2_000 {
		t.Errorf("payer balance = %d; want %d", got, 10_000_000-2_000)
	}
	if e := ch.event(claims.EventPaid); e == nil || e.Attr("amount") != "2000" {
		t.Errorf("paid event = %+v; want amount 2000", e)
	}
	acc, _ := claims.LoadAccumulators(ch.s, payer, "cov-alice", 2025)
	if acc.Deductible != 50_000 || acc.OOP != 10_000+15_000+15_000+13_000 {
		t.Errorf("accumulators = %+v; want deductible 50000, oop 53000", acc)
	}
}

// TestOutOfPocketMaximum: once the patient has paid the year's maximum,
// the plan pays the whole allowed amount; the next plan year starts over.
func TestOutOfPocketMaximum(t *testing.T) {
	ch := newPayer(t)
	// 70553 needs an authorization; use 99214 many times on distinct dates.
	var owed uint64
	for day := uint32(1); day <= 28; day++ {
		d := ch.decide(ch.claim(claims.Line{Code: "70553", Units: 1, Charge: 250_000, Date: 20250200 + day, Auth: ch.preauth("70553", 20250200+day)}))
		owed += d.PatientOwes
	}
	if owed != basePlan.OOPMax {
		t.Errorf("patient paid %d over the year; want the maximum %d", owed, basePlan.OOPMax)
	}
	d := ch.decide(ch.claim(line("99214", 15_000, 20250401)))
	if d.Lines[0].Patient != 0 || d.Lines[0].Benefit != 15_000 {
		t.Errorf("visit past the maximum = %+v; want all paid by the plan", d.Lines[0])
	}
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "gold", Patient: addr(patientAlice), Start: 20250101})
	d = ch.decide(ch.claim(line("99214", 15_000, 20260105)))
	if d.Lines[0].Patient != 15_000 {
		t.Errorf("first visit of the next plan year = %+v; want all to the new deductible", d.Lines[0])
	}
}

// preauth submits an approved preauthorization for one unit of code and
// returns its ID.
func (ch *chain) preauth(code string, date uint32) [32]byte {
	ch.t.Helper()
	m := ch.claim(line(code, 250_000, date))
	m.Use = claims.UsePreauth
	d := ch.decide(m)
	if d.Lines[0].Status != claims.Approved {
		ch.t.Fatalf("preauthorization of %s = %+v; want approved", code, d.Lines[0])
	}
	return m.Claim
}

// TestEdits: each edit denies the line it should, with its reason code.
func TestEdits(t *testing.T) {
	tests := []struct {
		name   string
		lines  []claims.Line
		place  string
		status []claims.LineStatus
		reason []string // of each line's first adjustment when denied
		edit   []string
	}{
		{"unbundled pair, indicator 0", []claims.Line{line("93000", 3_000, 20250301), line("93010", 1_500, 20250301, "59")},
			"11", []claims.LineStatus{claims.Approved, claims.Denied}, []string{"", "97"}, []string{"", "code_pair"}},
		{"pair on different dates", []claims.Line{line("93000", 3_000, 20250301), line("93010", 1_500, 20250302)},
			"11", []claims.LineStatus{claims.Approved, claims.Approved}, nil, nil},
		{"pair with indicator 1 and a bypass modifier", []claims.Line{line("99214", 15_000, 20250301), line("36415", 1_000, 20250301, "XU")},
			"11", []claims.LineStatus{claims.Approved, claims.Approved}, nil, nil},
		{"pair with indicator 1, no modifier", []claims.Line{line("99214", 15_000, 20250301), line("36415", 1_000, 20250301)},
			"11", []claims.LineStatus{claims.Approved, claims.Denied}, []string{"", "97"}, []string{"", "code_pair"}},
		{"units over the limit", []claims.Line{{Code: "97110", Units: 3, Charge: 12_000, Date: 20250301}, {Code: "97110", Units: 2, Charge: 8_000, Date: 20250301, Modifiers: []string{"GP"}}},
			"11", []claims.LineStatus{claims.Denied, claims.Denied}, []string{"119", "119"}, []string{"unit_limit", "unit_limit"}},
		{"units within the limit", []claims.Line{{Code: "97110", Units: 4, Charge: 16_000, Date: 20250301}},
			"11", []claims.LineStatus{claims.Approved}, nil, nil},
		{"rule over place of service", []claims.Line{line("93000", 3_000, 20250301)},
			"23", []claims.LineStatus{claims.Denied}, []string{"58"}, []string{"rule:office-ecg"}},
		{"code not in the fee schedule", []claims.Line{line("99999", 3_000, 20250301)},
			"11", []claims.LineStatus{claims.Denied}, []string{"96"}, []string{"fee_schedule"}},
		{"before coverage", []claims.Line{line("99213", 3_000, 20241231)},
			"11", []claims.LineStatus{claims.Denied}, []string{"26"}, []string{"eligibility"}},
		{"after coverage", []claims.Line{line("99213", 3_000, 20260101)},
			"11", []claims.LineStatus{claims.Denied}, []string{"27"}, []string{"eligibility"}},
		{"authorization required, none named", []claims.Line{line("70553", 250_000, 20250301)},
			"11", []claims.LineStatus{claims.Denied}, []string{"197"}, []string{"prior_auth"}},
		{"modifier fee", []claims.Line{line("99214", 20_000, 20250301, "25")},
			"11", []claims.LineStatus{claims.Approved}, []string{"45"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newPayer(t)
			m := ch.claim(tt.lines...)
			m.Place = tt.place
			d := ch.decide(m)
			for i, l := range d.Lines {
				if l.Status != tt.status[i] {
					t.Errorf("line %d status = %d; want %d (%+v)", i, l.Status, tt.status[i], l)
				}
				if tt.reason != nil && tt.reason[i] != "" && (len(l.Adjustments) == 0 || l.Adjustments[0].Reason != tt.reason[i]) {
					t.Errorf("line %d adjustments = %v; want reason %s first", i, l.Adjustments, tt.reason[i])
				}
				if tt.edit != nil && tt.edit[i] != "" && !slices.Equal(l.Edits, []string{tt.edit[i]}) {
					t.Errorf("line %d edits = %v; want [%s]", i, l.Edits, tt.edit[i])
				}
			}
		})
	}
}

// TestModifierFee: a fee listed for the line's modifier is used before the
// code's general fee.
func TestModifierFee(t *testing.T) {
	ch := newPayer(t)
	d := ch.decide(ch.claim(line("99214", 20_000, 20250301, "25")))
	if d.Lines[0].Eligible != 16_000 {
		t.Errorf("eligible with modifier 25 = %d; want 16000", d.Lines[0].Eligible)
	}
}

// TestDuplicates: the same patient, provider, date, code and modifiers
// are paid once, across claims; another modifier or date is not a duplicate.
func TestDuplicates(t *testing.T) {
	ch := newPayer(t)
	ch.decide(ch.claim(line("99213", 10_000, 20250301)))
	d := ch.decide(ch.claim(line("99213", 10_000, 20250301), line("99213", 10_000, 20250302), line("99213", 10_000, 20250302)))
	want := []claims.LineStatus{claims.Denied, claims.Approved, claims.Denied}
	for i, l := range d.Lines {
		if l.Status != want[i] {
			t.Errorf("line %d = %+v; want status %d", i, l, want[i])
		}
		if l.Status == claims.Denied && (l.Adjustments[0].Reason != "18" || l.Edits[0] != "duplicate") {
			t.Errorf("line %d denial = %+v; want reason 18, edit duplicate", i, l)
		}
	}
	if e := ch.event(claims.EventAdjudicated); e == nil || e.Attr("outcome") != "partial" || !slices.Contains(e.Values("reason"), "18") {
		t.Errorf("adjudicated event = %+v; want outcome partial with reason 18", e)
	}
}

// TestPriorAuthorization: an approved preauthorization is consumed once;
// a second claim that names it is denied with 198; a preauthorization the
// rules deny becomes usable when the payer's claims agent authorizes it.
func TestPriorAuthorization(t *testing.T) {
	ch := newPayer(t)
	auth := ch.preauth("70553", 20250301)
	mri := claims.Line{Code: "70553", Units: 1, Charge: 250_000, Date: 20250305, Auth: auth}
	if d := ch.decide(ch.claim(mri)); d.Lines[0].Status != claims.Approved {
		t.Fatalf("claim consuming the authorization = %+v; want approved", d.Lines[0])
	}
	mri.Date = 20250306
	d := ch.decide(ch.claim(mri))
	if l := d.Lines[0]; l.Status != claims.Denied || l.Adjustments[0].Reason != "198" || l.Edits[0] != "prior_auth_used" {
		t.Errorf("second use of the authorization = %+v; want denied 198 prior_auth_used", l)
	}

	// Bob's MRI elsewhere: another clinic cannot use alice's authorization.
	other := ch.claim(claims.Line{Code: "70553", Units: 1, Charge: 250_000, Date: 20250307, Auth: auth})
	other.Provider = rival
	if code := ch.exec(rivalNode, other); code != tx.CodeOK {
		t.Fatalf("rival's claim = %v; want ok", code)
	}
	if d, _ := claims.LoadDecision(ch.s, other.Claim); d.Lines[0].Adjustments[0].Reason != "197" {
		t.Errorf("another provider's use of the authorization = %+v; want denied 197", d.Lines[0])
	}

	// A preauthorization of a code the policy does not pay is denied; the
	// claims agent authorizes it.
	m := ch.claim(line("99999", 5_000, 20250310))
	m.Use = claims.UsePreauth
	if d := ch.decide(m); d.Lines[0].Status != claims.Denied {
		t.Fatalf("preauthorization of an unlisted code = %+v; want denied", d.Lines[0])
	}
	if code := ch.exec(payerAdmin, claims.Authorize{Claim: m.Claim, Lines: []uint64{0}}); code != tx.CodeUnauthorized {
		t.Errorf("authorize by the payer's admin = %v; want unauthorized (claims agents decide)", code)
	}
	ch.must(payerAgent, claims.Authorize{Claim: m.Claim, Lines: []uint64{0}})
	ls, _ := claims.LoadAuthLines(ch.s, m.Claim)
	if len(ls) != 1 || ls[0].State != claims.Authorized {
		t.Errorf("authorization lines = %+v; want one authorized", ls)
	}
	if code := ch.exec(payerAgent, claims.Authorize{Claim: m.Claim, Lines: []uint64{0}}); code != tx.CodeAlreadyExists {
		t.Errorf("authorize twice = %v; want already_exists", code)
	}
}

// TestShortPayer: a payer whose balance is short leaves claims approved
// and unpaid; its next deposit pays them in order.
func TestShortPayer(t *testing.T) {
	ch := newChain(t)
	ch.must(payerAdmin, claims.RegisterPlan{Payer: payer, Plan: "basic", YearStart: 701})
	ch.must(payerAdmin, basePolicy)
	ch.must(payerAdmin, claims.PolicyPublish{Payer: payer, Version: 1, Effective: 20250101})
	ch.must(payerAdmin, claims.RegisterCoverage{Payer: payer, Coverage: "cov-alice", Plan: "basic", Patient: addr(patientAlice), Start: 20250101})
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 5_000})
	first := ch.decide(ch.claim(line("99214", 15_000, 20250301)))
	second := ch.decide(ch.claim(line("99213", 10_000, 20250302)))
	if first.Paid || second.Paid || first.Benefit != 15_000 {
		t.Fatalf("claims of a short payer: paid %v %v, benefit %d; want unpaid, 15000", first.Paid, second.Paid, first.Benefit)
	}
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 15_000})
	if got := ch.balance(clinic); got != 15_000 {
		t.Errorf("clinic balance after the deposit = %d; want 15000 (the first claim only)", got)
	}
	ch.must(payerAdmin, claims.Deposit{Payer: payer, Amount: 10_000})
	if got, payerLeft := ch.balance(clinic), ch.balance(payer); got != 25_000 || payerLeft != 5_000 {
		t.Errorf("balances after the second deposit = clinic %d, payer %d; want 25000, 5000", got, payerLeft)
	}
	if d, _ := claims.LoadDecision(ch.s, second.Claim); !d.Paid {
		t.Error("second claim unpaid after the deposit that covers it")
	}
}

// TestRefusals: a claim that names what does not exist, or is signed by
// the wrong party, is refused and nothing of it is stored.
func TestRefusals(t *testing.T) {
	ch := newPayer(t)
	ok := ch.claim(line("99213", 10_000, 20250301))
	tests := []struct {
		name   string
		signer string
		edit   func(*claims.Submit)
		want   tx.Code
	}{
		{"unknown coverage", clinicNode, func(m *claims.Submit) { m.Coverage = "nope" }, tx.CodeNotFound},
		{"coverage of another patient", clinicNode, func(m *claims.Submit) { m.Patient = addr(patientBob) }, tx.CodeNotFound},
		{"unknown payer", clinicNode, func(m *claims.Submit) { m.Payer = "no-such-payer" }, tx.CodeNotFound},
		{"member of another organization", rivalNode, func(*claims.Submit) {}, tx.CodeWrongOrganization},
		{"clinic admin without the claims role", clinicAdmin, func(*claims.Submit) {}, tx.CodeUnauthorized},
		{"zero units", clinicNode, func(m *claims.Submit) { m.Lines[0].Units = 0 }, tx.CodeInvalid},
		{"absurd charge", clinicNode, func(m *claims.Submit) { m.Lines[0].Charge = claims.MaxAmount + 1 }, tx.CodeInvalid},
		{"invalid date", clinicNode, func(m *claims.Submit) { m.Lines[0].Date = 20250230 }, tx.CodeInvalid},
		{"invalid code", clinicNode, func(m *claims.Submit) { m.Lines[0].Code = "99 13" }, tx.CodeInvalid},
		{"dangling diagnosis pointer", clinicNode, func(m *claims.Submit) { m.Lines[0].Pointers = []uint64{3} }, tx.CodeInvalid},
		{"no lines", clinicNode, func(m *claims.Submit) { m.Lines = nil }, tx.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			m.Lines = slices.Clone(ok.Lines)
			tt.edit(&m)
			if code := ch.exec(tt.signer, m); code != tt.want {
				t.Errorf("submit = %v; want %v", code, tt.want)
			}
			if d, _ := claims.LoadDecision(ch.s, m.Claim); d != nil {
				t.Errorf("refused claim stored: %+v", d)
			}
		})
	}
	ch.decide(ok)
	if code := ch.exec(clinicNode, ok); code != tx.CodeAlreadyExists {
		t.Errorf("the same claim again = %v; want already_exists", code)
	}
}

// TestEligibility is the read a CoverageEligibilityResponse answers from.
func TestEligibility(t *testing.T) {
	ch := newPayer(t)
	for _, tt := range []struct {
		patient string
		date    uint32
		want    bool
	}{{patientAlice, 20250101, true}, {patientAlice, 20251231, true}, {patientAlice, 20260101, false}, {patientAlice, 20241231, false}, {patientBob, 20250601, false}} {
		got, _, err := claims.Eligible(ch.s, payer, "cov-alice", addr(tt.patient), tt.date)
		if err != nil || got != tt.want {
			t.Errorf("Eligible(%s, %d) = %v, %v; want %v", tt.patient, tt.date, got, err, tt.want)
		}
	}
}
