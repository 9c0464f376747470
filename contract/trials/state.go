package trials

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// State keys. Every key of the contract starts with "T/" and a letter; none
// holds health data (trial IDs are public registry numbers, participants
// are pseudonymous accounts):
//
//	T/t/TRIAL                   trial
//	T/v/TRIAL \0 VER            protocol version (VER: 8 bytes)
//	T/p/TRIAL \0 PARTICIPANT    a participant's consent, enrollment and withdrawal
//	T/d/TRIAL \0 DATASET        data commitment
//	T/r/TRIAL \0 N              results report (N: 8 bytes, from 1)
//	T/s/SPONSOR \0 PARTICIPANT  the sponsor's trials the participant enrolled in
//
// and recruitment's keys (recruit.go).
func key(letter byte, trial string, rest ...byte) []byte {
	k := append([]byte{'T', '/', letter, '/'}, trial...)
	if rest != nil {
		k = append(append(k, 0), rest...)
	}
	return k
}

func num(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func trialKey(trial string) []byte                     { return key('t', trial) }
func versionKey(trial string, v uint64) []byte         { return key('v', trial, num(v)...) }
func participantKey(trial string, p tx.Address) []byte { return key('p', trial, p[:]...) }
func datasetKey(trial, dataset string) []byte          { return key('d', trial, []byte(dataset)...) }
func resultKey(trial string, n uint64) []byte          { return key('r', trial, num(n)...) }

// Trial is a registered trial as the state keeps it.
type Trial struct {
	ID      string  `json:"id"`
	Sponsor string  `json:"sponsor"`
	Board   string  `json:"board"`
	Study   tx.Hash `json:"study"`
	// InForce is the approved protocol version in force (0 before the
	// first approval), Versions the number of versions proposed.
	InForce  uint64 `json:"in_force"`
	Versions uint64 `json:"versions"`
	// Datasets counts data commitments; CaptureHeight is the height of the
	// first (0 before any): outcomes changed after it are switched.
	Datasets      uint64 `json:"datasets"`
	CaptureHeight int64  `json:"capture_height,omitempty"`
	Results       uint64 `json:"results"`
	// Criteria is the current eligibility criteria revision (0: none
	// published).
	Criteria uint64    `json:"criteria,omitempty"`
	Height   int64     `json:"height"`
	Time     time.Time `json:"time"`
}

// Version is one protocol version.
type Version struct {
	Number    uint64   `json:"number"`
	Protocol  tx.Hash  `json:"protocol"`
	SAP       tx.Hash  `json:"sap"`
	Primary   []string `json:"primary"`
	Secondary []string `json:"secondary,omitempty"`
	// Proposed when the version was registered or amended; Approved when
	// the board approved it (zero while pending), by Approver.
	ProposedHeight int64      `json:"proposed_height"`
	ApprovedHeight int64      `json:"approved_height,omitempty"`
	ApprovedTime   time.Time  `json:"approved_time,omitzero"`
	Approver       tx.Address `json:"approver,omitzero"`
}

// Pending reports whether the version awaits the board's approval.
func (v *Version) Pending() bool { return v.ApprovedHeight == 0 }

// Names reports whether the version pre-specifies outcome id.
func (v *Version) Names(id string) bool { return Role(v, id) != "" }

// Participant is one participant's standing in a trial.
type Participant struct {
	// Consented is the last protocol version the participant consented to.
	Consented       uint64 `json:"consented"`
	ConsentedHeight int64  `json:"consented_height"`
	EnrolledHeight  int64  `json:"enrolled_height,omitempty"`
	WithdrawnHeight int64  `json:"withdrawn_height,omitempty"`
}

// Dataset is a data commitment.
type Dataset struct {
	Root         tx.Hash `json:"root"`
	Rows         uint64  `json:"rows"`
	Version      uint64  `json:"version"`
	Participants uint64  `json:"participants"`
	Height       int64   `json:"height"`
}

// Result is a results report.
type Result struct {
	Result   tx.Hash  `json:"result"`
	Outcomes []string `json:"outcomes"`
	Version  uint64   `json:"version"` // in force when reported
	Height   int64    `json:"height"`
}

func load[T any](s identity.Reader, k []byte, what string) (*T, error) {
	b, err := s.Get(k)
	if err != nil || b == nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, nil
}

func save(s contract.Store, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Set(k, b)
}

// LoadTrial returns the trial, or nil.
func LoadTrial(s identity.Reader, trial string) (*Trial, error) {
	return load[Trial](s, trialKey(trial), "trial")
}

// LoadVersion returns the trial's protocol version v, or nil.
func LoadVersion(s identity.Reader, trial string, v uint64) (*Version, error) {
	return load[Version](s, versionKey(trial, v), "protocol version")
}

// LoadParticipant returns p's standing in the trial, or nil.
func LoadParticipant(s identity.Reader, trial string, p tx.Address) (*Participant, error) {
	return load[Participant](s, participantKey(trial, p), "participant")
}

// LoadDataset returns the trial's data commitment, or nil.
func LoadDataset(s identity.Reader, trial, dataset string) (*Dataset, error) {
	return load[Dataset](s, datasetKey(trial, dataset), "dataset")
}

// LoadResult returns the trial's n-th results report (from 1), or nil.
func LoadResult(s identity.Reader, trial string, n uint64) (*Result, error) {
	return load[Result](s, resultKey(trial, n), "result")
}

// requireTrial returns the trial, rejecting an unknown one.
func requireTrial(s identity.Reader, trial string) (*Trial, error) {
	t, err := LoadTrial(s, trial)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, tx.Rejectf(tx.CodeNotFound, "trial %s is not registered", trial)
	}
	return t, nil
}

// requireInForce returns the trial's version in force, rejecting a trial
// whose first version the board has not approved yet.
func requireInForce(t *Trial) (uint64, error) {
	if t.InForce == 0 {
		return 0, tx.Rejectf(tx.CodeInvalid, "trial %s has no approved protocol version yet", t.ID)
	}
	return t.InForce, nil
}
