package x12

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// FHIR code systems the import uses.
const (
	systemClaimType = "http://terminology.hl7.org/CodeSystem/claim-type"
	systemPriority  = "http://terminology.hl7.org/CodeSystem/processpriority"
	systemNPI       = "http://hl7.org/fhir/sid/us-npi"
	systemICD10CM   = "http://hl7.org/fhir/sid/icd-10-cm"
	systemICD9CM    = "http://hl7.org/fhir/sid/icd-9-cm"
	systemCPT       = "http://www.ama-assn.org/go/cpt"
	systemHCPCS     = "urn:oid:2.16.840.1.113883.6.285"
	systemPOS       = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	systemCLM01     = "urn:x12:837:clm01" // the provider's patient control number
)

// Claim is the FHIR R4 Claim an 837P claim becomes: the fields adjudication
// needs and what identifies the parties. Names and addresses of the 837 are
// not carried over; the patient and coverage are named by the member ID.
type Claim struct {
	ResourceType string          `json:"resourceType"`
	Identifier   []Identifier    `json:"identifier"`
	Status       string          `json:"status"`
	Type         CodeableConcept `json:"type"`
	Use          string          `json:"use"`
	Patient      Reference       `json:"patient"`
	Created      string          `json:"created"`
	Insurer      Reference       `json:"insurer"`
	Provider     Reference       `json:"provider"`
	Priority     CodeableConcept `json:"priority"`
	Diagnosis    []Diagnosis     `json:"diagnosis,omitempty"`
	Insurance    []Insurance     `json:"insurance"`
	Item         []Item          `json:"item"`
	Total        Money           `json:"total"`
}

// Identifier, Reference, Coding, CodeableConcept, Money and Quantity are
// the FHIR data types of the same names, as far as a Claim uses them.
type (
	Identifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value"`
	}
	Reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *Identifier `json:"identifier,omitempty"`
		Display    string      `json:"display,omitempty"`
	}
	Coding struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}
	CodeableConcept struct {
		Coding []Coding `json:"coding"`
	}
	Money struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	}
	Quantity struct {
		Value json.Number `json:"value"`
	}
	Period struct {
		Start string `json:"start"`
		End   string `json:"end"`
	}
)

// Diagnosis is a Claim.diagnosis entry.
type Diagnosis struct {
	Sequence  int             `json:"sequence"`
	Diagnosis CodeableConcept `json:"diagnosisCodeableConcept"`
}

// Insurance is a Claim.insurance entry.
type Insurance struct {
	Sequence   int       `json:"sequence"`
	Focal      bool      `json:"focal"`
	Coverage   Reference `json:"coverage"`
	PreAuthRef []string  `json:"preAuthRef,omitempty"`
}

// Item is a Claim.item: one service line.
type Item struct {
	Sequence          int               `json:"sequence"`
	DiagnosisSequence []int             `json:"diagnosisSequence,omitempty"`
	ProductOrService  CodeableConcept   `json:"productOrService"`
	Modifier          []CodeableConcept `json:"modifier,omitempty"`
	ServicedDate      string            `json:"servicedDate,omitempty"`
	ServicedPeriod    *Period           `json:"servicedPeriod,omitempty"`
	Location          *CodeableConcept  `json:"locationCodeableConcept,omitempty"`
	Quantity          Quantity          `json:"quantity"`
	Net               Money             `json:"net"`
}

// Import837P returns the FHIR Claims of every claim (CLM) of every 837P
// transaction set of ic, in order. It refuses a transaction set that is not
// an 837 of the 005010X222 guide, and a claim whose lines, amounts, codes
// or dates do not read as the guide has them.
func Import837P(ic *Interchange) ([]Claim, error) {
	var out []Claim
	for gi, g := range ic.Groups {
		if g.GS.Element(1) != "HC" {
			return nil, syntaxf("functional group %d is not of health care claims (GS01 HC)", gi+1)
		}
		for si, s := range g.Sets {
			if s.ST.Element(1) != "837" || !strings.HasPrefix(s.ST.Element(3), "005010X222") {
				return nil, syntaxf("transaction set %d of group %d is not an 837P (005010X222)", si+1, gi+1)
			}
			cs, err := read837(ic.Delimiters, s.Segments)
			if err != nil {
				return nil, fmt.Errorf("transaction set %d of group %d: %w", si+1, gi+1, err)
			}
			out = append(out, cs...)
		}
	}
	return out, nil
}

// reader837 walks an 837P's segments, keeping the loop context a claim
// inherits: the billing provider, subscriber and payer of its HL levels.
type reader837 struct {
	d        Delimiters
	created  string
	provider Reference
	member   string
	insurer  Reference
	claims   []Claim
	claim    *Claim
	item     *Item
	place    string
}

func read837(d Delimiters, segs []Segment) ([]Claim, error) {
	r := &reader837{d: d}
	for i, s := range segs {
		if err := r.segment(s); err != nil {
			return nil, fmt.Errorf("segment %d (%s) after ST: %w", i+1, s.ID, err)
		}
	}
	if err := r.close(); err != nil {
		return nil, err
	}
	if len(r.claims) == 0 {
		return nil, syntaxf("the transaction set holds no claim")
	}
	return r.claims, nil
}

func (r *reader837) segment(s Segment) error {
	switch s.ID {
	case "BHT":
		date, err := fhirDate(s.Element(4))
		r.created = date
		return err
	case "NM1":
		return r.name(s)
	case "HL":
		if s.Element(3) == "20" || s.Element(3) == "22" {
			return r.close() // a new billing provider or subscriber ends the claim before it
		}
	case "CLM":
		return r.startClaim(s)
	case "REF":
		if r.claim != nil && r.item == nil && s.Element(1) == "G1" {
			r.claim.Insurance[0].PreAuthRef = append(r.claim.Insurance[0].PreAuthRef, s.Element(2))
		}
	case "HI":
		return r.diagnoses(s)
	case "LX":
		return r.startItem(s)
	case "SV1":
		return r.service(s)
	case "DTP":
		if r.item != nil && s.Element(1) == "472" {
			return r.serviceDate(s)
		}
	}
	return nil
}

func (r *reader837) name(s Segment) error {
	id := s.Element(9)
	switch s.Element(1) {
	case "85": // billing provider
		r.provider = Reference{Display: s.Element(3)}
		if s.Element(8) == "XX" {
			r.provider.Identifier = &Identifier{System: systemNPI, Value: id}
		}
	case "IL": // subscriber
		if id == "" {
			return syntaxf("the subscriber has no member ID")
		}
		r.member = id
	case "PR": // payer
		r.insurer = Reference{Identifier: &Identifier{Value: id}, Display: s.Element(3)}
	}
	return nil
}

func (r *reader837) startClaim(s Segment) error {
	if err := r.close(); err != nil {
		return err
	}
	if s.Element(1) == "" || r.member == "" || r.provider.Display == "" || r.insurer.Identifier == nil {
		return syntaxf("a claim needs CLM01 and, before it, a billing provider, subscriber and payer")
	}
	total, err := money(s.Element(2))
	if err != nil {
		return err
	}
	r.place = s.Component(r.d, 5, 1)
	if !twoDigits(r.place) {
		return syntaxf("CLM05 does not begin with a two-digit place of service")
	}
	member := &Identifier{Value: r.member}
	r.claim = &Claim{
		ResourceType: "Claim", Identifier: []Identifier{{System: systemCLM01, Value: s.Element(1)}}, Status: "active",
		Type: concept(systemClaimType, "professional"), Use: "claim", Patient: Reference{Identifier: member},
		Created: r.created, Insurer: r.insurer, Provider: r.provider, Priority: concept(systemPriority, "normal"),
		Insurance: []Insurance{{Sequence: 1, Focal: true, Coverage: Reference{Identifier: member}}}, Total: total,
	}
	return nil
}

func (r *reader837) diagnoses(s Segment) error {
	if r.claim == nil {
		return nil
	}
	for i := range s.Elements {
		q, code := s.Component(r.d, i+1, 1), s.Component(r.d, i+1, 2)
		var system string
		switch q {
		case "ABK", "ABF":
			system, code = systemICD10CM, dotted(code, 3)
		case "BK", "BF":
			system, code = systemICD9CM, dotted(code, 3+boolInt(strings.HasPrefix(code, "E")))
		default:
			continue // other qualifiers (BP, BR, ...) are not diagnoses
		}
		if code == "" {
			return syntaxf("HI%02d has no code", i+1)
		}
		r.claim.Diagnosis = append(r.claim.Diagnosis, Diagnosis{Sequence: len(r.claim.Diagnosis) + 1, Diagnosis: concept(system, code)})
	}
	return nil
}

func (r *reader837) startItem(s Segment) error {
	if r.claim == nil {
		return syntaxf("a service line outside a claim")
	}
	if err := r.closeItem(); err != nil {
		return err
	}
	n, err := strconv.Atoi(s.Element(1))
	if err != nil || n != len(r.claim.Item)+1 {
		return syntaxf("LX01 does not number the lines 1, 2, ...")
	}
	r.claim.Item = append(r.claim.Item, Item{Sequence: n})
	r.item = &r.claim.Item[n-1]
	return nil
}

func (r *reader837) service(s Segment) error {
	if r.item == nil || r.item.ProductOrService.Coding != nil {
		return syntaxf("SV1 must follow its LX, once")
	}
	q, code := s.Component(r.d, 1, 1), s.Component(r.d, 1, 2)
	if q != "HC" || code == "" {
		return syntaxf("SV101 is not an HCPCS/CPT code (HC)")
	}
	system := systemCPT
	if code[0] < '0' || code[0] > '9' {
		system = systemHCPCS
	}
	r.item.ProductOrService = concept(system, code)
	for j := 3; j <= 6; j++ {
		if m := s.Component(r.d, 1, j); m != "" {
			r.item.Modifier = append(r.item.Modifier, concept(systemCPT+"-modifier", m))
		}
	}
	var err error
	if r.item.Net, err = money(s.Element(2)); err != nil {
		return err
	}
	if s.Element(3) != "UN" && s.Element(3) != "MJ" {
		return syntaxf("SV103 is not a unit (UN) or minutes (MJ)")
	}
	units, err := decimal(s.Element(4), 3)
	if err != nil {
		return err
	}
	r.item.Quantity = Quantity{Value: units}
	place := r.place
	if p := s.Element(5); p != "" {
		place = p
	}
	if !twoDigits(place) {
		return syntaxf("SV105 is not a two-digit place of service")
	}
	loc := concept(systemPOS, place)
	r.item.Location = &loc
	for j := 1; j <= 4; j++ {
		p := s.Component(r.d, 7, j)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > len(r.claim.Diagnosis) {
			return syntaxf("SV107 points at no diagnosis of the claim")
		}
		r.item.DiagnosisSequence = append(r.item.DiagnosisSequence, n)
	}
	return nil
}

func (r *reader837) serviceDate(s Segment) error {
	switch s.Element(2) {
	case "D8":
		date, err := fhirDate(s.Element(3))
		r.item.ServicedDate = date
		return err
	case "RD8":
		from, to, _ := strings.Cut(s.Element(3), "-")
		start, err := fhirDate(from)
		if err != nil {
			return err
		}
		end, err := fhirDate(to)
		if err != nil || end < start {
			return syntaxf("DTP03 is not a date range")
		}
		r.item.ServicedPeriod = &Period{Start: start, End: end}
		return nil
	}
	return syntaxf("DTP02 is not D8 or RD8")
}

// closeItem checks the line before the next: a procedure and a date.
func (r *reader837) closeItem() error {
	if r.item == nil {
		return nil
	}
	it := r.item
	r.item = nil
	if it.ProductOrService.Coding == nil {
		return syntaxf("line %d has no SV1", it.Sequence)
	}
	if it.ServicedDate == "" && it.ServicedPeriod == nil {
		return syntaxf("line %d has no date of service (DTP*472)", it.Sequence)
	}
	return nil
}

// close ends the open claim, if any, checking it has lines.
func (r *reader837) close() error {
	if err := r.closeItem(); err != nil {
		return err
	}
	if r.claim == nil {
		return nil
	}
	if len(r.claim.Item) == 0 {
		return syntaxf("claim %d has no service line", len(r.claims)+1)
	}
	r.claims = append(r.claims, *r.claim)
	r.claim = nil
	return nil
}

func concept(system, code string) CodeableConcept {
	return CodeableConcept{Coding: []Coding{{System: system, Code: code}}}
}

// money reads an X12 amount (R: up to two decimals, not negative) as USD.
func money(s string) (Money, error) {
	v, err := decimal(s, 2)
	return Money{Value: v, Currency: "USD"}, err
}

// decimal reads an X12 decimal of at most frac fraction digits, not
// negative and not absurd, as its canonical JSON number.
func decimal(s string, frac int) (json.Number, error) {
	whole, f, dot := strings.Cut(s, ".")
	if whole == "" && f == "" || len(whole) > 10 || len(f) > frac || dot && f == "" || !digits(whole) || !digits(f) {
		return "", syntaxf("an amount or quantity is not a decimal of at most %d fraction digits", frac)
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if f = strings.TrimRight(f, "0"); f != "" {
		whole += "." + f
	}
	return json.Number(whole), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func twoDigits(s string) bool { return len(s) == 2 && digits(s) }

// fhirDate turns CCYYMMDD into a FHIR date, checking it is one.
func fhirDate(s string) (string, error) {
	if len(s) != 8 || !digits(s) {
		return "", syntaxf("a date is not CCYYMMDD")
	}
	m, d := (s[4]-'0')*10+s[5]-'0', (s[6]-'0')*10+s[7]-'0'
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return "", syntaxf("a date is not CCYYMMDD")
	}
	return s[:4] + "-" + s[4:6] + "-" + s[6:], nil
}

// dotted writes an ICD code the way FHIR's code systems do, with a dot
// after its category (X12 sends it without).
func dotted(code string, at int) string {
	if len(code) <= at || strings.Contains(code, ".") {
		return code
	}
	return code[:at] + "." + code[at:]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ServiceLines returns the claim's lines as an 835 remits them: code,
// modifiers, whole units and the first date of service.
func (c *Claim) ServiceLines() ([]ServiceLine, error) {
	out := make([]ServiceLine, len(c.Item))
	for i, it := range c.Item {
		if len(it.ProductOrService.Coding) == 0 {
			return nil, fmt.Errorf("item %d has no procedure code", i+1)
		}
		l := ServiceLine{Code: it.ProductOrService.Coding[0].Code}
		for _, m := range it.Modifier {
			if len(m.Coding) > 0 {
				l.Modifiers = append(l.Modifiers, m.Coding[0].Code)
			}
		}
		units, err := strconv.ParseUint(string(it.Quantity.Value), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("item %d: quantity is not a whole number of units", i+1)
		}
		l.Units = units
		date := it.ServicedDate
		if it.ServicedPeriod != nil {
			date = it.ServicedPeriod.Start
		}
		d, err := strconv.ParseUint(strings.ReplaceAll(date, "-", ""), 10, 32)
		if err != nil || len(date) != 10 {
			return nil, fmt.Errorf("item %d has no date of service", i+1)
		}
		l.Date = uint32(d)
		out[i] = l
	}
	return out, nil
}
