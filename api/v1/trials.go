package v1

import (
	"time"

	"github.com/careledger/careledger/contract/trials"
)

// TrialAnswer is a registered trial with every protocol version, in order
// (GET /v1/trials/{id}).
type TrialAnswer struct {
	Trial    *trials.Trial     `json:"trial"`
	Versions []*trials.Version `json:"versions"`
}

// RecruitmentAnswer is a trial's recruitment as the chain holds it
// (GET /v1/trials/{id}/recruitment): every published eligibility rule, in
// order, and each custodian's latest count of matching patients. It names
// no patient: the sponsor learns who a patient is only when they consent.
type RecruitmentAnswer struct {
	Trial    string                     `json:"trial"`
	Criteria []*trials.CriteriaRevision `json:"criteria"`
	Counts   []*trials.Count            `json:"counts"`
	// Matched is the sum of the counts of the current revision.
	Matched uint64 `json:"matched"`
}

// RecruitAnswer is one custodian's evaluation of a trial's current
// criteria (POST /v1/trials/{id}/recruit): the revision and the count it
// published, and the block that holds the count.
type RecruitAnswer struct {
	Trial     string `json:"trial"`
	Custodian string `json:"custodian"`
	Revision  uint64 `json:"revision"`
	Matched   uint64 `json:"matched"`
	Height    int64  `json:"height"`
}

// Invitation tells a patient that they match a trial's eligibility
// criteria at a custodian; only that custodian's node holds it.
type Invitation struct {
	Trial     string    `json:"trial"`
	Revision  uint64    `json:"revision"`
	Custodian string    `json:"custodian"`
	Time      time.Time `json:"time"`
}

// InvitationList is a patient's invitations at one custodian's node
// (GET /v1/patients/{address}/invitations), ordered by trial.
type InvitationList struct {
	Invitations []Invitation `json:"invitations"`
}
