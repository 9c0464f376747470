package trials

import (
	"regexp"
	"slices"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the trials contract. Numbers are append-only; the
// trials contract holds 96 to 111.
const (
	TypeRegister   uint64 = 96
	TypeAmend      uint64 = 97
	TypeApprove    uint64 = 98
	TypeConsent    uint64 = 99
	TypeEnroll     uint64 = 100
	TypeWithdraw   uint64 = 101
	TypeCommitData uint64 = 102
	TypeReport     uint64 = 103
)

// Limits on message fields.
const (
	MaxID           = 64      // trial, dataset and outcome IDs
	MaxOutcomes     = 64      // outcomes of one list (primary or secondary)
	MaxParticipants = 1_000   // participants named by one data commitment
	MaxRows         = 1 << 32 // rows of one dataset
	MaxVersions     = 1_000   // protocol versions of one trial
	MaxResults      = 1_000   // results reports of one trial
)

// Register registers trial ID, sponsored by Sponsor (an organization of type
// research, whose researcher or admin signs) and overseen by the ethics
// board Board. Study, Protocol and SAP are the SHA-256 commitments of the
// canonical JSON (fhir.Resource.Canonical) of the FHIR ResearchStudy, the
// protocol document and the statistical analysis plan, which stay at the
// sponsor's node. Primary and Secondary are the pre-specified outcome IDs,
// each list sorted, without duplicates, and the two disjoint. The protocol
// becomes version 1, pending the board's approval.
type Register struct {
	Trial     string   `json:"trial"`
	Sponsor   string   `json:"sponsor"`
	Board     string   `json:"board"`
	Study     [32]byte `json:"study"`
	Protocol  [32]byte `json:"protocol"`
	SAP       [32]byte `json:"sap"`
	Primary   []string `json:"primary"`
	Secondary []string `json:"secondary,omitempty"`
}

// Amend proposes the trial's next protocol version, with its commitments and
// outcomes as in Register. It stays pending until the board approves it; a
// trial has at most one pending version.
type Amend struct {
	Trial     string   `json:"trial"`
	Protocol  [32]byte `json:"protocol"`
	SAP       [32]byte `json:"sap"`
	Primary   []string `json:"primary"`
	Secondary []string `json:"secondary,omitempty"`
}

// Approve is the ethics board's approval of the trial's pending Version,
// which comes into force in the block that carries it. The signer is an
// admin or auditor of the board.
type Approve struct {
	Trial   string `json:"trial"`
	Version uint64 `json:"version"`
}

// Consent is a participant's informed consent to the trial's protocol
// Version, which must be the version in force. The signer is the
// participant, a registered patient, with their own key.
type Consent struct {
	Trial   string `json:"trial"`
	Version uint64 `json:"version"`
}

// Enroll enrolls Participant (the FHIR ResearchSubject) in the trial. The
// participant must have consented to the version in force. The signer is a
// researcher, admin or service member of the sponsor.
type Enroll struct {
	Trial       string     `json:"trial"`
	Participant tx.Address `json:"participant"`
}

// Withdraw records Participant's withdrawal from the trial, for good: no
// data is committed about them afterwards. The signer is the participant
// or a researcher or admin of the sponsor.
type Withdraw struct {
	Trial       string     `json:"trial"`
	Participant tx.Address `json:"participant"`
}

// CommitData commits the RFC 6962 Merkle root of dataset Dataset (one leaf
// per row, see package dataset) of Rows rows, captured under protocol
// Version (the version in force) from Participants, sorted and without
// duplicates. Every participant must be enrolled, not withdrawn, and have
// consented to the version in force. The signer is a researcher, admin or
// service member of the sponsor.
type CommitData struct {
	Trial        string       `json:"trial"`
	Dataset      string       `json:"dataset"`
	Root         [32]byte     `json:"root"`
	Rows         uint64       `json:"rows"`
	Version      uint64       `json:"version"`
	Participants []tx.Address `json:"participants"`
}

// Report reports results: the SHA-256 commitment of the result document's
// canonical bytes and the IDs of the Outcomes it reports (sorted, without
// duplicates), each named by some approved protocol version. The signer is
// a researcher or admin of the sponsor.
type Report struct {
	Trial    string   `json:"trial"`
	Result   [32]byte `json:"result"`
	Outcomes []string `json:"outcomes"`
}

func (Register) Type() uint64   { return TypeRegister }
func (Amend) Type() uint64      { return TypeAmend }
func (Approve) Type() uint64    { return TypeApprove }
func (Consent) Type() uint64    { return TypeConsent }
func (Enroll) Type() uint64     { return TypeEnroll }
func (Withdraw) Type() uint64   { return TypeWithdraw }
func (CommitData) Type() uint64 { return TypeCommitData }
func (Report) Type() uint64     { return TypeReport }

func (m Register) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.String(m.Sponsor)
	w.String(m.Board)
	w.Raw(m.Study[:])
	w.Raw(m.Protocol[:])
	w.Raw(m.SAP[:])
	w.Strings(m.Primary)
	w.Strings(m.Secondary)
}

func (m Amend) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.Raw(m.Protocol[:])
	w.Raw(m.SAP[:])
	w.Strings(m.Primary)
	w.Strings(m.Secondary)
}

func (m Approve) EncodeTo(w *wire.Writer) { w.String(m.Trial); w.Uint(m.Version) }
func (m Consent) EncodeTo(w *wire.Writer) { w.String(m.Trial); w.Uint(m.Version) }
func (m Enroll) EncodeTo(w *wire.Writer)  { w.String(m.Trial); w.Raw(m.Participant[:]) }
func (m Withdraw) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.Raw(m.Participant[:])
}

func (m CommitData) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.String(m.Dataset)
	w.Raw(m.Root[:])
	w.Uint(m.Rows)
	w.Uint(m.Version)
	w.Uint(uint64(len(m.Participants)))
	for _, p := range m.Participants {
		w.Raw(p[:])
	}
}

func (m Report) EncodeTo(w *wire.Writer) {
	w.String(m.Trial)
	w.Raw(m.Result[:])
	w.Strings(m.Outcomes)
}

func read32(r *wire.Reader) (h [32]byte) {
	copy(h[:], r.Raw(32))
	return h
}

func readAddress(r *wire.Reader) (a tx.Address) {
	copy(a[:], r.Raw(tx.AddressSize))
	return a
}

func readRegister(r *wire.Reader) Register {
	return Register{Trial: r.String(MaxID), Sponsor: r.String(MaxID), Board: r.String(MaxID),
		Study: read32(r), Protocol: read32(r), SAP: read32(r),
		Primary: r.Strings(MaxOutcomes, MaxID), Secondary: r.Strings(MaxOutcomes, MaxID)}
}

func readAmend(r *wire.Reader) Amend {
	return Amend{Trial: r.String(MaxID), Protocol: read32(r), SAP: read32(r),
		Primary: r.Strings(MaxOutcomes, MaxID), Secondary: r.Strings(MaxOutcomes, MaxID)}
}

func readApprove(r *wire.Reader) Approve { return Approve{Trial: r.String(MaxID), Version: r.Uint()} }
func readConsent(r *wire.Reader) Consent { return Consent{Trial: r.String(MaxID), Version: r.Uint()} }
func readEnroll(r *wire.Reader) Enroll {
	return Enroll{Trial: r.String(MaxID), Participant: readAddress(r)}
}
func readWithdraw(r *wire.Reader) Withdraw {
	return Withdraw{Trial: r.String(MaxID), Participant: readAddress(r)}
}

func readCommitData(r *wire.Reader) CommitData {
	m := CommitData{Trial: r.String(MaxID), Dataset: r.String(MaxID), Root: read32(r), Rows: r.Uint(), Version: r.Uint()}
	n := r.Count(MaxParticipants)
	// Each address takes tx.AddressSize bytes, so a count past the unread
	// bytes fails in the loop; it must not size the allocation first.
	m.Participants = make([]tx.Address, 0, min(n, r.Len()/tx.AddressSize))
	for i := 0; i < n && r.Err() == nil; i++ {
		m.Participants = append(m.Participants, readAddress(r))
	}
	return m
}

func readReport(r *wire.Reader) Report {
	return Report{Trial: r.String(MaxID), Result: read32(r), Outcomes: r.Strings(MaxOutcomes*2, MaxID)}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateID checks a trial, dataset or outcome ID: 1 to 64 letters,
// digits, '.', '_' and '-', starting with a letter or digit. IDs are public:
// they must never carry health data (a registry number such as NCT01234567,
// "visit-3", "hba1c-change-26w").
func ValidateID(what, id string) error {
	if !idPattern.MatchString(id) {
		return tx.Rejectf(tx.CodeInvalid, "%s id must be 1-%d characters of A-Z, a-z, 0-9, '.', '_' and '-'", what, MaxID)
	}
	return nil
}

// validateOutcomes checks that a list of outcome IDs is canonical: valid
// IDs, sorted bytewise, without duplicates. A list in its one canonical
// order makes the commitment of "the same outcomes" the same bytes.
func validateOutcomes(list string, ids []string) error {
	for i, id := range ids {
		if err := ValidateID("outcome", id); err != nil {
			return err
		}
		if i > 0 && ids[i-1] >= id {
			return tx.Rejectf(tx.CodeInvalid, "%s outcomes must be sorted without duplicates (%q after %q)", list, id, ids[i-1])
		}
	}
	return nil
}

// validatePlan checks the outcomes of a protocol version: at least one
// primary, both lists canonical, none both primary and secondary.
func validatePlan(primary, secondary []string) error {
	if len(primary) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a protocol pre-specifies at least one primary outcome")
	}
	if err := validateOutcomes("primary", primary); err != nil {
		return err
	}
	if err := validateOutcomes("secondary", secondary); err != nil {
		return err
	}
	for _, id := range secondary {
		if _, found := slices.BinarySearch(primary, id); found {
			return tx.Rejectf(tx.CodeInvalid, "outcome %q is both primary and secondary", id)
		}
	}
	return nil
}

func (m Register) validate() error {
	if err := ValidateID("trial", m.Trial); err != nil {
		return err
	}
	if err := identity.ValidateOrgID(m.Sponsor); err != nil {
		return err
	}
	if err := identity.ValidateOrgID(m.Board); err != nil {
		return err
	}
	if m.Board == m.Sponsor {
		return tx.Rejectf(tx.CodeInvalid, "a sponsor cannot be its own trial's ethics board")
	}
	return validatePlan(m.Primary, m.Secondary)
}

func (m Amend) validate() error {
	if err := ValidateID("trial", m.Trial); err != nil {
		return err
	}
	return validatePlan(m.Primary, m.Secondary)
}

func validateVersioned(trial string, version uint64) error {
	if err := ValidateID("trial", trial); err != nil {
		return err
	}
	if version == 0 || version > MaxVersions {
		return tx.Rejectf(tx.CodeInvalid, "protocol versions are 1 to %d", MaxVersions)
	}
	return nil
}

func (m Approve) validate() error { return validateVersioned(m.Trial, m.Version) }
func (m Consent) validate() error { return validateVersioned(m.Trial, m.Version) }

func validateParticipant(trial string, p tx.Address) error {
	if err := ValidateID("trial", trial); err != nil {
		return err
	}
	if p == (tx.Address{}) {
		return tx.Rejectf(tx.CodeInvalid, "no participant named")
	}
	return nil
}

func (m Enroll) validate() error   { return validateParticipant(m.Trial, m.Participant) }
func (m Withdraw) validate() error { return validateParticipant(m.Trial, m.Participant) }

func (m CommitData) validate() error {
	if err := validateVersioned(m.Trial, m.Version); err != nil {
		return err
	}
	if err := ValidateID("dataset", m.Dataset); err != nil {
		return err
	}
	if m.Rows == 0 || m.Rows > MaxRows {
		return tx.Rejectf(tx.CodeInvalid, "a dataset has 1 to %d rows", uint64(MaxRows))
	}
	if len(m.Participants) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a dataset names at least one participant")
	}
	for i := 1; i < len(m.Participants); i++ {
		if string(m.Participants[i-1][:]) >= string(m.Participants[i][:]) {
			return tx.Rejectf(tx.CodeInvalid, "participants must be sorted without duplicates")
		}
	}
	return nil
}

func (m Report) validate() error {
	if err := ValidateID("trial", m.Trial); err != nil {
		return err
	}
	if len(m.Outcomes) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a results report names at least one outcome")
	}
	return validateOutcomes("reported", m.Outcomes)
}
