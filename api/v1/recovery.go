package v1

import "github.com/careledger/careledger/contract/identity"

// RecoveryAnswer is the answer of GET /v1/patients/{address}/recovery.
type RecoveryAnswer struct {
	// Guardians is the patient's guardian set and the recovery pending, if
	// any; null if the patient named no guardians.
	Guardians *identity.GuardianSet `json:"guardians"`
	// MinDelay is the least delay, in seconds, this network lets a patient
	// set.
	MinDelay uint64 `json:"min_delay"`
}
