package v1

import (
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
)

// GrantList is the answer of GET /v1/patients/{address}/grants.
type GrantList struct {
	Grants []*consent.StoredGrant `json:"grants"`
}

// TeamList is the answer of GET /v1/patients/{address}/teams: the
// patient's care teams, oldest first.
type TeamList struct {
	Teams []*consent.Team `json:"teams"`
}

// DelegateList is the answer of GET /v1/patients/{address}/delegates.
type DelegateList struct {
	Delegates []identity.Delegate `json:"delegates"`
}

// ReviewList is the answer of GET /v1/orgs/{id}/reviews.
type ReviewList struct {
	Reviews []*consent.PendingReview `json:"reviews"`
}

// ValidatorList is the answer of GET /v1/validators.
type ValidatorList struct {
	Validators []identity.Validator `json:"validators"`
}
