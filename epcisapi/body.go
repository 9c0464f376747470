package epcisapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/careledger/careledger/epcis"
)

// epcisContext is the JSON-LD context of EPCIS 2.0.
const epcisContext = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"

// obj is a JSON object that keeps its keys in the order they were added,
// so that a body is written the same way every time.
type obj []kv

type kv struct {
	k string
	v any
}

func (o *obj) set(k string, v any) { *o = append(*o, kv{k, v}) }

// str adds k only when v is not empty.
func (o *obj) str(k, v string) {
	if v != "" {
		o.set(k, v)
	}
}

func (o *obj) list(k string, v []string) {
	if len(v) > 0 {
		o.set(k, v)
	}
}

func (o *obj) time(k string, t time.Time) {
	if !t.IsZero() {
		o.set(k, t.UTC().Format(time.RFC3339Nano))
	}
}

// num adds a decimal as a JSON number.
func (o *obj) num(k string, d epcis.Decimal) {
	if d != "" && d.Valid() {
		o.set(k, json.RawMessage(d))
	}
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// prefixes names the namespaces of an event's extensions for its
// @context, in order of first use.
type prefixes struct{ names, spaces []string }

func (p *prefixes) of(ns string) string {
	for i, s := range p.spaces {
		if s == ns {
			return p.names[i]
		}
	}
	name := "ext" + strconv.Itoa(len(p.spaces)+1)
	p.names, p.spaces = append(p.names, name), append(p.spaces, ns)
	return name
}

// context returns the event's @context: EPCIS 2.0's, then its prefixes.
func (p *prefixes) context() any {
	if len(p.names) == 0 {
		return []any{epcisContext}
	}
	var m obj
	for i := range p.names {
		m.set(p.names[i], p.spaces[i])
	}
	return []any{epcisContext, m}
}

// eventBody writes e as an EPCIS 2.0 JSON-LD event with its own @context,
// which epcis.ParseJSON reads back to the same event hash.
func eventBody(e *epcis.Event) ([]byte, error) {
	p := &prefixes{}
	o := eventObj(e, p)
	o = append(obj{{"@context", p.context()}}, o...)
	return json.Marshal(o)
}

func eventObj(e *epcis.Event, p *prefixes) obj {
	var o obj
	o.set("type", string(e.Type))
	o.str("eventID", e.EventID)
	o.time("eventTime", e.EventTime)
	o.str("eventTimeZoneOffset", e.EventTimeZoneOffset)
	o.time("recordTime", e.RecordTime)
	if e.ErrorDeclaration != nil {
		o.set("errorDeclaration", errorDeclarationObj(e.ErrorDeclaration, p))
	}
	o.str("parentID", e.ParentID)
	o.list("epcList", e.EPCList)
	o.list("childEPCs", e.ChildEPCs)
	o.list("inputEPCList", e.InputEPCList)
	o.list("outputEPCList", e.OutputEPCList)
	quantities(&o, "quantityList", e.QuantityList)
	quantities(&o, "childQuantityList", e.ChildQuantityList)
	quantities(&o, "inputQuantityList", e.InputQuantityList)
	quantities(&o, "outputQuantityList", e.OutputQuantityList)
	o.str("transformationID", e.TransformationID)
	o.str("action", string(e.Action))
	o.str("bizStep", e.BizStep)
	o.str("disposition", e.Disposition)
	if pd := e.PersistentDisposition; pd != nil {
		var d obj
		d.list("set", pd.Set)
		d.list("unset", pd.Unset)
		o.set("persistentDisposition", d)
	}
	if e.ReadPoint != "" {
		o.set("readPoint", obj{{"id", e.ReadPoint}})
	}
	if e.BizLocation != "" {
		o.set("bizLocation", obj{{"id", e.BizLocation}})
	}
	if len(e.BizTransactionList) > 0 {
		var l []obj
		for _, t := range e.BizTransactionList {
			var b obj
			b.str("type", t.Type)
			b.set("bizTransaction", t.Value)
			l = append(l, b)
		}
		o.set("bizTransactionList", l)
	}
	sourceDests(&o, "sourceList", "source", e.SourceList)
	sourceDests(&o, "destinationList", "destination", e.DestinationList)
	if len(e.SensorElementList) > 0 {
		var l []obj
		for i := range e.SensorElementList {
			l = append(l, sensorElementObj(&e.SensorElementList[i], p))
		}
		o.set("sensorElementList", l)
	}
	switch len(e.CertificationInfo) {
	case 0:
	case 1:
		o.set("certificationInfo", e.CertificationInfo[0])
	default:
		o.set("certificationInfo", e.CertificationInfo)
	}
	if e.ILMD != nil {
		var m obj
		extensions(&m, e.ILMD.Fields, p)
		o.set("ilmd", m)
	}
	extensions(&o, e.Extensions, p)
	return o
}

func errorDeclarationObj(d *epcis.ErrorDeclaration, p *prefixes) obj {
	var o obj
	o.time("declarationTime", d.DeclarationTime)
	o.str("reason", d.Reason)
	o.list("correctiveEventIDs", d.CorrectiveEventIDs)
	extensions(&o, d.Extensions, p)
	return o
}

func quantities(o *obj, key string, qs []epcis.Quantity) {
	if len(qs) == 0 {
		return
	}
	var l []obj
	for _, q := range qs {
		var e obj
		e.set("epcClass", q.EPCClass)
		e.num("quantity", q.Quantity)
		e.str("uom", q.UOM)
		l = append(l, e)
	}
	o.set(key, l)
}

func sourceDests(o *obj, key, field string, l []epcis.SourceDest) {
	if len(l) == 0 {
		return
	}
	var out []obj
	for _, sd := range l {
		var e obj
		e.str("type", sd.Type)
		e.set(field, sd.Value)
		out = append(out, e)
	}
	o.set(key, out)
}

func sensorElementObj(se *epcis.SensorElement, p *prefixes) obj {
	var o obj
	md := se.Metadata
	var m obj
	m.time("time", md.Time)
	m.time("startTime", md.StartTime)
	m.time("endTime", md.EndTime)
	m.str("deviceID", md.DeviceID)
	m.str("deviceMetadata", md.DeviceMetadata)
	m.str("rawData", md.RawData)
	m.str("dataProcessingMethod", md.DataProcessingMethod)
	m.str("bizRules", md.BizRules)
	extensions(&m, md.Extensions, p)
	if len(m) > 0 {
		o.set("sensorMetadata", m)
	}
	var reports []obj
	for i := range se.Reports {
		reports = append(reports, sensorReportObj(&se.Reports[i], p))
	}
	if len(reports) > 0 {
		o.set("sensorReport", reports)
	}
	extensions(&o, se.Extensions, p)
	return o
}

func sensorReportObj(r *epcis.SensorReport, p *prefixes) obj {
	var o obj
	o.str("type", r.Type)
	o.str("exception", r.Exception)
	o.str("deviceID", r.DeviceID)
	o.str("deviceMetadata", r.DeviceMetadata)
	o.str("rawData", r.RawData)
	o.str("dataProcessingMethod", r.DataProcessingMethod)
	o.time("time", r.Time)
	o.str("microorganism", r.Microorganism)
	o.str("chemicalSubstance", r.ChemicalSubstance)
	o.num("value", r.Value)
	o.str("component", r.Component)
	o.str("stringValue", r.StringValue)
	if r.BooleanValue != "" {
		o.set("booleanValue", r.BooleanValue == "true")
	}
	o.str("hexBinaryValue", r.HexBinaryValue)
	o.str("uriValue", r.URIValue)
	o.num("minValue", r.MinValue)
	o.num("maxValue", r.MaxValue)
	o.num("meanValue", r.MeanValue)
	o.num("sDev", r.SDev)
	o.num("percRank", r.PercRank)
	o.num("percValue", r.PercValue)
	o.str("uom", r.UOM)
	o.str("coordinateReferenceSystem", r.CoordinateReferenceSystem)
	extensions(&o, r.Extensions, p)
	return o
}

// extensions adds user extension elements as prefixed keys; a name that
// repeats becomes an array.
func extensions(o *obj, xs []epcis.Extension, p *prefixes) {
	for i := 0; i < len(xs); i++ {
		key := extKey(xs[i], p)
		if o.has(key) {
			continue
		}
		var same []any
		for j := i; j < len(xs); j++ {
			if extKey(xs[j], p) == key {
				same = append(same, extValue(xs[j], p))
			}
		}
		if len(same) == 1 {
			o.set(key, same[0])
		} else {
			o.set(key, same)
		}
	}
}

func (o obj) has(k string) bool {
	for _, p := range o {
		if p.k == k {
			return true
		}
	}
	return false
}

func extKey(x epcis.Extension, p *prefixes) string {
	if x.Namespace == "" {
		return x.Name
	}
	return p.of(x.Namespace) + ":" + x.Name
}

func extValue(x epcis.Extension, p *prefixes) any {
	if len(x.Children) == 0 {
		return x.Value
	}
	var o obj
	extensions(&o, x.Children, p)
	return o
}

// jsonDocument is the part of a JSON document that bodies needs: its
// context and its events, as written.
type jsonDocument struct {
	Context   json.RawMessage `json:"@context"`
	Type      string          `json:"type"`
	EPCISBody *struct {
		EventList    []json.RawMessage `json:"eventList"`
		QueryResults *struct {
			ResultsBody struct {
				EventList []json.RawMessage `json:"eventList"`
			} `json:"resultsBody"`
		} `json:"queryResults"`
	} `json:"epcisBody"`
}

// bodies returns each event's body as this node keeps and serves it: for
// a JSON document, the event as the client wrote it, under the document's
// @context (so that it hashes the same); for XML, the event in JSON-LD.
// A JSON document whose events cannot be matched to doc's is written as
// XML's are.
func bodies(doc *epcis.Document, raw []byte, isXML bool) ([][]byte, error) {
	out := make([][]byte, len(doc.Events))
	if !isXML {
		events, ctx, ok := rawEvents(raw)
		if ok && len(events) == len(doc.Events) {
			for i, ev := range events {
				out[i] = withContext(ev, ctx)
			}
			return out, nil
		}
	}
	for i, e := range doc.Events {
		b, err := eventBody(e)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func rawEvents(raw []byte) ([]json.RawMessage, json.RawMessage, bool) {
	var d jsonDocument
	if json.Unmarshal(raw, &d) != nil {
		return nil, nil, false
	}
	switch {
	case d.EPCISBody == nil:
		return []json.RawMessage{raw}, d.Context, true
	case d.EPCISBody.QueryResults != nil:
		return d.EPCISBody.QueryResults.ResultsBody.EventList, d.Context, true
	}
	return d.EPCISBody.EventList, d.Context, true
}

// withContext returns the event object ev under the document's @context,
// joined with the event's own when it has one (a namespace declared at
// the event's level).
func withContext(ev, ctx json.RawMessage) []byte {
	ev = bytes.TrimSpace(ev)
	if len(ctx) == 0 || len(ev) < 2 || ev[0] != '{' {
		return bytes.Clone(ev)
	}
	// ev is a member of a document that decoded: only an event that may
	// have its own @context (the name, or an escape that may spell it)
	// needs decoding.
	if bytes.Contains(ev, []byte(`"@context"`)) || bytes.Contains(ev, []byte(`\u`)) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(ev, &fields) != nil {
			return bytes.Clone(ev)
		}
		if own := fields["@context"]; own != nil {
			joined, err := json.Marshal(append(contextItems(ctx), contextItems(own)...))
			if err != nil {
				return bytes.Clone(ev)
			}
			ctx = joined
			// The event's other fields keep their order and text.
			ev = withoutContext(ev)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"@context":`)
	b.Write(ctx)
	if rest := bytes.TrimSpace(ev[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(ev[1:])
	return b.Bytes()
}

func contextItems(c json.RawMessage) []json.RawMessage {
	var list []json.RawMessage
	if json.Unmarshal(c, &list) == nil {
		return list
	}
	return []json.RawMessage{c}
}

// withoutContext rewrites the object ev without its @context, streaming
// its other members in their order.
func withoutContext(ev []byte) []byte {
	d := json.NewDecoder(bytes.NewReader(ev))
	d.UseNumber()
	var b bytes.Buffer
	b.WriteByte('{')
	if _, err := d.Token(); err != nil {
		return ev
	}
	first := true
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return ev
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return ev
		}
		if k == "@context" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// withEventID returns the event object body with eventID id added first
// after its opening brace; the CBV 2.0 hash leaves eventID out, so the
// body still reads back to the same hash.
func withEventID(body []byte, id string) []byte {
	body = bytes.TrimSpace(body)
	if len(body) < 2 || body[0] != '{' {
		return body
	}
	q, _ := json.Marshal(id)
	var b bytes.Buffer
	b.WriteString(`{"eventID":`)
	b.Write(q)
	if rest := bytes.TrimSpace(body[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(body[1:])
	return b.Bytes()
}
