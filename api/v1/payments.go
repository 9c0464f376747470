package v1

import (
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
)

// BalanceAnswer is the answer of GET /v1/patients/{address}/balance: the
// patient's ledger account and its balance in minor units. The history is
// the account's events (GET /v1/events?account=).
type BalanceAnswer struct {
	Account string `json:"account"`
	Balance uint64 `json:"balance"`
}

// SlotList is the answer of GET /v1/schedules/{provider}/{schedule}/slots:
// the schedule's slots in time order. A booked slot names its patient only
// to the provider's members and to the patient.
type SlotList struct {
	Category string           `json:"category"`
	Virtual  bool             `json:"virtual"`
	Policy   schedule.Policy  `json:"policy"`
	Slots    []*schedule.Slot `json:"slots"`
}

// ScheduleList is the answer of GET /v1/orgs/{id}/schedules: the schedules
// the provider published, ordered by ID.
type ScheduleList struct {
	Schedules []ScheduleEntry `json:"schedules"`
}

// ScheduleEntry is one published schedule: its ID within the provider, its
// coarse category and the policy new bookings are made under.
type ScheduleEntry struct {
	ID       string          `json:"id"`
	Category string          `json:"category"`
	Virtual  bool            `json:"virtual"`
	Policy   schedule.Policy `json:"policy"`
}

// ProgramList is the answer of GET /v1/programs: every reward program,
// ordered by ID.
type ProgramList struct {
	Programs []ProgramEntry `json:"programs"`
}

// ProgramEntry is one reward program and its ID.
type ProgramEntry struct {
	ID string `json:"id"`
	rewards.Program
}
