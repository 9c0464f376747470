package epcis

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// eventFields are the standard fields of an event; any other child must be
// a user extension (a namespaced name).
var eventFields = map[string]bool{
	"type": true, "eventID": true, "eventTime": true, "eventTimeZoneOffset": true, "recordTime": true,
	"action": true, "bizStep": true, "disposition": true, "persistentDisposition": true, "readPoint": true,
	"bizLocation": true, "parentID": true, "epcList": true, "childEPCs": true, "inputEPCList": true,
	"outputEPCList": true, "quantityList": true, "childQuantityList": true, "inputQuantityList": true,
	"outputQuantityList": true, "transformationID": true, "bizTransactionList": true, "sourceList": true,
	"destinationList": true, "sensorElementList": true, "certificationInfo": true, "ilmd": true,
	"errorDeclaration": true,
}

// isExtensionName reports whether a child name is namespaced: "{ns}local"
// from XML or a declared JSON-LD prefix, or a CURIE whose prefix only the
// standard EPCIS context declares (cbvmda:lotNumber).
func isExtensionName(name string) bool {
	return strings.HasPrefix(name, "{") || strings.Contains(name, ":")
}

// splitName returns the namespace and local name of a node name.
func splitName(name string) (ns, local string) {
	if strings.HasPrefix(name, "{") {
		if i := strings.IndexByte(name, '}'); i > 0 {
			return name[1:i], name[i+1:]
		}
	}
	if p, l, ok := strings.Cut(name, ":"); ok {
		if uri, ok := standardPrefixes[p]; ok {
			return uri, l
		}
	}
	return "", name
}

// standardPrefixes are prefixes the EPCIS 2.0 JSON-LD context declares.
var standardPrefixes = map[string]string{
	"cbvmda": "urn:epcglobal:cbv:mda", "gs1": gs1Voc, "cbv": cbvWeb,
	"epcis": "https://ref.gs1.org/epcis/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
	"xsd": "http://www.w3.org/2001/XMLSchema#", "dcterms": "http://purl.org/dc/terms/",
}

var offsetPattern = regexp.MustCompile(`^[+-](?:0\d|1[0-4]):[0-5]\d$`)

// builder reads one event's tree into an Event, stopping at the first
// invalid field.
type builder struct {
	i   int
	id  string
	err *Error
}

func (b *builder) fail(field, reason string) {
	if b.err == nil {
		b.err = eventErr(ErrInvalid, b.i, b.id, field, "%s", reason)
	}
}

// buildEvent validates the tree of event i and returns its Event.
func buildEvent(i int, t *node) (*Event, error) {
	b := &builder{i: i, id: t.textOf("eventID")}
	e := &Event{Type: EventType(t.name), EventID: b.id, tree: t}
	if !isEventType(t.name) {
		b.fail("type", "unknown event type")
		return nil, b.err
	}
	for _, k := range t.kids {
		if !k.pair && !eventFields[k.name] && !isExtensionName(k.name) {
			b.fail(k.name, "unknown field (an extension needs a namespace)")
		}
	}
	b.times(e, t)
	b.actionAndVocab(e, t)
	b.identifiers(e, t)
	b.rulesOfType(e, t)
	e.BizTransactionList = b.bizTransactions(t.child("bizTransactionList"))
	e.SourceList = b.sourceDests(t.child("sourceList"), "source")
	e.DestinationList = b.sourceDests(t.child("destinationList"), "destination")
	e.SensorElementList = b.sensorElements(t.child("sensorElementList"))
	for _, c := range t.children("certificationInfo") {
		if len(c.kids) > 0 || !isAbsoluteURI(c.text) {
			b.fail("certificationInfo", "not a URI")
		}
		e.CertificationInfo = append(e.CertificationInfo, c.text)
	}
	e.ILMD = b.ilmd(t.child("ilmd"))
	e.ErrorDeclaration = b.errorDeclaration(t.child("errorDeclaration"))
	e.Extensions = extensionsOf(t.kids)
	if b.err != nil {
		return nil, b.err
	}
	return e, nil
}

func isEventType(s string) bool {
	switch EventType(s) {
	case ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent:
		return true
	}
	return false
}

// timestamp parses a required or optional date-time with its zone.
func (b *builder) timestamp(n *node, field string, required bool) time.Time {
	if n == nil || n.text == "" {
		if required {
			b.fail(field, "required")
		}
		return time.Time{}
	}
	t, _, ok := parseTimestamp(n.text)
	if !ok || !strings.Contains(n.text, "T") || !hasZone(n.text) {
		b.fail(field, "not an ISO 8601 date-time with a time zone")
	}
	return t
}

func hasZone(s string) bool {
	return strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") || offsetPattern.MatchString(s[max(0, len(s)-6):])
}

func (b *builder) times(e *Event, t *node) {
	e.EventTime = b.timestamp(t.child("eventTime"), "eventTime", true)
	e.RecordTime = b.timestamp(t.child("recordTime"), "recordTime", false)
	e.EventTimeZoneOffset = t.textOf("eventTimeZoneOffset")
	if e.EventTimeZoneOffset == "" {
		b.fail("eventTimeZoneOffset", "required")
	} else if !offsetPattern.MatchString(e.EventTimeZoneOffset) {
		b.fail("eventTimeZoneOffset", "not a time zone offset such as +01:00")
	}
}

func (b *builder) vocabValue(n *node, field string, vc *vocab) string {
	if n == nil || n.text == "" {
		return ""
	}
	v, ok := vc.normalize(n.text)
	if !ok {
		b.fail(field, "not a CBV term nor a URI")
	}
	return v
}

func (b *builder) actionAndVocab(e *Event, t *node) {
	e.Action = Action(t.textOf("action"))
	switch {
	case e.Type == TransformationEvent:
		if e.Action != "" {
			b.fail("action", "a TransformationEvent has no action")
		}
	case e.Action == "":
		b.fail("action", "required")
	case e.Action != ActionAdd && e.Action != ActionObserve && e.Action != ActionDelete:
		b.fail("action", "not ADD, OBSERVE or DELETE")
	}
	e.BizStep = b.vocabValue(t.child("bizStep"), "bizStep", bizStepVocab)
	e.Disposition = b.vocabValue(t.child("disposition"), "disposition", dispositionVocab)
	if pd := t.child("persistentDisposition"); pd != nil {
		e.PersistentDisposition = &PersistentDisposition{}
		for _, s := range pd.children("set") {
			e.PersistentDisposition.Set = append(e.PersistentDisposition.Set, b.vocabValue(s, "persistentDisposition.set", dispositionVocab))
		}
		for _, s := range pd.children("unset") {
			e.PersistentDisposition.Unset = append(e.PersistentDisposition.Unset, b.vocabValue(s, "persistentDisposition.unset", dispositionVocab))
		}
	}
	e.TransformationID = t.textOf("transformationID")
}

func (b *builder) identifiers(e *Event, t *node) {
	e.ReadPoint = b.location(t.child("readPoint"), "readPoint")
	e.BizLocation = b.location(t.child("bizLocation"), "bizLocation")
	if p := t.child("parentID"); p != nil {
		e.ParentID = p.text
		if why := checkEPC(p.text); why != "" {
			b.fail("parentID", why)
		}
	}
	e.EPCList = b.epcs(t.child("epcList"), "epcList")
	e.ChildEPCs = b.epcs(t.child("childEPCs"), "childEPCs")
	e.InputEPCList = b.epcs(t.child("inputEPCList"), "inputEPCList")
	e.OutputEPCList = b.epcs(t.child("outputEPCList"), "outputEPCList")
	e.QuantityList = b.quantities(t.child("quantityList"), "quantityList")
	e.ChildQuantityList = b.quantities(t.child("childQuantityList"), "childQuantityList")
	e.InputQuantityList = b.quantities(t.child("inputQuantityList"), "inputQuantityList")
	e.OutputQuantityList = b.quantities(t.child("outputQuantityList"), "outputQuantityList")
}

func (b *builder) location(n *node, field string) string {
	if n == nil {
		return ""
	}
	id := n.textOf("id")
	if id == "" {
		b.fail(field+".id", "required")
	} else if why := checkLocation(id); why != "" {
		b.fail(field+".id", why)
	}
	return id
}

func (b *builder) epcs(list *node, field string) []string {
	var out []string
	for j, k := range list.kidsOrNil() {
		if k.name != "epc" || len(k.kids) > 0 {
			b.fail(field+"["+strconv.Itoa(j)+"]", "not an EPC")
			continue
		}
		if why := checkEPC(k.text); why != "" {
			b.fail(field+"["+strconv.Itoa(j)+"]", why)
		}
		out = append(out, k.text)
	}
	return out
}

func (b *builder) quantities(list *node, field string) []Quantity {
	var out []Quantity
	for j, q := range list.kidsOrNil() {
		f := field + "[" + strconv.Itoa(j) + "]"
		if q.name != "quantityElement" {
			b.fail(f, "not a quantity element")
			continue
		}
		for _, k := range q.kids {
			if k.name != "epcClass" && k.name != "quantity" && k.name != "uom" && !isExtensionName(k.name) {
				b.fail(f+"."+k.name, "unknown field")
			}
		}
		el := Quantity{EPCClass: q.textOf("epcClass"), Quantity: Decimal(q.textOf("quantity")), UOM: q.textOf("uom")}
		if why := checkEPCClass(el.EPCClass); el.EPCClass == "" || why != "" {
			b.fail(f+".epcClass", "required; "+why)
		}
		if el.Quantity != "" && !el.Quantity.Valid() {
			b.fail(f+".quantity", "not a number")
		}
		out = append(out, el)
	}
	return out
}

// rulesOfType checks the fields each event type requires.
// An ObjectEvent or TransactionEvent must carry epcList or quantityList,
// though it may be empty (a sensor-only event).
func (b *builder) rulesOfType(e *Event, t *node) {
	switch e.Type {
	case ObjectEvent, TransactionEvent:
		if t.child("epcList") == nil && t.child("quantityList") == nil {
			b.fail("epcList", "an "+string(e.Type)+" needs epcList or quantityList")
		}
	case AggregationEvent, AssociationEvent:
		if e.ParentID == "" && (e.Type == AssociationEvent || e.Action != ActionObserve) {
			b.fail("parentID", "required")
		}
	case TransformationEvent:
		if len(e.InputEPCList)+len(e.InputQuantityList)+len(e.OutputEPCList)+len(e.OutputQuantityList) == 0 {
			b.fail("inputEPCList", "a TransformationEvent needs inputs or outputs")
		}
	}
}

func (b *builder) bizTransactions(list *node) []BizTransaction {
	var out []BizTransaction
	for j, p := range list.kidsOrNil() {
		f := "bizTransactionList[" + strconv.Itoa(j) + "]"
		bt := BizTransaction{Value: pairValue(p)}
		bt.Type = b.vocabValue(p.child("type"), f+".type", bttVocab)
		if !isAbsoluteURI(bt.Value) {
			b.fail(f, "not a URI")
		}
		out = append(out, bt)
	}
	return out
}

func (b *builder) sourceDests(list *node, name string) []SourceDest {
	var out []SourceDest
	for j, p := range list.kidsOrNil() {
		f := name + "List[" + strconv.Itoa(j) + "]"
		sd := SourceDest{Value: pairValue(p)}
		if p.child("type") == nil {
			b.fail(f+".type", "required")
		}
		sd.Type = b.vocabValue(p.child("type"), f+".type", sdtVocab)
		if why := checkLocation(sd.Value); why != "" {
			b.fail(f, why)
		}
		out = append(out, sd)
	}
	return out
}

// pairValue returns the value of a bizTransaction, source or destination.
func pairValue(p *node) string {
	if len(p.kids) == 0 {
		return p.text
	}
	return p.kids[len(p.kids)-1].text
}

func (b *builder) ilmd(n *node) *ILMD {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if !isExtensionName(k.name) {
			b.fail("ilmd."+k.name, "an ILMD field needs a namespace")
		}
	}
	return &ILMD{Fields: extensionsOf(n.kids)}
}

func (b *builder) errorDeclaration(n *node) *ErrorDeclaration {
	if n == nil {
		return nil
	}
	ed := &ErrorDeclaration{DeclarationTime: b.timestamp(n.child("declarationTime"), "errorDeclaration.declarationTime", true)}
	ed.Reason = b.vocabValue(n.child("reason"), "errorDeclaration.reason", erVocab)
	for _, c := range n.children("correctiveEventIDs") {
		if c.text != "" {
			ed.CorrectiveEventIDs = append(ed.CorrectiveEventIDs, c.text)
		}
		for _, id := range c.children("correctiveEventID") {
			ed.CorrectiveEventIDs = append(ed.CorrectiveEventIDs, id.text)
		}
	}
	ed.Extensions = extensionsOf(n.kids)
	return ed
}

// extensionsOf returns the namespaced children as Extensions.
func extensionsOf(kids []*node) []Extension {
	var out []Extension
	for _, k := range kids {
		if k.pair || !isExtensionName(k.name) {
			continue
		}
		out = append(out, toExtension(k))
	}
	return out
}

func toExtension(n *node) Extension {
	ns, local := splitName(n.name)
	x := Extension{Namespace: ns, Name: local, Value: n.text}
	for _, k := range n.kids {
		x.Children = append(x.Children, toExtension(k))
	}
	return x
}

// CheckTime refuses an event whose eventTime is later than now plus
// tolerance. The decoders cannot check it (they have no clock): the caller
// passes the block time, or the node's time at capture.
func (e *Event) CheckTime(index int, now time.Time, tolerance time.Duration) error {
	if e.EventTime.After(now.Add(tolerance)) {
		return eventErr(ErrInvalid, index, e.EventID, "eventTime", "in the future beyond %s", tolerance)
	}
	return nil
}
