package epcis

import (
	"strings"
)

// ParseJSON decodes an EPCIS 2.0 JSON or JSON-LD document (EPCISDocument,
// EPCISQueryDocument, or a single event) under the default Limits, and validates
// every event. It returns the first error as an *Error.
func ParseJSON(b []byte) (*Document, error) { return Limits{}.ParseJSON(b) }

// ParseJSON decodes a JSON document under l; see the package ParseJSON.
func (l Limits) ParseJSON(b []byte) (*Document, error) {
	l = l.withDefaults()
	if len(b) > l.MaxBytes {
		return nil, docErr(ErrTooLarge, "", "document of %d bytes exceeds the limit of %d", len(b), l.MaxBytes)
	}
	root, err := decodeJSON(b, l.MaxDepth)
	if err != nil {
		return nil, err
	}
	if root.kind != 'o' {
		return nil, docErr(ErrMalformed, "", "not a JSON object")
	}
	ns, err := contextPrefixes(root.get("@context"))
	if err != nil {
		return nil, err
	}
	doc := &Document{Type: jsonString(root.get("type")), SchemaVersion: jsonString(root.get("schemaVersion")),
		CreationDate: jsonString(root.get("creationDate"))}
	events, header, err := jsonEventList(root, doc.Type)
	if err != nil {
		return nil, err
	}
	if len(events) > l.MaxEvents {
		return nil, docErr(ErrTooLarge, "eventList", "%d events exceed the limit of %d", len(events), l.MaxEvents)
	}
	ignore := jsonIgnoreFields(root, header, ns)
	for i, ev := range events {
		if ev.kind != 'o' {
			return nil, eventErr(ErrMalformed, i, "", "", "event is not a JSON object")
		}
		tree, err := jsonEventTree(ev, ns, ignore)
		if err != nil {
			return nil, err
		}
		e, err := buildEvent(i, tree)
		if err != nil {
			return nil, err
		}
		doc.Events = append(doc.Events, e)
	}
	return doc, nil
}

// jsonEventList finds the events of a document or the single event, and
// the object that holds ignoreFields (queryResults for a query document).
func jsonEventList(root *jv, typ string) ([]*jv, *jv, error) {
	if isEventType(typ) {
		return []*jv{root}, root, nil
	}
	if typ != "EPCISDocument" && typ != "EPCISQueryDocument" {
		return nil, nil, docErr(ErrMalformed, "type", "not an EPCISDocument, EPCISQueryDocument or event type")
	}
	if root.get("@context") == nil {
		return nil, nil, docErr(ErrMalformed, "@context", "a JSON-LD document needs a @context")
	}
	body := root.get("epcisBody")
	if body == nil || body.kind != 'o' {
		return nil, nil, docErr(ErrMalformed, "epcisBody", "missing")
	}
	holder := root
	if qr := body.get("queryResults"); qr != nil {
		holder = qr
		body = qr.get("resultsBody")
	}
	if ev := body.get("event"); ev != nil {
		return []*jv{ev}, holder, nil
	}
	list := body.get("eventList")
	if list == nil || list.kind != 'a' {
		return nil, nil, docErr(ErrMalformed, "epcisBody.eventList", "missing or not an array")
	}
	return list.vals, holder, nil
}

// contextPrefixes collects the prefixes a JSON-LD @context declares
// ({"example": "https://ns.example.com/epcis/"}); remote contexts (strings)
// declare the standard EPCIS terms, which the decoder knows.
func contextPrefixes(ctx *jv) (map[string]string, error) {
	ns := map[string]string{}
	var entries []*jv
	switch {
	case ctx == nil:
	case ctx.kind == 'a':
		entries = ctx.vals
	default:
		entries = []*jv{ctx}
	}
	for _, c := range entries {
		switch c.kind {
		case 's':
		case 'o':
			for i, k := range c.keys {
				v := c.vals[i]
				if v.kind == 'o' {
					v = v.get("@id")
				}
				if v != nil && v.kind == 's' {
					ns[k] = v.str
				}
			}
		default:
			return nil, docErr(ErrMalformed, "@context", "not a string or object")
		}
	}
	return ns, nil
}

// jsonIgnoreFields reads a document's "ignoreFields" (in any namespace): the
// names of event fields a repository added, which the hash leaves out (as
// the reference implementation's examples use them).
func jsonIgnoreFields(root, holder *jv, ns map[string]string) map[string]bool {
	var out map[string]bool
	for _, obj := range []*jv{root, holder} {
		for i, k := range obj.keys {
			if k != "ignoreFields" && !strings.HasSuffix(k, ":ignoreFields") {
				continue
			}
			for _, f := range obj.vals[i].vals {
				if f.kind == 's' {
					if out == nil {
						out = map[string]bool{}
					}
					out[expandKey(f.str, ns)] = true
				}
			}
		}
	}
	return out
}

func jsonString(v *jv) string {
	if v == nil || v.kind != 's' {
		return ""
	}
	return v.str
}

// expandKey turns a CURIE key into "{namespace}local" when the context
// declares its prefix.
func expandKey(k string, ns map[string]string) string {
	if p, local, ok := strings.Cut(k, ":"); ok {
		if uri, ok := ns[p]; ok {
			return "{" + uri + "}" + local
		}
	}
	return k
}

// expandValue turns a CURIE value into a URI when the context declares its
// prefix.
func expandValue(v string, ns map[string]string) string {
	if p, local, ok := strings.Cut(v, ":"); ok {
		if uri, ok := ns[p]; ok {
			return uri + local
		}
	}
	return v
}

// jsonEventTree converts an event object to the XML data model, as the
// reference implementation does: lists named xList hold x elements,
// childEPCs hold epc elements, quantity elements are quantityElement, and
// bare CBV words and declared CURIEs become URIs.
func jsonEventTree(ev *jv, ns map[string]string, ignore map[string]bool) (*node, error) {
	if inner := ev.get("@context"); inner != nil {
		more, err := contextPrefixes(inner)
		if err != nil {
			return nil, err
		}
		merged := make(map[string]string, len(ns)+len(more))
		for k, v := range ns {
			merged[k] = v
		}
		for k, v := range more {
			merged[k] = v
		}
		ns = merged
	}
	n := &node{name: jsonString(ev.get("type"))}
	n.kids = jsonKids(ev, ns, ignore)
	correctJSONModel(n)
	replaceBareWords(n)
	expandCURIEs(n, ns)
	return n, nil
}

// jsonKids converts an object's members (but "#text", comments, @context)
// to child nodes.
func jsonKids(obj *jv, ns map[string]string, ignore map[string]bool) []*node {
	var kids []*node
	for i, k := range obj.keys {
		switch {
		case k == "#text" || k == "rdfs:comment" || k == "comment" || k == "@context" || strings.HasPrefix(k, "@xmlns"):
			continue
		}
		name := expandKey(k, ns)
		if ignore[name] {
			continue
		}
		kids = append(kids, jsonNodes(name, obj.vals[i], ns)...)
	}
	return kids
}

// jsonNodes converts one member: an array becomes one node per element.
func jsonNodes(name string, v *jv, ns map[string]string) []*node {
	switch v.kind {
	case 'a':
		if len(v.vals) == 0 {
			return []*node{{name: name, emptyList: true}}
		}
		var out []*node
		for _, e := range v.vals {
			if e.kind == 'a' {
				n := &node{name: name}
				for _, inner := range e.vals {
					n.kids = append(n.kids, jsonNodes("", inner, ns)...)
				}
				out = append(out, n)
				continue
			}
			out = append(out, jsonNodes(name, e, ns)...)
		}
		return out
	case 'o':
		n := &node{name: name, text: jsonString(v.get("#text"))}
		n.kids = jsonKids(v, ns, nil)
		return []*node{n}
	case 'z':
		return nil // JSON-LD: null is absent
	case 'b':
		// The reference implementation renders JSON booleans as Python does.
		if v.str == "true" {
			return []*node{{name: name, text: "True"}}
		}
		return []*node{{name: name, text: "False"}}
	}
	return []*node{{name: name, text: v.str}}
}

// pairLists are the lists whose elements are (type, value) pairs.
var pairLists = map[string]bool{"bizTransactionList": true, "sourceList": true, "destinationList": true}

// correctJSONModel applies the reference implementation's JSON-to-XML model
// corrections to n and, recursively, its children.
func correctJSONModel(n *node) {
	var lists []*node
	byName := map[string]*node{}
	var childEPCs *node
	kept := n.kids[:0]
	for _, k := range n.kids {
		switch {
		case !k.pair && strings.HasSuffix(k.name, "List"):
			l := byName[k.name]
			if l == nil {
				l = &node{name: k.name}
				byName[k.name] = l
				lists = append(lists, l)
			}
			if k.emptyList {
				continue
			}
			k.name = strings.TrimSuffix(k.name, "List")
			if pairLists[l.name] {
				k = toPair(k)
			}
			l.kids = append(l.kids, k)
		case k.emptyList:
			continue // an empty array of a field that is not a list
		case k.name == "childEPCs":
			if childEPCs == nil {
				childEPCs = &node{name: "childEPCs"}
			}
			childEPCs.kids = append(childEPCs.kids, &node{name: "epc", text: k.text})
		default:
			kept = append(kept, k)
		}
	}
	n.kids = append(kept, lists...)
	if childEPCs != nil {
		n.kids = append(n.kids, childEPCs)
	}
	for _, k := range n.kids {
		if !pairLists[k.name] {
			correctJSONModel(k)
		}
	}
	switch {
	case n.name == "inputEPC" || n.name == "outputEPC":
		n.name = "epc"
	case n.name == "inputQuantity" || n.name == "outputQuantity" || n.name == "childQuantity" ||
		(n.name == "quantity" && len(n.kids) > 0):
		n.name = "quantityElement"
	}
}

// toPair turns a bizTransaction, source or destination element into a
// pair: its type (when given), then its value.
func toPair(k *node) *node {
	p := &node{name: k.name, pair: true}
	if t := k.child("type"); t != nil {
		p.kids = append(p.kids, &node{name: "type", text: t.text})
	}
	v := k.child(k.name)
	if v == nil {
		v = &node{name: k.name}
	}
	p.kids = append(p.kids, &node{name: k.name, text: v.text})
	return p
}

// expandCURIEs expands declared prefixes in every value.
func expandCURIEs(n *node, ns map[string]string) {
	if n.text != "" {
		n.text = expandValue(n.text, ns)
	}
	for _, k := range n.kids {
		expandCURIEs(k, ns)
	}
}
