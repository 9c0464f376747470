package supply

import (
	"fmt"
	"strings"
	"time"

	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Message types owned by the supply contract. Numbers are append-only; the
// supply contract holds 64 to 79.
const (
	TypeRegisterProduct uint64 = 64
	TypeRecord          uint64 = 65
	TypeRelease         uint64 = 66
	TypeRecall          uint64 = 67
)

// Limits on message fields. A record's size is bounded by the network's
// max_tx_bytes (64 KiB by default) before these.
const (
	MaxEvents   = 512  // events in one record message
	MaxEPCs     = 4096 // EPCs in one list of an event (an aggregation of a pallet)
	MaxReadings = 64   // sensor readings of one event
	MaxLot      = 20   // GS1 AI (10)
	MaxNDC      = 13   // an NDC with its hyphens ("12345-6789-01")
	maxCode     = 64   // a CBV bizStep, disposition or sensor type (bare name)
	maxUOM      = 16
)

// RegisterProduct registers a GTIN as Owner's product, or changes its NDC
// and cold-chain rule if Owner already owns it. The signer must be an admin
// or service member of Owner, an organization of type pharma.
//
// Excursion is the product's cold-chain rule: a CEL condition over one
// sensor reading (see the environment in coldchain.go) that is true when
// the reading breaks the cold chain, such as
// `type == "Temperature" && (value < 2000 || value > 8000)` for 2 to 8 °C.
// Empty for a product with no cold chain.
type RegisterProduct struct {
	Owner     string `json:"owner"`
	GTIN      string `json:"gtin"`
	NDC       string `json:"ndc,omitempty"`
	Excursion string `json:"excursion,omitempty"`
}

// Record records captured EPCIS events, in order, for the signer's
// organization (the capturing party); one document is one message, so
// that it is recorded whole or not at all.
type Record struct {
	Events []Event `json:"events"`
}

// Release lifts the quarantine of items and logistic units, and of
// everything aggregated under them: the brand owner's quality release. The
// signer must be an admin or service member of the brand owner of every
// quarantined item it releases.
type Release struct {
	EPCs []EPC `json:"epcs"`
}

// Recall recalls a GTIN's lot. The signer must be an admin or service
// member of the GTIN's owner.
type Recall struct {
	GTIN string `json:"gtin"`
	Lot  string `json:"lot"`
}

// Kind is an EPCIS event type.
type Kind uint64

// The EPCIS 2.0 event types.
const (
	ObjectEvent         Kind = 1
	AggregationEvent    Kind = 2
	TransactionEvent    Kind = 3
	TransformationEvent Kind = 4
	AssociationEvent    Kind = 5
)

var kindNames = [...]string{"", "ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind_%d", uint64(k))
}

// Action is an EPCIS event's action; a TransformationEvent has none.
type Action uint64

// The EPCIS actions.
const (
	NoAction Action = 0
	Add      Action = 1
	Observe  Action = 2
	Delete   Action = 3
)

var actionNames = [...]string{"", "ADD", "OBSERVE", "DELETE"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action_%d", uint64(a))
}

// Event is what the chain holds of one captured EPCIS event: its CBV 2.0
// event hash (its key), and the fields the state changes depend on. The
// event's body stays at the capturing organization.
type Event struct {
	Hash   [32]byte `json:"hash"`
	Kind   Kind     `json:"kind"`
	Action Action   `json:"action"`
	// BizStep and Disposition are CBV 2.0 bare names ("shipping",
	// "in_transit"); the HTTP layer strips the vocabulary's URI prefix.
	BizStep     string `json:"biz_step,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	// EPCs are the event's epcList, or an aggregation's or association's
	// childEPCs; Parent its parentID. Inputs and Outputs are a
	// transformation's.
	EPCs    []EPC `json:"epcs,omitempty"`
	Parent  EPC   `json:"parent,omitempty"`
	Inputs  []EPC `json:"inputs,omitempty"`
	Outputs []EPC `json:"outputs,omitempty"`
	// Source and Destination are the owning parties of the sourceList and
	// destinationList, as organization IDs.
	Source      string `json:"source,omitempty"`
	Destination string `json:"destination,omitempty"`
	// Lot and Expiry are the ILMD's lot number and expiration date of
	// commissioned items; Expiry is a date as the integer YYYYMMDD (0 for
	// none), compared with the block time's UTC date.
	Lot      string    `json:"lot,omitempty"`
	Expiry   uint32    `json:"expiry,omitempty"`
	Readings []Reading `json:"readings,omitempty"`
	// Corrects, when set, makes the event an error declaration of the
	// recorded event with that hash. Its own Hash may be the same (the
	// CBV 2.0 hash leaves errorDeclaration out) or another.
	Corrects *[32]byte `json:"corrects,omitempty"`
}

// Reading is one sensor reading: Value in thousandths of UOM (millidegrees
// Celsius for CEL, so 2 °C is 2000), and the sensor report's exception
// ("ALARM_CONDITION", "ERROR_CONDITION" or "").
type Reading struct {
	Type      string `json:"type"`
	Value     int64  `json:"value"`
	UOM       string `json:"uom,omitempty"`
	Exception string `json:"exception,omitempty"`
}

func (RegisterProduct) Type() uint64 { return TypeRegisterProduct }
func (Record) Type() uint64          { return TypeRecord }
func (Release) Type() uint64         { return TypeRelease }
func (Recall) Type() uint64          { return TypeRecall }

func (m RegisterProduct) EncodeTo(w *wire.Writer) {
	w.String(m.Owner)
	w.String(m.GTIN)
	w.String(m.NDC)
	w.String(m.Excursion)
}

func (m Record) EncodeTo(w *wire.Writer) {
	w.Uint(uint64(len(m.Events)))
	for i := range m.Events {
		m.Events[i].encodeTo(w)
	}
}

func (m Release) EncodeTo(w *wire.Writer) { writeEPCs(w, m.EPCs) }

func (m Recall) EncodeTo(w *wire.Writer) {
	w.String(m.GTIN)
	w.String(m.Lot)
}

func (e *Event) encodeTo(w *wire.Writer) {
	w.Raw(e.Hash[:])
	w.Uint(uint64(e.Kind))
	w.Uint(uint64(e.Action))
	w.String(e.BizStep)
	w.String(e.Disposition)
	writeEPCs(w, e.EPCs)
	w.String(string(e.Parent))
	writeEPCs(w, e.Inputs)
	writeEPCs(w, e.Outputs)
	w.String(e.Source)
	w.String(e.Destination)
	w.String(e.Lot)
	w.Uint(uint64(e.Expiry))
	w.Uint(uint64(len(e.Readings)))
	for _, r := range e.Readings {
		w.String(r.Type)
		w.Uint(zigzag(r.Value))
		w.String(r.UOM)
		w.String(r.Exception)
	}
	if e.Corrects == nil {
		w.Blob(nil)
	} else {
		w.Blob(e.Corrects[:])
	}
}

// zigzag maps signed to unsigned integers so that small magnitudes stay
// short as uvarints (protobuf's sint64): 0, -1, 1, -2 → 0, 1, 2, 3.
func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

func writeEPCs(w *wire.Writer, es []EPC) {
	w.Uint(uint64(len(es)))
	for _, e := range es {
		w.String(string(e))
	}
}

func readEPCs(r *wire.Reader) []EPC {
	n := r.Count(MaxEPCs)
	if n == 0 {
		return nil
	}
	out := make([]EPC, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		out = append(out, EPC(r.String(maxEPC)))
	}
	return out
}

func readRegisterProduct(r *wire.Reader) RegisterProduct {
	return RegisterProduct{Owner: r.String(64), GTIN: r.String(14), NDC: r.String(MaxNDC), Excursion: r.String(condition.MaxLength)}
}

func readRecord(r *wire.Reader) Record {
	n := r.Count(MaxEvents)
	m := Record{Events: make([]Event, 0, n)}
	for i := 0; i < n && r.Err() == nil; i++ {
		m.Events = append(m.Events, readEvent(r))
	}
	return m
}

func readEvent(r *wire.Reader) Event {
	var e Event
	copy(e.Hash[:], r.Raw(32))
	e.Kind = Kind(r.Uint())
	e.Action = Action(r.Uint())
	e.BizStep = r.String(maxCode)
	e.Disposition = r.String(maxCode)
	e.EPCs = readEPCs(r)
	e.Parent = EPC(r.String(maxEPC))
	e.Inputs = readEPCs(r)
	e.Outputs = readEPCs(r)
	e.Source = r.String(64)
	e.Destination = r.String(64)
	e.Lot = r.String(MaxLot)
	expiry := r.Uint()
	if expiry > 99991231 {
		expiry = 1 // refused by validate as no date
	}
	e.Expiry = uint32(expiry)
	n := r.Count(MaxReadings)
	for i := 0; i < n && r.Err() == nil; i++ {
		e.Readings = append(e.Readings, Reading{Type: r.String(maxCode), Value: unzigzag(r.Uint()), UOM: r.String(maxUOM), Exception: r.String(maxCode)})
	}
	if c := r.Blob(32); len(c) > 0 {
		e.Corrects = new([32]byte)
		copy(e.Corrects[:], c)
		if len(c) != 32 {
			e.Corrects = &[32]byte{} // refused by validate
		}
	}
	return e
}

func readRelease(r *wire.Reader) Release { return Release{EPCs: readEPCs(r)} }

func readRecall(r *wire.Reader) Recall { return Recall{GTIN: r.String(14), Lot: r.String(MaxLot)} }

func (m RegisterProduct) validate(check func(string) error) error {
	if err := identity.ValidateOrgID(m.Owner); err != nil {
		return err
	}
	if err := ValidateGTIN(m.GTIN); err != nil {
		return err
	}
	if m.NDC != "" && !validNDC(m.NDC) {
		return tx.Rejectf(tx.CodeInvalid, "an NDC is 10 or 11 digits, with or without hyphens")
	}
	if m.Excursion != "" {
		if err := check(m.Excursion); err != nil {
			return tx.Rejectf(tx.CodeInvalid, "cold-chain rule: %v", err)
		}
	}
	return nil
}

// validNDC accepts the forms of a US National Drug Code: 10 digits in three
// hyphenated segments (4-4-2, 5-3-2, 5-4-1), or 11 digits (5-4-2), or the
// digits alone.
func validNDC(s string) bool {
	digits := strings.ReplaceAll(s, "-", "")
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	parts := strings.Split(s, "-")
	switch len(parts) {
	case 1:
		return len(s) == 10 || len(s) == 11
	case 3:
		shape := fmt.Sprintf("%d-%d-%d", len(parts[0]), len(parts[1]), len(parts[2]))
		return shape == "4-4-2" || shape == "5-3-2" || shape == "5-4-1" || shape == "5-4-2"
	}
	return false
}

func (m Record) validate() error {
	if len(m.Events) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a record holds 1 to %d events", MaxEvents)
	}
	seen := make(map[[32]byte]bool, len(m.Events))
	for i := range m.Events {
		e := &m.Events[i]
		if err := e.validate(); err != nil {
			return tx.Rejectf(codeOf(err), "event %d (%x): %s", i, e.Hash[:8], msgOf(err))
		}
		if seen[e.Hash] && e.Corrects == nil {
			return tx.Rejectf(tx.CodeAlreadyExists, "event %d (%x): the record holds the event twice", i, e.Hash[:8])
		}
		seen[e.Hash] = true
	}
	return nil
}

func (e *Event) validate() error {
	switch {
	case e.Hash == [32]byte{}:
		return tx.Rejectf(tx.CodeInvalid, "hash is missing")
	case e.Kind < ObjectEvent || e.Kind > AssociationEvent:
		return tx.Rejectf(tx.CodeInvalid, "unknown event type %d", uint64(e.Kind))
	case (e.Kind == TransformationEvent) != (e.Action == NoAction), e.Action > Delete:
		return tx.Rejectf(tx.CodeInvalid, "action: a transformation has none, every other event ADD, OBSERVE or DELETE")
	case !validCode(e.BizStep) || !validCode(e.Disposition):
		return tx.Rejectf(tx.CodeInvalid, "bizStep and disposition are CBV bare names (a-z, 0-9, _)")
	case (e.Kind == AggregationEvent || e.Kind == AssociationEvent) && e.Action != Observe && e.Parent == "":
		return tx.Rejectf(tx.CodeInvalid, "parentID is required for an aggregation's ADD or DELETE")
	case e.Kind != AggregationEvent && e.Kind != AssociationEvent && e.Kind != TransactionEvent && e.Parent != "":
		return tx.Rejectf(tx.CodeInvalid, "parentID: only aggregation, association and transaction events have one")
	case e.Kind != TransformationEvent && (len(e.Inputs) > 0 || len(e.Outputs) > 0):
		return tx.Rejectf(tx.CodeInvalid, "inputs and outputs: only a transformation has them")
	case e.Lot != "" && validateLot(e.Lot) != nil:
		return validateLot(e.Lot)
	case e.Expiry != 0 && !validDate(e.Expiry):
		return tx.Rejectf(tx.CodeInvalid, "expiry is a date YYYYMMDD")
	case e.Corrects != nil && *e.Corrects == [32]byte{}:
		return tx.Rejectf(tx.CodeInvalid, "corrects is a 32-byte event hash")
	}
	for _, who := range []string{e.Source, e.Destination} {
		if who != "" {
			if err := identity.ValidateOrgID(who); err != nil {
				return tx.Rejectf(tx.CodeInvalid, "source and destination owning parties are organization IDs")
			}
		}
	}
	if err := validateEPCs(e); err != nil {
		return err
	}
	for _, r := range e.Readings {
		if r.Type == "" || !validName(r.Type) || !validName(r.UOM) || !validName(r.Exception) {
			return tx.Rejectf(tx.CodeInvalid, "a reading has a type, and its type, uom and exception are names (A-Z, a-z, 0-9, _, :)")
		}
	}
	return nil
}

// validateEPCs checks every EPC of e, and that none appears twice.
func validateEPCs(e *Event) error {
	seen := map[EPC]bool{}
	lists := [][]EPC{e.EPCs, e.Inputs, e.Outputs}
	if e.Parent != "" {
		lists = append(lists, []EPC{e.Parent})
	}
	for _, l := range lists {
		for _, x := range l {
			if err := x.Validate(); err != nil {
				return err
			}
			if seen[x] {
				return tx.Rejectf(tx.CodeInvalid, "an EPC appears twice")
			}
			seen[x] = true
		}
	}
	return nil
}

func (m Release) validate() error {
	if len(m.EPCs) == 0 {
		return tx.Rejectf(tx.CodeInvalid, "a release names 1 to %d EPCs", MaxEPCs)
	}
	return validateEPCs(&Event{EPCs: m.EPCs})
}

func (m Recall) validate() error {
	if err := ValidateGTIN(m.GTIN); err != nil {
		return err
	}
	return validateLot(m.Lot)
}

func validateLot(lot string) error {
	if lot == "" || len(lot) > MaxLot {
		return tx.Rejectf(tx.CodeInvalid, "a lot is 1 to %d characters", MaxLot)
	}
	for i := 0; i < len(lot); i++ {
		if !strings.ContainsRune(cset82, rune(lot[i])) {
			return tx.Rejectf(tx.CodeInvalid, "a lot holds only GS1 character set 82")
		}
	}
	return nil
}

// validDate reports whether d, as YYYYMMDD, is a date of the calendar.
func validDate(d uint32) bool {
	y, m, day := int(d/10000), time.Month(d/100%100), int(d%100)
	t := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
	return y >= 1900 && t.Year() == y && t.Month() == m && t.Day() == day
}

// dateOf returns t's UTC date as YYYYMMDD.
func dateOf(t time.Time) uint32 {
	y, m, d := t.UTC().Date()
	return uint32(y*10000 + int(m)*100 + d)
}

func validCode(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func codeOf(err error) tx.Code {
	if c, ok := tx.CodeOf(err); ok {
		return c
	}
	return tx.CodeInvalid
}

func msgOf(err error) string {
	if r, ok := err.(*tx.Rejection); ok {
		return r.Msg
	}
	return err.Error()
}
