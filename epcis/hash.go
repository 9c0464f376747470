package epcis

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
)

// prop is an entry of the canonical property order: a child name and the
// order of its own children (nil: a leaf).
type prop struct {
	name string
	sub  []prop
}

var quantityOrder = []prop{{"quantityElement", []prop{{"epcClass", nil}, {"quantity", nil}, {"uom", nil}}}}

// propOrder is the CBV 2.0 canonical property order of an event (the
// reference implementation's PROP_ORDER). The pair lists (bizTransaction,
// source, destination) have no order of their own: as in the reference,
// they are hashed with the remaining elements.
var propOrder = []prop{
	{"eventTime", nil},
	{"eventTimeZoneOffset", nil},
	{"certificationInfo", nil},
	{"parentID", nil},
	{"epcList", []prop{{"epc", nil}}},
	{"inputEPCList", []prop{{"epc", nil}}},
	{"childEPCs", []prop{{"epc", nil}}},
	{"quantityList", quantityOrder},
	{"childQuantityList", quantityOrder},
	{"inputQuantityList", quantityOrder},
	{"outputEPCList", []prop{{"epc", nil}}},
	{"outputQuantityList", quantityOrder},
	{"action", nil},
	{"transformationID", nil},
	{"bizStep", nil},
	{"disposition", nil},
	{"persistentDisposition", []prop{{"set", nil}, {"unset", nil}}},
	{"readPoint", []prop{{"id", nil}}},
	{"bizLocation", []prop{{"id", nil}}},
	{"bizTransactionList", nil},
	{"sourceList", nil},
	{"destinationList", nil},
	{"sensorElementList", []prop{{"sensorElement", []prop{
		{"sensorMetadata", leaves("time startTime endTime deviceID deviceMetadata rawData dataProcessingMethod bizRules")},
		{"sensorReport", leaves(`type exception deviceID deviceMetadata rawData dataProcessingMethod time
			microorganism chemicalSubstance value component stringValue booleanValue hexBinaryValue uriValue
			minValue maxValue meanValue sDev percRank percValue uom coordinateReferenceSystem`)},
	}}}},
}

func leaves(names string) []prop {
	var ps []prop
	for _, n := range strings.Fields(names) {
		ps = append(ps, prop{n, nil})
	}
	return ps
}

// hashIgnored are the top-level elements the hash leaves out.
var hashIgnored = map[string]bool{"recordTime": true, "eventID": true, "type": true, "errorDeclaration": true}

// HashID returns the event's CBV 2.0 event hash,
// "ni:///sha-256;<hex>?ver=CBV2.0".
func (e *Event) HashID() string {
	sum := sha256.Sum256([]byte(e.PreHash()))
	return "ni:///sha-256;" + hex.EncodeToString(sum[:]) + "?ver=CBV2.0"
}

// PreHash returns the canonical string the event hash digests, exactly as
// the reference implementation (RalphTro/epcis-event-hash-generator)
// builds it: the properties in canonical order, values canonicalised
// (CBV URNs to web URIs, EPC URNs to GS1 Digital Link, timestamps to UTC
// milliseconds, numbers without trailing zeros), list values sorted, user
// extensions after their parent's standard fields.
func (e *Event) PreHash() string {
	if e.tree == nil {
		return ""
	}
	t := e.tree.clone()
	var b strings.Builder
	b.WriteString("eventType=")
	b.WriteString(t.name)
	b.WriteString(orderedPreHash(&t.kids, propOrder))
	var rest []*node
	for _, k := range t.kids {
		if k.pair || !hashIgnored[k.name] {
			rest = append(rest, k)
		}
	}
	if len(rest) > 0 {
		b.WriteString(genericPreHash(rest))
	}
	return b.String()
}

// orderedPreHash writes the children named in order, consuming from list
// those it has written in full; what remains is hashed generically after.
func orderedPreHash(list *[]*node, order []prop) string {
	exts := takeUserExtensions(list)
	var out strings.Builder
	for _, p := range order {
		var vals []string
		for _, c := range childrenNamed(*list, p.name) {
			if s := childPreHash(c, p.sub); s != "" {
				vals = append(vals, s)
			}
			if len(c.kids) == 0 {
				*list = removeNode(*list, c)
			}
		}
		sort.Strings(vals)
		for _, v := range vals {
			out.WriteString(v)
		}
	}
	if len(exts) > 0 {
		out.WriteString(genericPreHash(exts))
	}
	return out.String()
}

func childrenNamed(list []*node, name string) []*node {
	var out []*node
	for _, c := range list {
		if !c.pair && c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// takeUserExtensions removes and returns the user extensions ("{ns/}name")
// among the children of a standard element, which are hashed right after
// that element's standard fields. As in the reference, nothing is taken
// from a single child, nor from the event's own level (recognised by a
// child whose name contains "eventTime" or "action").
func takeUserExtensions(list *[]*node) []*node {
	if len(*list) <= 1 {
		return nil
	}
	for _, c := range *list {
		if !c.pair && (strings.Contains(c.name, "eventTime") || strings.Contains(c.name, "action")) {
			return nil
		}
	}
	var exts, kept []*node
	for _, c := range *list {
		if !c.pair && strings.Contains(c.name, "{") && strings.Contains(c.name, "/}") {
			exts = append(exts, c)
		} else {
			kept = append(kept, c)
		}
	}
	if len(exts) > 0 {
		*list = kept
	}
	return exts
}

func childPreHash(c *node, sub []prop) string {
	grand := ""
	if sub != nil {
		grand = orderedPreHash(&c.kids, sub)
	}
	text := ""
	if c.text != "" {
		text = strings.TrimSpace(c.text)
		lower := strings.ToLower(c.name)
		if strings.Contains(lower, "time") && !strings.Contains(lower, "offset") {
			text = canonicalTime(text)
		} else {
			text = canonicalValue(text)
		}
		if text != "" {
			text = "=" + text
		}
	}
	if text == "" && grand == "" {
		return ""
	}
	return c.name + text + grand
}

// genericPreHash hashes elements outside the canonical order: name=value
// and children, sorted, but for business transactions, sources and
// destinations, which keep their order.
func genericPreHash(children []*node) string {
	vals := make([]string, 0, len(children))
	for _, c := range children {
		if c.pair {
			vals = append(vals, genericPreHash(c.kids))
			continue
		}
		text := strings.TrimSpace(c.text)
		if text != "" {
			text = "=" + canonicalValue(text)
		}
		vals = append(vals, c.name+text+genericPreHash(c.kids))
	}
	if len(children) > 1 && shouldSort(children) {
		sort.Strings(vals)
	}
	return strings.Join(vals, "")
}

func shouldSort(children []*node) bool {
	for _, c := range children {
		if !c.pair && (c.name == "bizTransaction" || c.name == "source" || c.name == "destination") {
			return false
		}
	}
	return true
}

// canonicalValue maps CBV 1.x URNs to CBV 2.0 web URIs, numbers to their
// shortest form, and GS1 keys to canonical GS1 Digital Link URIs.
func canonicalValue(s string) string {
	s = cbvURNReplacer.Replace(s)
	s = canonicalNumber(s)
	if dl, ok := normaliseDigitalLink(s); ok {
		return dl
	}
	return s
}

var cbvURNReplacer = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", cbvWeb+"BizStep-",
	"urn:epcglobal:cbv:disp:", cbvWeb+"Disp-",
	"urn:epcglobal:cbv:btt:", cbvWeb+"BTT-",
	"urn:epcglobal:cbv:sdt:", cbvWeb+"SDT-",
	"urn:epcglobal:cbv:er:", cbvWeb+"ER-",
)
