package consent

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Reader reads state; contract.Store and state.View both satisfy it.
type Reader = identity.Reader

// State keys of the consent contract.
var (
	policyKey = []byte("c/policy")
)

func idKey(prefix string, id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefix), id)
}

func grantKey(id uint64) []byte            { return idKey("g/", id) }
func requestKey(id uint64) []byte          { return idKey("q/", id) }
func patientGrantsKey(p tx.Address) []byte { return append([]byte("G/"), p[:]...) }

// ReviewPrefix is the state prefix of org's pending break-the-glass reviews.
func ReviewPrefix(org string) []byte { return append(append([]byte("v/"), org...), 0) }

func reviewKey(org string, access uint64) []byte {
	return binary.BigEndian.AppendUint64(ReviewPrefix(org), access)
}

// nextID returns the next number of a sequence (grants, requests, accesses),
// starting at 1.
func nextID(s contract.Store, name string) (uint64, error) {
	k := []byte("n/" + name)
	b, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	var n uint64
	if b != nil {
		r := wire.NewReader(b)
		n = r.Uint()
		if err := r.Done(); err != nil {
			return 0, fmt.Errorf("decode counter %s: %w", name, err)
		}
	}
	n++
	w := wire.NewWriter(10)
	w.Uint(n)
	return n, s.Set(k, w.Bytes())
}

// Policy is the network's default access policy and the cost limit of every
// condition. Governance changes it; genesis sets it first.
type Policy struct {
	// Default is the CEL expression that permits an access no grant
	// covers. Default DefaultPolicy.
	Default string `json:"default_policy"`
	// CostLimit bounds the estimated and the actual cost of every
	// expression. Default 1000.
	CostLimit uint64 `json:"cel_cost_limit"`
}

// DefaultPolicy lets a custodian's own physicians and nurses read what their
// organization holds, for treatment, and patients read their own records.
const DefaultPolicy = `requester == patient || ` +
	`(purpose == "TREAT" && requester_org == custodian && requester_roles.exists(r, r in ["physician", "nurse"]))`

// EnsureDefaults fills the fields left zero.
func (p *Policy) EnsureDefaults() {
	if p.Default == "" {
		p.Default = DefaultPolicy
	}
	if p.CostLimit == 0 {
		p.CostLimit = 1000
	}
}

func (p Policy) encode() []byte {
	w := wire.NewWriter(len(p.Default) + 16)
	w.String(p.Default)
	w.Uint(p.CostLimit)
	return w.Bytes()
}

// LoadPolicy returns the policy in state.
func LoadPolicy(s Reader) (Policy, error) {
	b, err := s.Get(policyKey)
	if err != nil {
		return Policy{}, err
	}
	if b == nil {
		return Policy{}, fmt.Errorf("no consent policy in state")
	}
	r := wire.NewReader(b)
	p := Policy{Default: r.String(1 << 16), CostLimit: r.Uint()}
	if err := r.Done(); err != nil {
		return p, fmt.Errorf("decode consent policy: %w", err)
	}
	return p, nil
}

// StoredGrant is a grant as the state keeps it.
type StoredGrant struct {
	ID uint64 `json:"id"`
	Grant
	By      tx.Address `json:"by"`      // the patient or delegate who signed it
	Height  int64      `json:"height"`  // when it was granted
	Request uint64     `json:"request"` // the request it answers, if any
	Revoked int64      `json:"revoked"` // height of its revocation, 0 if none
}

func (g *StoredGrant) encode() []byte {
	w := wire.NewWriter(256)
	g.write(w)
	return w.Bytes()
}

func (g *StoredGrant) write(w *wire.Writer) {
	w.Uint(g.ID)
	g.Grant.EncodeTo(w)
	w.Raw(g.By[:])
	w.Uint(uint64(g.Height))
	w.Uint(g.Request)
	w.Uint(uint64(g.Revoked))
}

func readStoredGrant(r *wire.Reader) *StoredGrant {
	g := &StoredGrant{ID: r.Uint(), Grant: readGrant(r)}
	copy(g.By[:], r.Raw(tx.AddressSize))
	g.Height = int64(r.Uint())
	g.Request = r.Uint()
	g.Revoked = int64(r.Uint())
	return g
}

// LoadGrant returns grant id, or nil.
func LoadGrant(s Reader, id uint64) (*StoredGrant, error) {
	b, err := s.Get(grantKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	g := readStoredGrant(r)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode grant %d: %w", id, err)
	}
	return g, nil
}

// Active reports whether the grant is in force at unix time now.
func (g *StoredGrant) Active(now int64) bool {
	return g.Revoked == 0 && g.NotBefore <= now && (g.NotAfter == 0 || now < g.NotAfter)
}

// PatientGrants returns patient's grants that may still be in force, oldest
// first. They are kept together, apart from each grant's own record, so
// that a decision reads them at once; revoked and expired grants leave the
// list when the patient's next grant is stored.
func PatientGrants(s Reader, patient tx.Address) ([]*StoredGrant, error) {
	b, err := s.Get(patientGrantsKey(patient))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	gs := make([]*StoredGrant, r.Count(MaxGrantsPerPatient))
	for i := range gs {
		gs[i] = readStoredGrant(r)
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode grants of %s: %w", patient, err)
	}
	return gs, nil
}

// saveGrant stores g in its own record and in its patient's list, where it
// replaces the grant with the same ID or is appended.
func saveGrant(s contract.Store, g *StoredGrant, list []*StoredGrant) error {
	if err := s.Set(grantKey(g.ID), g.encode()); err != nil {
		return err
	}
	if i := slices.IndexFunc(list, func(x *StoredGrant) bool { return x.ID == g.ID }); i >= 0 {
		list[i] = g
	} else {
		list = append(list, g)
	}
	w := wire.NewWriter(256 * len(list))
	w.Uint(uint64(len(list)))
	for _, x := range list {
		x.write(w)
	}
	return s.Set(patientGrantsKey(g.Patient), w.Bytes())
}

// RequestStatus is where an access request stands.
type RequestStatus string

// The request statuses.
const (
	Pending  RequestStatus = "pending"
	Approved RequestStatus = "approved"
	Denied   RequestStatus = "denied"
)

// StoredRequest is an access request as the state keeps it.
type StoredRequest struct {
	ID uint64 `json:"id"`
	Request
	Requester tx.Address    `json:"requester"`
	Org       string        `json:"org"`
	Height    int64         `json:"height"`
	Status    RequestStatus `json:"status"`
	Grant     uint64        `json:"grant,omitempty"` // the grant an approval created
}

func (q *StoredRequest) encode() []byte {
	w := wire.NewWriter(192)
	w.Uint(q.ID)
	q.Request.EncodeTo(w)
	w.Raw(q.Requester[:])
	w.String(q.Org)
	w.Uint(uint64(q.Height))
	w.String(string(q.Status))
	w.Uint(q.Grant)
	return w.Bytes()
}

// LoadRequest returns request id, or nil.
func LoadRequest(s Reader, id uint64) (*StoredRequest, error) {
	b, err := s.Get(requestKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	q := &StoredRequest{ID: r.Uint(), Request: readRequest(r)}
	copy(q.Requester[:], r.Raw(tx.AddressSize))
	q.Org = r.String(64)
	q.Height = int64(r.Uint())
	q.Status = RequestStatus(r.String(16))
	q.Grant = r.Uint()
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode request %d: %w", id, err)
	}
	return q, nil
}

// PendingReview is a break-the-glass access awaiting its custodian's
// privacy officer.
type PendingReview struct {
	Access    uint64     `json:"access"`
	Patient   tx.Address `json:"patient"`
	Requester tx.Address `json:"requester"`
	Purpose   string     `json:"purpose"`
	Reason    string     `json:"reason"` // one of GlassReasons
	Height    int64      `json:"height"`
}

func (v *PendingReview) encode() []byte {
	w := wire.NewWriter(64)
	w.Uint(v.Access)
	w.Raw(v.Patient[:])
	w.Raw(v.Requester[:])
	w.String(v.Purpose)
	w.Uint(uint64(v.Height))
	w.String(v.Reason)
	return w.Bytes()
}

// DecodeReview decodes a pending review as stored under ReviewPrefix.
func DecodeReview(b []byte) (*PendingReview, error) {
	r := wire.NewReader(b)
	v := &PendingReview{Access: r.Uint()}
	copy(v.Patient[:], r.Raw(tx.AddressSize))
	copy(v.Requester[:], r.Raw(tx.AddressSize))
	v.Purpose = r.String(16)
	v.Height = int64(r.Uint())
	v.Reason = r.String(maxGlassReason)
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode review: %w", err)
	}
	return v, nil
}

func teamKey(id uint64) []byte            { return idKey("t/", id) }
func patientTeamsKey(p tx.Address) []byte { return append([]byte("T/"), p[:]...) }

// PatientTeams returns the numbers of patient's care teams, oldest first.
func PatientTeams(s Reader, patient tx.Address) ([]uint64, error) {
	b, err := s.Get(patientTeamsKey(patient))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	ids := make([]uint64, r.Count(MaxTeamsPerPatient))
	for i := range ids {
		ids[i] = r.Uint()
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode teams of %s: %w", patient, err)
	}
	return ids, nil
}

func savePatientTeams(s contract.Store, patient tx.Address, ids []uint64) error {
	w := wire.NewWriter(10 * (len(ids) + 1))
	w.Uint(uint64(len(ids)))
	for _, id := range ids {
		w.Uint(id)
	}
	return s.Set(patientTeamsKey(patient), w.Bytes())
}

// Team is a patient's care team as the state keeps it.
type Team struct {
	ID uint64 `json:"id"`
	SetTeam
	Height int64 `json:"height"` // of its last change
}

// LoadTeam returns care team id, or nil.
func LoadTeam(s Reader, id uint64) (*Team, error) {
	b, err := s.Get(teamKey(id))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	t := &Team{ID: id, SetTeam: readSetTeam(r)}
	t.Height = int64(r.Uint())
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode team %d: %w", id, err)
	}
	return t, nil
}

func saveTeam(s contract.Store, t *Team) error {
	w := wire.NewWriter(64 + 32*len(t.Members))
	t.SetTeam.EncodeTo(w)
	w.Uint(uint64(t.Height))
	return s.Set(teamKey(t.ID), w.Bytes())
}

// Includes reports whether a is on the team: named, or a member of a named
// organization.
func (t *Team) Includes(a *identity.Account) bool {
	return slices.Contains(t.Members, a.Address) || a.Kind == identity.Member && a.Org != "" && slices.Contains(t.Orgs, a.Org)
}

// Names reports whether the grant names a as grantee: the member itself,
// a member of the organization (holding the role, if one is named), or
// whoever is on the care team now.
func (g *StoredGrant) Names(s Reader, a *identity.Account) (bool, error) {
	e := g.Grantee
	switch {
	case e.Member != (tx.Address{}):
		return e.Member == a.Address, nil
	case e.Team != 0:
		t, err := LoadTeam(s, e.Team)
		if err != nil || t == nil {
			return false, err
		}
		return t.Includes(a), nil
	}
	return a.Kind == identity.Member && e.Org == a.Org && (e.Role == "" || a.HasRole(e.Role)), nil
}
