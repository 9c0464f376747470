package consent

import (
	"slices"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the consent contract. Numbers are append-only.
const (
	TypeGrant   uint64 = 32
	TypeRevoke  uint64 = 33
	TypeRequest uint64 = 34
	TypeAnswer  uint64 = 35
	TypeAccess  uint64 = 36
	TypeReview  uint64 = 37
	TypeSetTeam uint64 = 38
)

// Limits on message fields.
const (
	MaxTypes    = 32
	MaxRecords  = 64
	MaxPurposes = 8
	MaxItems    = 100
	maxTypeLen  = 64
	maxCodeLen  = 128
	// A care team names at most MaxTeamMembers accounts and MaxTeamOrgs
	// organizations.
	MaxTeamMembers = 32
	MaxTeamOrgs    = 16
	// MaxTeamsPerPatient bounds the care teams one patient forms.
	MaxTeamsPerPatient = 16
)

// Grantee is whom a grant permits: one member (Member set, the rest
// empty), every member of an organization (Org), the members of an
// organization holding a role (Org and Role), or the patient's care team
// (Team), whoever is on it when a record is read.
type Grantee struct {
	Org    string        `json:"org,omitempty"`
	Role   identity.Role `json:"role,omitempty"`
	Member tx.Address    `json:"member,omitzero"`
	Team   uint64        `json:"team,omitempty"`
}

// SetTeam forms a patient's care team (Team 0: a new one, numbered by the
// contract) or replaces the members of team Team: accounts (a physician, a
// nurse, a caregiver, members or patients) and organizations, every member
// of which is on the team. A grant to the team covers whoever is on it at
// each read. An empty team permits no one. The signer must be the patient
// or a delegate. A team has no name on the chain: a name could say what the
// patient is treated for.
type SetTeam struct {
	Patient tx.Address   `json:"patient"`
	Team    uint64       `json:"team"`
	Members []tx.Address `json:"members"`
	Orgs    []string     `json:"orgs"`
}

// Scope is what a grant or request covers. A record is in scope when its
// type is one of Types ("*" for any type), and, if Categories is set, one of
// its categories is, and, if Records is set, it is one of them ("Type/id").
type Scope struct {
	Types      []string `json:"types"`
	Categories []string `json:"categories,omitempty"`
	Records    []string `json:"records,omitempty"`
}

// Grant permits Grantee to read Patient's records in Scope for one of
// Purposes, from NotBefore until NotAfter (Unix seconds of block time;
// NotAfter 0 for no end), when Condition (CEL, optional) holds. The signer
// must be the patient or a delegate.
type Grant struct {
	Patient   tx.Address `json:"patient"`
	Grantee   Grantee    `json:"grantee"`
	Scope     Scope      `json:"scope"`
	Purposes  []string   `json:"purposes"`
	NotBefore int64      `json:"not_before"`
	NotAfter  int64      `json:"not_after"`
	Condition string     `json:"condition,omitempty"`
}

// Revoke ends a grant. The signer must be the patient or a delegate.
type Revoke struct{ Grant uint64 }

// Request asks Patient for access to Scope for Purpose during Duration
// seconds once approved. Reason is a code from Reasons, never free text,
// since free text could carry health data onto the chain. The signer is the
// requesting member.
type Request struct {
	Patient  tx.Address `json:"patient"`
	Scope    Scope      `json:"scope"`
	Purpose  string     `json:"purpose"`
	Duration uint64     `json:"duration"` // seconds
	Reason   string     `json:"reason"`
}

// Answer approves (creating a grant to the requester) or denies a pending
// request. The signer must be the patient or a delegate.
type Answer struct {
	Request uint64
	Approve bool
}

// Access asks for a decision on Requester reading Patient's records at the
// signer's organization (the custodian) for Purpose: one Item per record
// read, or per resource type searched. The signer is a service member of the
// custodian: its node records the decision before it releases any data.
type Access struct {
	Requester  tx.Address
	Patient    tx.Address
	Purpose    string
	BreakGlass bool
	Items      []Item
	// GlassReason is one of GlassReasons, required with BreakGlass and
	// encoded only then (after the items), so an access that does not
	// break the glass keeps the encoding it had before the reason existed.
	GlassReason string
}

// Item is one record (ID set) or one search over a resource type (ID empty).
type Item struct {
	Type       string   `json:"type"`
	ID         string   `json:"id,omitempty"`
	Categories []string `json:"categories,omitempty"`
}

// Ref returns "Type/id" for a record and "Type" for a search.
func (it Item) Ref() string {
	if it.ID == "" {
		return it.Type
	}
	return it.Type + "/" + it.ID
}

// Review closes the custodian privacy officer's review of a break-the-glass
// access, finding it justified or not.
type Review struct {
	Access    uint64
	Justified bool
}

// Purposes are the HL7 v3 PurposeOfUse codes a grant or access may name.
var Purposes = []string{
	"TREAT",     // treatment
	"ETREAT",    // emergency treatment
	"CAREMGT",   // care management
	"COC",       // coordination of care
	"HPAYMT",    // healthcare payment
	"HOPERAT",   // healthcare operations
	"HRESCH",    // healthcare research
	"CLINTRCH",  // clinical trial research
	"PUBHLTH",   // public health
	"HLEGAL",    // legal
	"PATRQT",    // patient requested
	"FAMRQT",    // family requested
	"HSYSADMIN", // system administration
}

// GlassReasons are the codes a break-the-glass access gives for the
// emergency: coded, since the chain must carry no free text that may be
// health information.
var GlassReasons = []string{
	"unconscious",       // the patient is unconscious
	"life_threatening",  // a life-threatening condition leaves no time to ask
	"unable_to_consent", // the patient cannot consent (confused, sedated, a minor alone)
	"other",             // another emergency, explained to the privacy officer's review
}

// Reasons are the codes an access request may give.
var Reasons = []string{"referral", "second_opinion", "continuity_of_care", "emergency", "billing", "research", "other"}

func (Grant) Type() uint64   { return TypeGrant }
func (Revoke) Type() uint64  { return TypeRevoke }
func (Request) Type() uint64 { return TypeRequest }
func (Answer) Type() uint64  { return TypeAnswer }
func (Access) Type() uint64  { return TypeAccess }
func (Review) Type() uint64  { return TypeReview }
func (SetTeam) Type() uint64 { return TypeSetTeam }

func (g Grantee) encode(w *wire.Writer) {
	w.String(g.Org)
	w.String(string(g.Role))
	w.Raw(g.Member[:])
	w.Uint(g.Team)
}

func readGrantee(r *wire.Reader) Grantee {
	g := Grantee{Org: r.String(64), Role: identity.Role(r.String(32))}
	copy(g.Member[:], r.Raw(tx.AddressSize))
	g.Team = r.Uint()
	return g
}

func (m SetTeam) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	w.Uint(m.Team)
	w.Uint(uint64(len(m.Members)))
	for _, a := range m.Members {
		w.Raw(a[:])
	}
	w.Strings(m.Orgs)
}

func readSetTeam(r *wire.Reader) SetTeam {
	var m SetTeam
	copy(m.Patient[:], r.Raw(tx.AddressSize))
	m.Team = r.Uint()
	m.Members = make([]tx.Address, r.Count(MaxTeamMembers))
	for i := range m.Members {
		copy(m.Members[i][:], r.Raw(tx.AddressSize))
	}
	m.Orgs = r.Strings(MaxTeamOrgs, 64)
	return m
}

func (m SetTeam) validate() error {
	for i, a := range m.Members {
		if a == (tx.Address{}) {
			return tx.Rejectf(tx.CodeInvalid, "member %d is the zero address", i)
		}
		if a == m.Patient {
			return tx.Rejectf(tx.CodeInvalid, "the patient is not a member of their own care team")
		}
		if slices.Contains(m.Members[:i], a) {
			return tx.Rejectf(tx.CodeInvalid, "member %s is named twice", a)
		}
	}
	for i, o := range m.Orgs {
		if err := identity.ValidateOrgID(o); err != nil {
			return err
		}
		if slices.Contains(m.Orgs[:i], o) {
			return tx.Rejectf(tx.CodeInvalid, "organization %s is named twice", o)
		}
	}
	return nil
}

func (s Scope) encode(w *wire.Writer) {
	w.Strings(s.Types)
	w.Strings(s.Categories)
	w.Strings(s.Records)
}

func readScope(r *wire.Reader) Scope {
	return Scope{
		Types:      r.Strings(MaxTypes, maxTypeLen),
		Categories: r.Strings(condition.MaxCategories, maxCodeLen),
		Records:    r.Strings(MaxRecords, records.MaxRecordRef),
	}
}

func (m Grant) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	m.Grantee.encode(w)
	m.Scope.encode(w)
	w.Strings(m.Purposes)
	w.Uint(uint64(m.NotBefore))
	w.Uint(uint64(m.NotAfter))
	w.String(m.Condition)
}

func readGrant(r *wire.Reader) Grant {
	var g Grant
	copy(g.Patient[:], r.Raw(tx.AddressSize))
	g.Grantee = readGrantee(r)
	g.Scope = readScope(r)
	g.Purposes = r.Strings(MaxPurposes, 16)
	g.NotBefore = int64(r.Uint())
	g.NotAfter = int64(r.Uint())
	g.Condition = r.String(condition.MaxLength)
	return g
}

func (m Revoke) EncodeTo(w *wire.Writer) { w.Uint(m.Grant) }

func (m Request) EncodeTo(w *wire.Writer) {
	w.Raw(m.Patient[:])
	m.Scope.encode(w)
	w.String(m.Purpose)
	w.Uint(m.Duration)
	w.String(m.Reason)
}

func readRequest(r *wire.Reader) Request {
	var q Request
	copy(q.Patient[:], r.Raw(tx.AddressSize))
	q.Scope = readScope(r)
	q.Purpose = r.String(16)
	q.Duration = r.Uint()
	q.Reason = r.String(32)
	return q
}

func (m Answer) EncodeTo(w *wire.Writer) {
	w.Uint(m.Request)
	w.Bool(m.Approve)
}

func (m Access) EncodeTo(w *wire.Writer) {
	w.Raw(m.Requester[:])
	w.Raw(m.Patient[:])
	w.String(m.Purpose)
	w.Bool(m.BreakGlass)
	w.Uint(uint64(len(m.Items)))
	for _, it := range m.Items {
		w.String(it.Type)
		w.String(it.ID)
		w.Strings(it.Categories)
	}
	if m.BreakGlass {
		w.String(m.GlassReason)
	}
}

func readAccess(r *wire.Reader) Access {
	var a Access
	copy(a.Requester[:], r.Raw(tx.AddressSize))
	copy(a.Patient[:], r.Raw(tx.AddressSize))
	a.Purpose = r.String(16)
	a.BreakGlass = r.Bool()
	a.Items = make([]Item, r.Count(MaxItems))
	for i := range a.Items {
		a.Items[i] = Item{Type: r.String(maxTypeLen), ID: r.String(64), Categories: r.Strings(condition.MaxCategories, maxCodeLen)}
	}
	if a.BreakGlass {
		a.GlassReason = r.String(maxGlassReason)
	}
	return a
}

func (m Review) EncodeTo(w *wire.Writer) {
	w.Uint(m.Access)
	w.Bool(m.Justified)
}

func readRevoke(r *wire.Reader) Revoke { return Revoke{Grant: r.Uint()} }
func readAnswer(r *wire.Reader) Answer { return Answer{Request: r.Uint(), Approve: r.Bool()} }
func readReview(r *wire.Reader) Review { return Review{Access: r.Uint(), Justified: r.Bool()} }

// maxGlassReason bounds a break-the-glass reason code.
const maxGlassReason = 32

// validateGlassReason requires a known reason with break_glass and none
// without it (it would not be encoded).
func validateGlassReason(breakGlass bool, reason string) error {
	switch {
	case breakGlass && !slices.Contains(GlassReasons, reason):
		return tx.Rejectf(tx.CodeInvalid, "break the glass needs a reason code, one of %v", GlassReasons)
	case !breakGlass && reason != "":
		return tx.Rejectf(tx.CodeInvalid, "a break-the-glass reason without break_glass")
	}
	return nil
}

func validatePurpose(p string) error {
	if !slices.Contains(Purposes, p) {
		return tx.Rejectf(tx.CodeInvalid, "unknown purpose of use %q (want one of %v)", p, Purposes)
	}
	return nil
}

func (s Scope) validate() error {
	if len(s.Types) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a scope names at least one resource type, or \"*\"")
	}
	for _, t := range s.Types {
		if err := validateType(t, true); err != nil {
			return err
		}
	}
	for _, c := range s.Categories {
		if c == "" {
			return tx.Rejectf(tx.CodeInvalid, "empty category code")
		}
	}
	for _, ref := range s.Records {
		if err := records.ValidateRef(ref); err != nil {
			return err
		}
	}
	return nil
}

// validateType checks a FHIR resource type name: a capital letter then
// letters, or "*" where wildcard is allowed.
func validateType(t string, wildcard bool) error {
	if t == "*" && wildcard {
		return nil
	}
	ok := len(t) > 0 && t[0] >= 'A' && t[0] <= 'Z'
	for i := 0; ok && i < len(t); i++ {
		c := t[i]
		ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	}
	if !ok {
		return tx.Rejectf(tx.CodeInvalid, "%q is not a resource type name", t)
	}
	return nil
}

func (g Grantee) validate() error {
	if g.Member != (tx.Address{}) || g.Team != 0 {
		if g.Org != "" || g.Role != "" || g.Member != (tx.Address{}) && g.Team != 0 {
			return tx.Rejectf(tx.CodeInvalid, "a grantee is a member, a care team, or an organization with an optional role: one of them")
		}
		return nil
	}
	if err := identity.ValidateOrgID(g.Org); err != nil {
		return err
	}
	if g.Role != "" {
		if _, err := identity.ParseRole(string(g.Role)); err != nil {
			return tx.Rejectf(tx.CodeInvalid, "unknown role %q", g.Role)
		}
	}
	return nil
}
