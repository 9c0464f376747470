package claimfhir

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// Currency is the network's one currency, in which the chain's integer
// minor units are reported.
const Currency = "USD"

// Code systems of the answers.
const (
	adjudicationSystem = "http://terminology.hl7.org/CodeSystem/adjudication"
	// C4BBAdjudication holds memberliability, what the patient owes.
	c4bbSystem = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
	// CARCSystem is X12's claim adjustment reason codes.
	CARCSystem      = "https://x12.org/codes/claim-adjustment-reason-codes"
	adjustment      = "urn:careledger:claims:adjustment"
	EditExtension   = "urn:careledger:claims:edit"
	PolicyExtension = "urn:careledger:claims:policy-version"
	// AuditExtension refers to the audit log's event of the decision
	// (AuditEvent/log-N), whose inclusion proof anyone can check.
	AuditExtension = "urn:careledger:claims:audit-event"
	claimType      = "http://terminology.hl7.org/CodeSystem/claim-type"
)

// Decided is a committed decision and what the chain says of its block.
type Decided struct {
	*claims.Decision
	// Time is the block time of the decision, the response's created;
	// zero when not known.
	Time time.Time
	// AuditEvent is the audit log's index of the decision's event, -1 if
	// not known.
	AuditEvent int64
	// Request is the id of the Claim at the provider's node, "" where not
	// known (another node, or not asked).
	Request string
}

// ID returns the id of a claim's ClaimResponse and ExplanationOfBenefit:
// its commitment in hex.
func ID(claim [32]byte) string { return hex.EncodeToString(claim[:]) }

// ParseID reads an id that ID returned.
func ParseID(id string) ([32]byte, bool) {
	var c [32]byte
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 32 {
		return c, false
	}
	copy(c[:], b)
	return c, true
}

func obj(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func ident(system, value string) map[string]any {
	return obj("identifier", obj("system", system, "value", value))
}

func coding(system, code string) map[string]any {
	return obj("coding", []any{obj("system", system, "code", code)})
}

// Money returns minor units as FHIR Money in the network's currency.
func Money(minor uint64) map[string]any {
	return obj("value", json.Number(strconv.FormatUint(minor/100, 10)+"."+fmt.Sprintf("%02d", minor%100)), "currency", Currency)
}

func amount(system, code string, minor uint64) map[string]any {
	return obj("category", coding(system, code), "amount", Money(minor))
}

// adjudications returns a line's amounts and reasons as FHIR adjudication
// entries: submitted, eligible, benefit, memberliability, then each
// adjustment with its X12 reason.
func adjudications(l claims.LineResult) []any {
	out := []any{
		amount(adjudicationSystem, "submitted", l.Submitted),
		amount(adjudicationSystem, "eligible", l.Eligible),
		amount(adjudicationSystem, "benefit", l.Benefit),
		amount(c4bbSystem, "memberliability", l.Patient),
	}
	for _, a := range l.Adjustments {
		e := amount(adjustment, "adjustment", a.Amount)
		e["reason"] = coding(CARCSystem, a.Reason)
		out = append(out, e)
	}
	return out
}

// lineExtensions names the edits that fired on a line and the policy
// version that judged it.
func lineExtensions(l claims.LineResult) []any {
	var ext []any
	for _, e := range l.Edits {
		ext = append(ext, obj("url", EditExtension, "valueString", e))
	}
	if l.Version != 0 {
		ext = append(ext, obj("url", PolicyExtension, "valuePositiveInt", l.Version))
	}
	return ext
}

func totals(d *claims.Decision) []any {
	var submitted, eligible uint64
	for _, l := range d.Lines {
		submitted += l.Submitted
		eligible += l.Eligible
	}
	return []any{
		amount(adjudicationSystem, "submitted", submitted),
		amount(adjudicationSystem, "eligible", eligible),
		amount(adjudicationSystem, "benefit", d.Benefit),
		amount(c4bbSystem, "memberliability", d.PatientOwes),
	}
}

// Outcome is FHIR's RemittanceOutcome of a decision: complete when every
// line is approved, partial when some are, error when none is.
func Outcome(d *claims.Decision) string {
	switch d.Outcome() {
	case "approved":
		return "complete"
	case "partial":
		return "partial"
	}
	return "error"
}

func use(d *claims.Decision) string {
	if d.Use == claims.UsePreauth {
		return "preauthorization"
	}
	return "claim"
}

func patientRef(p tx.Address) map[string]any { return ident(PatientSystem, p.String()) }

func (d *Decided) common(typ string) map[string]any {
	id := ID(d.Claim)
	r := obj("resourceType", typ, "id", id,
		"identifier", []any{obj("system", ClaimSystem, "value", id)},
		"status", "active",
		"type", coding(claimType, "professional"),
		"use", use(d.Decision),
		"patient", patientRef(d.Patient),
		"insurer", ident(OrgSystem, d.Payer),
		"outcome", Outcome(d.Decision),
		"disposition", d.Decision.Outcome(),
		"total", totals(d.Decision))
	if !d.Time.IsZero() { // unknown when the node's audit log lacks the block (state sync)
		r["created"] = d.Time.UTC().Format(time.RFC3339)
	}
	var ext []any
	if d.AuditEvent >= 0 {
		ext = append(ext, obj("url", AuditExtension, "valueReference", obj("reference", "AuditEvent/log-"+strconv.FormatInt(d.AuditEvent, 10))))
	}
	ext = append(ext, obj("url", "urn:careledger:claims:height", "valueUnsignedInt", d.Height))
	r["extension"] = ext
	if d.Use == claims.UseClaim && d.Benefit > 0 {
		status := "complete"
		if !d.Paid {
			status = "partial" // approved, waiting in the payer's queue for funds
		}
		r["payment"] = obj("type", coding("http://terminology.hl7.org/CodeSystem/ex-paymenttype", status), "amount", Money(d.Benefit))
	}
	return r
}

// ClaimResponse returns the decision as a FHIR ClaimResponse: per line
// (itemSequence numbers the claim's billed lines in order) the submitted,
// eligible, benefit and patient amounts, the X12 reasons of the
// adjustments, the edits that fired and the policy version; for a
// preauthorization with an approved line, the preAuthRef a later claim
// names.
func ClaimResponse(d *Decided) (*fhir.Resource, error) {
	r := d.common("ClaimResponse")
	r["requestor"] = ident(OrgSystem, d.Provider)
	r["request"] = ident(ClaimSystem, ID(d.Claim))
	if d.Request != "" {
		r["request"] = obj("reference", "Claim/"+d.Request, "identifier", obj("system", ClaimSystem, "value", ID(d.Claim)))
	}
	items := make([]any, len(d.Lines))
	for i, l := range d.Lines {
		it := obj("itemSequence", i+1, "adjudication", adjudications(l))
		if ext := lineExtensions(l); ext != nil {
			it["extension"] = ext
		}
		items[i] = it
	}
	r["item"] = items
	if d.Use == claims.UsePreauth && d.Decision.Outcome() != "denied" {
		r["preAuthRef"] = ID(d.Claim)
	}
	return build(r)
}

// ExplanationOfBenefit returns the decision of a claim as the patient's
// FHIR ExplanationOfBenefit: what each line was charged, what the plan
// paid and what the patient owes. The chain holds no procedure codes, so
// a line's productOrService is its number.
func ExplanationOfBenefit(d *Decided) (*fhir.Resource, error) {
	r := d.common("ExplanationOfBenefit")
	r["provider"] = ident(OrgSystem, d.Provider)
	r["insurance"] = []any{obj("focal", true, "coverage", ident(CoverageSystem, d.Coverage))}
	r["claim"] = ident(ClaimSystem, ID(d.Claim))
	r["claimResponse"] = obj("reference", "ClaimResponse/"+ID(d.Claim))
	items := make([]any, len(d.Lines))
	for i, l := range d.Lines {
		it := obj("sequence", i+1, "productOrService", obj("text", "billed line "+strconv.Itoa(i+1)), "adjudication", adjudications(l))
		if ext := lineExtensions(l); ext != nil {
			it["extension"] = ext
		}
		items[i] = it
	}
	r["item"] = items
	return build(r)
}

func build(m map[string]any) (*fhir.Resource, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return fhir.Parse(b)
}
