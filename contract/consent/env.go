package consent

import (
	"time"

	"github.com/careledger/careledger/contract/condition"
)

// Bounds of the access environment's inputs, which the cost estimate relies
// on. Nothing is truncated: the decoders refuse inputs beyond them (identity
// an account's roles, Decode an item's categories), and every string is a
// code, an identifier or an address, far shorter than maxString.
const (
	maxRoles  = 8
	maxString = 256
)

// accessEnv is what the network's default policy and a grant's condition
// see: one access request, through the variables of accessInput. Every one
// is a pseudonymous identifier or a code; none is health data. The block
// time is the only clock (now).
var accessEnv = condition.MustNewEnv(condition.EnvOptions{
	Name: "access",
	Vars: []condition.Var{
		{Name: "purpose", Type: condition.String, MaxSize: maxString},
		{Name: "requester", Type: condition.String, MaxSize: maxString},
		{Name: "requester_org", Type: condition.String, MaxSize: maxString},
		{Name: "requester_org_type", Type: condition.String, MaxSize: maxString},
		{Name: "requester_roles", Type: condition.List(condition.String), MaxSize: maxRoles, MaxItemSize: maxString},
		{Name: "custodian", Type: condition.String, MaxSize: maxString},
		{Name: "patient", Type: condition.String, MaxSize: maxString},
		{Name: "resource_type", Type: condition.String, MaxSize: maxString},
		{Name: "record", Type: condition.String, MaxSize: maxString},
		{Name: "categories", Type: condition.List(condition.String), MaxSize: condition.MaxCategories, MaxItemSize: maxString},
		{Name: "break_glass", Type: condition.Bool},
		{Name: "now", Type: condition.Timestamp},
	},
})

// accessInput is the activation of accessEnv: one access request.
type accessInput struct {
	Purpose        string    // purpose: HL7 PurposeOfUse code, e.g. "TREAT"
	Requester      string    // requester: the requesting account's address
	RequesterOrg   string    // requester_org: its organization ("" for a patient)
	RequesterType  string    // requester_org_type: provider, payer, ...
	RequesterRoles []string  // requester_roles: its roles
	Custodian      string    // custodian: the organization holding the records
	Patient        string    // patient: the patient's pseudonym (address)
	ResourceType   string    // resource_type: the FHIR resource type
	Record         string    // record: the record's id, "" for a search
	Categories     []string  // categories: the record's category codes
	BreakGlass     bool      // break_glass: the requester declared an emergency (never set: Decide is not told, so it is false)
	Now            time.Time // now: the block time
}

// ResolveName resolves accessEnv's variables without building a map.
func (in *accessInput) ResolveName(name string) (any, bool) {
	switch name {
	case "purpose":
		return in.Purpose, true
	case "requester":
		return in.Requester, true
	case "requester_org":
		return in.RequesterOrg, true
	case "requester_org_type":
		return in.RequesterType, true
	case "requester_roles":
		return in.RequesterRoles, true
	case "custodian":
		return in.Custodian, true
	case "patient":
		return in.Patient, true
	case "resource_type":
		return in.ResourceType, true
	case "record":
		return in.Record, true
	case "categories":
		return in.Categories, true
	case "break_glass":
		return in.BreakGlass, true
	case "now":
		return in.Now.UTC(), true
	}
	return nil, false
}

// conditionInput is what expressions see of item in this access.
func (in *decideInput) conditionInput(it Item) *accessInput {
	a := in.requester.Account
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		roles[i] = string(r)
	}
	return &accessInput{
		Purpose:        in.purpose,
		Requester:      a.Address.String(),
		RequesterOrg:   a.Org,
		RequesterType:  string(in.requester.OrgType),
		RequesterRoles: roles,
		Custodian:      in.custodian,
		Patient:        in.patient.String(),
		ResourceType:   it.Type,
		Record:         it.ID,
		Categories:     it.Categories,
		Now:            in.now,
	}
}
