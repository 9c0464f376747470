package epcis

import "time"

// EventType is one of the five EPCIS event types.
type EventType string

// The event types of EPCIS 2.0.
const (
	ObjectEvent         EventType = "ObjectEvent"
	AggregationEvent    EventType = "AggregationEvent"
	TransactionEvent    EventType = "TransactionEvent"
	TransformationEvent EventType = "TransformationEvent"
	AssociationEvent    EventType = "AssociationEvent"
)

// Action is an event's action: ADD, OBSERVE or DELETE.
type Action string

// The actions of EPCIS.
const (
	ActionAdd     Action = "ADD"
	ActionObserve Action = "OBSERVE"
	ActionDelete  Action = "DELETE"
)

// Document is a decoded EPCISDocument or EPCISQueryDocument (or a single
// event, which decodes as a document of one event).
type Document struct {
	// Type is "EPCISDocument", "EPCISQueryDocument", or the event type
	// when the input was a bare event.
	Type          string
	SchemaVersion string // "2.0", "1.2", ...; "" when not given
	CreationDate  string // as written; "" when not given
	Events        []*Event
	// MasterData is the vocabulary of the EPCIS header (EPCIS 1.2 and 2.0
	// XML), such as the products a DSCSA document describes.
	MasterData []Vocabulary
}

// Vocabulary is one VocabularyList entry of EPCIS master data.
type Vocabulary struct {
	Type     string // such as "urn:epcglobal:epcis:vtype:EPCClass"
	Elements []VocabularyElement
}

// VocabularyElement is a master-data element: an identifier and its
// attributes, in document order.
type VocabularyElement struct {
	ID         string
	Attributes []Attribute
}

// Attribute is a master-data attribute, such as
// urn:epcglobal:cbv:mda#additionalTradeItemIdentification.
type Attribute struct {
	ID    string
	Value string
}

// Event is one EPCIS event of any of the five types. Fields not used by a
// type are empty. Vocabulary values (bizStep, disposition, types of business
// transactions, sources and destinations, error reasons) are normalised to
// their CBV 2.0 web URIs, such as https://ref.gs1.org/cbv/BizStep-shipping;
// EPCs are kept as written (URN or GS1 Digital Link).
type Event struct {
	Type                EventType
	EventID             string    // as the client sent it; "" when absent
	EventTime           time.Time // UTC
	EventTimeZoneOffset string    // "+01:00"
	RecordTime          time.Time // zero when absent
	Action              Action    // "" for TransformationEvent
	BizStep             string
	Disposition         string
	// PersistentDisposition is nil when absent.
	PersistentDisposition *PersistentDisposition
	ReadPoint             string // the location's id
	BizLocation           string

	ParentID      string   // Aggregation, Transaction, Association
	EPCList       []string // Object, Transaction
	ChildEPCs     []string // Aggregation, Association
	InputEPCList  []string // Transformation
	OutputEPCList []string // Transformation

	QuantityList       []Quantity // Object, Transaction
	ChildQuantityList  []Quantity // Aggregation, Association
	InputQuantityList  []Quantity // Transformation
	OutputQuantityList []Quantity // Transformation
	TransformationID   string

	BizTransactionList []BizTransaction
	SourceList         []SourceDest
	DestinationList    []SourceDest
	SensorElementList  []SensorElement
	CertificationInfo  []string
	ILMD               *ILMD // nil when absent
	ErrorDeclaration   *ErrorDeclaration
	// Extensions are the event's user extensions (elements in other
	// namespaces), in document order.
	Extensions []Extension

	tree *node // the event in the XML data model, for the hash
}

// PersistentDisposition lists dispositions set and unset by an event.
type PersistentDisposition struct {
	Set   []string
	Unset []string
}

// Quantity is a quantityElement: a class of objects and, optionally, how
// many or how much of it.
type Quantity struct {
	EPCClass string
	Quantity Decimal // "" when absent
	UOM      string  // UN/CEFACT unit code; "" for a count
}

// BizTransaction is a business transaction an event refers to.
type BizTransaction struct {
	Type  string // CBV web URI; "" when absent
	Value string
}

// SourceDest is an entry of sourceList or destinationList.
type SourceDest struct {
	Type  string // such as https://ref.gs1.org/cbv/SDT-owning_party
	Value string // a party (PGLN) or location (SGLN), as written
}

// SensorElement is one sensorElement: metadata and reports.
type SensorElement struct {
	Metadata   SensorMetadata
	Reports    []SensorReport
	Extensions []Extension
}

// SensorMetadata describes a sensor's readings.
type SensorMetadata struct {
	Time                 time.Time // zero when absent
	StartTime            time.Time
	EndTime              time.Time
	DeviceID             string
	DeviceMetadata       string
	RawData              string
	DataProcessingMethod string
	BizRules             string
	Extensions           []Extension
}

// SensorReport is one reading. Numbers are kept exactly as written (a
// Decimal), never as floats, so that a contract compares them exactly.
type SensorReport struct {
	Type                      string // such as https://gs1.org/voc/Temperature
	Exception                 string // such as https://gs1.org/voc/ALARM_CONDITION
	DeviceID                  string
	DeviceMetadata            string
	RawData                   string
	DataProcessingMethod      string
	Time                      time.Time
	Microorganism             string
	ChemicalSubstance         string
	Value                     Decimal
	Component                 string
	StringValue               string
	BooleanValue              string // "true", "false" or ""
	HexBinaryValue            string
	URIValue                  string
	MinValue                  Decimal
	MaxValue                  Decimal
	MeanValue                 Decimal
	SDev                      Decimal
	PercRank                  Decimal
	PercValue                 Decimal
	UOM                       string
	CoordinateReferenceSystem string
	Extensions                []Extension
}

// ILMD is an event's instance/lot master data: every child is an
// extension element; Lot and ItemExpirationDate read the CBV ones.
type ILMD struct {
	Fields []Extension
}

// ErrorDeclaration marks an event as erroneous.
type ErrorDeclaration struct {
	DeclarationTime    time.Time
	Reason             string // CBV web URI, such as https://ref.gs1.org/cbv/ER-incorrect_data
	CorrectiveEventIDs []string
	Extensions         []Extension
}

// Extension is a user extension element: its namespace and local name, its
// text, and its nested elements.
type Extension struct {
	Namespace string // "" for a JSON key whose prefix the context does not declare
	Name      string // local name
	Value     string
	Children  []Extension
}

// The CBV master-data namespace, whose ILMD fields Lot and
// ItemExpirationDate read (XML writes it without, JSON-LD with, a colon).
const cbvmdaNS = "urn:epcglobal:cbv:mda"

// field returns the value of the ILMD field local in the CBV master-data
// namespace, or "".
func (m *ILMD) field(local string) string {
	if m == nil {
		return ""
	}
	for _, f := range m.Fields {
		if f.Name == local && (f.Namespace == cbvmdaNS || f.Namespace == cbvmdaNS+":") {
			return f.Value
		}
	}
	return ""
}

// Lot returns cbvmda:lotNumber, or "".
func (m *ILMD) Lot() string { return m.field("lotNumber") }

// ItemExpirationDate returns cbvmda:itemExpirationDate (YYYY-MM-DD), or "".
func (m *ILMD) ItemExpirationDate() string { return m.field("itemExpirationDate") }
