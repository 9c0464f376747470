package identity

import (
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// OrgType is the kind of an organization.
type OrgType string

// The organization types.
const (
	Provider  OrgType = "provider"
	Payer     OrgType = "payer"
	Pharma    OrgType = "pharma"
	Research  OrgType = "research"
	Regulator OrgType = "regulator"
)

var orgTypes = []OrgType{Provider, Payer, Pharma, Research, Regulator}

// Role is what a member may do within their organization.
type Role string

// The member roles.
const (
	Physician      Role = "physician"
	Nurse          Role = "nurse"
	Pharmacist     Role = "pharmacist"
	Researcher     Role = "researcher"
	ClaimsAgent    Role = "claims_agent"
	PrivacyOfficer Role = "privacy_officer"
	Auditor        Role = "auditor"
	Admin          Role = "admin"
	// Service is a node's own key: it anchors the records its organization
	// holds and records the access decisions its reads need.
	Service Role = "service"
)

var roles = []Role{Physician, Nurse, Pharmacist, Researcher, ClaimsAgent, PrivacyOfficer, Auditor, Admin, Service}

// Roles returns every role.
func Roles() []Role { return slices.Clone(roles) }

// Kind tells patients from organization members and patients' devices.
type Kind string

// The account kinds.
const (
	Patient Kind = "patient"
	Member  Kind = "member"
	// Device is a patient's monitoring device (SetDevice): it signs no
	// transaction and only writes readings through its custodian's API.
	Device Kind = "device"
)

// Organization is a participant of the network.
type Organization struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Type OrgType `json:"type"`
	// ValidatorKey is the organization's CometBFT validator key (Ed25519), if
	// it runs a validator, and Power its voting power.
	ValidatorKey tx.PubKey `json:"validator_key,omitempty"`
	Power        int64     `json:"power,omitempty"`
	Suspended    bool      `json:"suspended"`
	// Removed is for good: a removed organization stays suspended, with no
	// validator power.
	Removed bool `json:"removed,omitempty"`
}

// ValidatorPower is the power the organization's validator holds in
// consensus: none while the organization is suspended.
func (o *Organization) ValidatorPower() int64 {
	if o.Suspended {
		return 0
	}
	return o.Power
}

// Account is a patient or a member of an organization.
type Account struct {
	Address   tx.Address `json:"address"`
	PubKey    tx.PubKey  `json:"pub_key"`
	Kind      Kind       `json:"kind"`
	Org       string     `json:"org,omitempty"`
	Roles     []Role     `json:"roles,omitempty"`
	Suspended bool       `json:"suspended"`
	Since     int64      `json:"since"` // height at which the account was registered
	// Sequence is the number the account's next transaction must carry.
	// The app consumes it; it lives here, as in the Cosmos SDK's accounts,
	// so that a transaction reads and writes one record for its signer.
	Sequence uint64 `json:"sequence"`
}

// HasRole reports whether the account holds role.
func (a *Account) HasRole(role Role) bool { return slices.Contains(a.Roles, role) }

const (
	maxOrgName = 100
	maxRoles   = 8
	maxRoleLen = 32
)

var orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// ValidateOrgID checks an organization ID: 3 to 64 lowercase letters, digits
// and inner hyphens.
func ValidateOrgID(id string) error {
	if !orgIDPattern.MatchString(id) {
		return tx.Rejectf(tx.CodeInvalid, "organization id must be 3-64 characters of a-z, 0-9 and inner '-'")
	}
	return nil
}

func validateOrgType(t OrgType) error {
	if !slices.Contains(orgTypes, t) {
		return tx.Rejectf(tx.CodeInvalid, "unknown organization type %q", t)
	}
	return nil
}

func validateOrgName(name string) error {
	if name == "" || len(name) > maxOrgName || !utf8.ValidString(name) {
		return tx.Rejectf(tx.CodeInvalid, "organization name must be 1-%d bytes of UTF-8", maxOrgName)
	}
	return nil
}

// normalizeRoles checks roles and returns them sorted without duplicates.
func normalizeRoles(rs []Role) ([]Role, error) {
	if len(rs) == 0 {
		return nil, tx.Rejectf(tx.CodeInvalid, "a member needs at least one role")
	}
	for _, r := range rs {
		if !slices.Contains(roles, r) {
			return nil, tx.Rejectf(tx.CodeInvalid, "unknown role %q", r)
		}
	}
	out := slices.Clone(rs)
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	if !slices.Contains(roles, Role(s)) {
		return "", fmt.Errorf("unknown role %q (want one of %v)", s, roles)
	}
	return Role(s), nil
}

// ParseOrgType returns the organization type named s.
func ParseOrgType(s string) (OrgType, error) {
	if err := validateOrgType(OrgType(s)); err != nil {
		return "", fmt.Errorf("unknown organization type %q (want one of %v)", s, orgTypes)
	}
	return OrgType(s), nil
}

func writeRoles(w *wire.Writer, rs []Role) {
	w.Uint(uint64(len(rs)))
	for _, r := range rs {
		w.String(string(r))
	}
}

func readRoles(r *wire.Reader) []Role {
	ss := r.Strings(maxRoles, maxRoleLen)
	if ss == nil {
		return nil
	}
	rs := make([]Role, len(ss))
	for i, s := range ss {
		rs[i] = Role(s)
	}
	return rs
}

func (o *Organization) encode() []byte {
	w := wire.NewWriter(64 + len(o.Name))
	w.String(o.ID)
	w.String(o.Name)
	w.String(string(o.Type))
	w.Blob(o.ValidatorKey)
	w.Uint(uint64(o.Power))
	w.Bool(o.Suspended)
	w.Bool(o.Removed)
	return w.Bytes()
}

func decodeOrganization(b []byte) (*Organization, error) {
	r := wire.NewReader(b)
	o := &Organization{
		ID:           r.String(64),
		Name:         r.String(maxOrgName),
		Type:         OrgType(r.String(16)),
		ValidatorKey: cloneBytes(r.Blob(tx.PubKeySize)),
		Power:        int64(r.Uint()),
		Suspended:    r.Bool(),
		Removed:      r.Bool(),
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode organization: %w", err)
	}
	return o, nil
}

func (a *Account) encode() []byte {
	w := wire.NewWriter(96)
	w.Raw(a.Address[:])
	w.Raw(a.PubKey)
	w.String(string(a.Kind))
	w.String(a.Org)
	writeRoles(w, a.Roles)
	w.Bool(a.Suspended)
	w.Uint(uint64(a.Since))
	w.Uint(a.Sequence)
	return w.Bytes()
}

func decodeAccount(b []byte) (*Account, error) {
	r := wire.NewReader(b)
	a := &Account{}
	copy(a.Address[:], r.Raw(tx.AddressSize))
	a.PubKey = cloneBytes(r.Raw(tx.PubKeySize))
	a.Kind = Kind(r.String(16))
	a.Org = r.String(64)
	a.Roles = readRoles(r)
	a.Suspended = r.Bool()
	a.Since = int64(r.Uint())
	a.Sequence = r.Uint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode account: %w", err)
	}
	return a, nil
}

func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return slices.Clone(b)
}
