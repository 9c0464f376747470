package epcis

import (
	"bytes"
	"encoding/xml"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Namespaces of the EPCIS 2.0 XML binding's documents.
const (
	xmlnsEPCISQuery = "urn:epcglobal:epcis-query:xsd:2"
)

// ErrNotXML is returned for an event whose data model has no XML form: an
// element without a name (a JSON array nested in an array).
var ErrNotXML = errors.New("epcis: the event has a field with no XML name")

// QueryDocumentXML writes events as an EPCIS 2.0 XML EPCISQueryDocument
// answering queryName. Each event is written from the data model it was
// decoded into, its fields in the order of the EPCIS 2.0 schema, user
// extensions last, so that ParseXML reads back the same events with the
// same CBV 2.0 hashes. One difference is the reference algorithm's: it
// hashes a JSON document's CURIEs that only the standard context declares
// (a value gs1:Angle, a key cbvmda:lotNumber) as written, and XML's
// expanded; such an event comes back expanded, with the hash of its XML. extra, if not empty, is well-formed XML the caller
// adds to resultsBody after the EventList (a repository's own, namespaced
// elements). creationDate is written as given.
func QueryDocumentXML(creationDate, queryName string, events []*Event, extra []byte) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<epcisq:EPCISQueryDocument xmlns:epcisq="` + xmlnsEPCISQuery + `" schemaVersion="2.0" creationDate="`)
	escape(&b, creationDate)
	b.WriteString(`"><EPCISBody><epcisq:QueryResults><queryName>`)
	escape(&b, queryName)
	b.WriteString(`</queryName><resultsBody><EventList>`)
	for _, e := range events {
		if err := writeEvent(&b, e); err != nil {
			return nil, err
		}
	}
	b.WriteString(`</EventList>`)
	b.Write(extra)
	b.WriteString(`</resultsBody></epcisq:QueryResults></EPCISBody></epcisq:EPCISQueryDocument>`)
	return b.Bytes(), nil
}

// EventXML writes one event as an EPCIS 2.0 XML event element.
func EventXML(e *Event) ([]byte, error) {
	var b bytes.Buffer
	if err := writeEvent(&b, e); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeEvent(b *bytes.Buffer, e *Event) error {
	if e.tree == nil {
		return ErrNotXML
	}
	// A JSON event's "type" is the element's name in XML (and no part of
	// the hash).
	t := &node{name: e.tree.name, kids: slices.DeleteFunc(slices.Clone(e.tree.kids), func(k *node) bool { return k.name == "type" })}
	order := schemaOrder[t.name]
	rank := func(n *node) int {
		if i := slices.Index(order, n.name); i >= 0 {
			return i
		}
		return len(order) // extensions, in document order
	}
	slices.SortStableFunc(t.kids, func(x, y *node) int { return rank(x) - rank(y) })
	return writeNode(b, t)
}

// baseFields open every event in the EPCIS 2.0 schema.
var baseFields = []string{"eventTime", "recordTime", "eventTimeZoneOffset", "certificationInfo", "eventID", "errorDeclaration"}

// tail is what follows the identifiers and action of most event types.
var tail = []string{"bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd"}

// schemaOrder is each event type's element order in the EPCIS 2.0 XSD.
var schemaOrder = map[string][]string{
	"ObjectEvent":         concat(baseFields, []string{"epcList", "quantityList", "action"}, tail),
	"AggregationEvent":    concat(baseFields, []string{"parentID", "childEPCs", "childQuantityList", "action"}, tail),
	"AssociationEvent":    concat(baseFields, []string{"parentID", "childEPCs", "childQuantityList", "action"}, tail),
	"TransactionEvent":    concat(baseFields, []string{"bizTransactionList", "parentID", "epcList", "quantityList", "action"}, slices.DeleteFunc(slices.Clone(tail), func(s string) bool { return s == "bizTransactionList" })),
	"TransformationEvent": concat(baseFields, []string{"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID"}, tail),
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// attributeParents are the elements whose simple fields the XML binding
// writes as attributes.
var attributeParents = map[string]bool{"sensorMetadata": true, "sensorReport": true}

// writeNode writes n and its children. Simple children of a sensor's
// metadata or report become attributes, a pair's type its attribute; the
// decoder turns both back into the same children. A namespaced name gets a
// prefix declared on the element that uses it.
func writeNode(b *bytes.Buffer, n *node) error {
	name, decls, err := qualify(n.name, 0)
	if err != nil {
		return err
	}
	b.WriteString("<" + name + decls)
	var kids []*node
	var text string
	switch {
	case n.pair:
		for _, k := range n.kids {
			if k.name == "type" {
				writeAttr(b, "type", k.text)
			} else {
				text = k.text
			}
		}
	case attributeParents[n.name]:
		text = n.text
		prefixes := 1
		seen := map[string]bool{}
		for _, k := range n.kids {
			if len(k.kids) > 0 || k.pair || k.text == "" || seen[k.name] {
				kids = append(kids, k)
				continue
			}
			an, adecl, err := qualify(k.name, prefixes)
			if err != nil {
				return err
			}
			seen[k.name] = true
			if adecl != "" {
				prefixes++
				b.WriteString(adecl)
			}
			writeAttr(b, an, k.text)
		}
	default:
		text, kids = n.text, n.kids
	}
	if text == "" && len(kids) == 0 {
		b.WriteString("/>")
		return nil
	}
	b.WriteString(">")
	escape(b, text)
	for _, k := range kids {
		if err := writeNode(b, k); err != nil {
			return err
		}
	}
	b.WriteString("</" + name + ">")
	return nil
}

// qualify turns a data-model name ("local", "{namespace}local", or a JSON
// key "prefix:local" whose prefix the document's context left to the
// standard context) into an XML name and the declaration of its prefix
// (n<i>), if it needs one. A prefix the standard context does not declare
// either is, as JSON-LD reads such a key, the scheme of an absolute IRI:
// its namespace is "prefix:".
func qualify(name string, i int) (string, string, error) {
	var space, local string
	switch {
	case strings.HasPrefix(name, "{"):
		end := strings.IndexByte(name, '}')
		if end < 0 {
			return "", "", ErrNotXML
		}
		space, local = name[1:end], name[end+1:]
	case strings.Contains(name, ":"):
		prefix, l, _ := strings.Cut(name, ":")
		space, local = standardPrefixes[prefix], l
		if space == "" {
			space = prefix + ":"
		}
	default:
		local = name
	}
	if local == "" || strings.Contains(local, ":") {
		return "", "", ErrNotXML
	}
	if space == "" {
		return local, "", nil
	}
	p := "n" + strconv.Itoa(i)
	var d bytes.Buffer
	d.WriteString(" xmlns:" + p + `="`)
	escape(&d, space)
	d.WriteString(`"`)
	return p + ":" + local, d.String(), nil
}

func writeAttr(b *bytes.Buffer, name, v string) {
	b.WriteString(" " + name + `="`)
	escape(b, v)
	b.WriteString(`"`)
}

func escape(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }

// HasJSONCURIEs reports whether the event holds CURIEs that the reference
// algorithm hashes as written in JSON and expanded in XML: a key
// prefix:local whose prefix only the standard context declares, or a
// gs1: or cbv: value. Such an event's XML form has another hash than its
// JSON form; every other event's forms hash the same.
func (e *Event) HasJSONCURIEs() bool { return e.tree != nil && hasCURIEs(e.tree) }

func hasCURIEs(n *node) bool {
	if !strings.HasPrefix(n.name, "{") && strings.Contains(n.name, ":") ||
		strings.HasPrefix(n.text, "gs1:") || strings.HasPrefix(n.text, "cbv:") {
		return true
	}
	for _, k := range n.kids {
		if hasCURIEs(k) {
			return true
		}
	}
	return false
}
