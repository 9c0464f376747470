package epcis

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// xel is a decoded XML element: resolved name, attributes, text before its
// first child, and children.
type xel struct {
	space, local string
	attrs        []xml.Attr
	text         string
	kids         []*xel
}

// ParseXML decodes an EPCIS 2.0 or 1.2 XML document (EPCISDocument or
// EPCISQueryDocument; a bare event element too) under the default Limits, and
// validates every event. EPCIS 1.2's extension wrappers are unwrapped; its
// header's master data is kept in Document.MasterData.
func ParseXML(b []byte) (*Document, error) { return Limits{}.ParseXML(b) }

// ParseXML decodes an XML document under l; see the package ParseXML.
func (l Limits) ParseXML(b []byte) (*Document, error) {
	l = l.withDefaults()
	if len(b) > l.MaxBytes {
		return nil, docErr(ErrTooLarge, "", "document of %d bytes exceeds the limit of %d", len(b), l.MaxBytes)
	}
	root, err := decodeXML(b, l.MaxDepth)
	if err != nil {
		return nil, err
	}
	doc := &Document{Type: root.local, SchemaVersion: attr(root, "schemaVersion"), CreationDate: attr(root, "creationDate")}
	var events []*xel
	switch {
	case isEventType(root.local) && root.space == "":
		events = []*xel{root}
	case root.local == "EPCISDocument" || root.local == "EPCISQueryDocument":
		list := find(root, "EventList")
		if list == nil {
			return nil, docErr(ErrMalformed, "EventList", "missing")
		}
		events = list.kids
		doc.MasterData = masterData(find(root, "EPCISMasterData"))
	default:
		return nil, docErr(ErrMalformed, "", "root is not an EPCISDocument or EPCISQueryDocument")
	}
	if len(events) > l.MaxEvents {
		return nil, docErr(ErrTooLarge, "EventList", "%d events exceed the limit of %d", len(events), l.MaxEvents)
	}
	ignore := xmlIgnoreFields(root)
	for i, ev := range events {
		t := xmlNode(ev)
		if ignore != nil {
			kept := t.kids[:0]
			for _, k := range t.kids {
				if !ignore[k.name] {
					kept = append(kept, k)
				}
			}
			t.kids = kept
		}
		expandXMLPrefixes(t)
		e, err := buildEvent(i, t)
		if err != nil {
			return nil, err
		}
		doc.Events = append(doc.Events, e)
	}
	return doc, nil
}

// decodeXML reads the document's root element, unwrapping EPCIS
// extension and baseExtension elements.
func decodeXML(b []byte, maxDepth int) (*xel, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xel
	var root *xel
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, docErr(ErrMalformed, "", "invalid XML at line %d", se.Line)
			}
			return nil, docErr(ErrMalformed, "", "invalid XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, docErr(ErrTooLarge, "", "nesting deeper than %d", maxDepth)
			}
			el := &xel{space: t.Name.Space, local: t.Name.Local, attrs: t.Attr}
			if unwrapped(el) {
				el = &xel{local: "\x00extension"} // a marker; its children go to the parent
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, docErr(ErrMalformed, "", "more than one root element")
				}
				root = el
			}
			stack = append(stack, el)
		case xml.EndElement:
			el := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				if el.local == "\x00extension" {
					parent.kids = append(parent.kids, el.kids...)
				} else {
					parent.kids = append(parent.kids, el)
				}
			}
		case xml.CharData:
			if len(stack) > 0 {
				el := stack[len(stack)-1]
				if len(el.kids) == 0 {
					el.text += string(t)
				}
			}
		}
	}
	if root == nil {
		return nil, docErr(ErrMalformed, "", "no root element")
	}
	return root, nil
}

// unwrapped reports whether an element is an EPCIS extension wrapper,
// whose children belong to its parent (EPCIS 1.2 and the 2.0 XML binding's
// baseExtension).
func unwrapped(el *xel) bool {
	return (el.local == "extension" || el.local == "baseExtension") && el.space == ""
}

func attr(el *xel, local string) string {
	for _, a := range el.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// find returns the first element named local (any namespace), depth first.
func find(el *xel, local string) *xel {
	if el == nil {
		return nil
	}
	if el.local == local {
		return el
	}
	for _, k := range el.kids {
		if f := find(k, local); f != nil {
			return f
		}
	}
	return nil
}

func xmlName(space, local string) string {
	if space == "" {
		return local
	}
	return "{" + space + "}" + local
}

// xmlNode converts an element to the data model: attributes become
// children; business transactions, sources and destinations become pairs.
func xmlNode(el *xel) *node {
	n := &node{name: xmlName(el.space, el.local), text: strings.TrimSpace(el.text)}
	for _, a := range el.attrs {
		if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" && a.Name.Space == "" {
			continue
		}
		n.kids = append(n.kids, &node{name: xmlName(a.Name.Space, a.Name.Local), text: a.Value})
	}
	for _, k := range el.kids {
		kn := xmlNode(k)
		if pairLists[n.name] && kn.name == strings.TrimSuffix(n.name, "List") {
			kn = xmlPair(kn)
		}
		n.kids = append(n.kids, kn)
	}
	return n
}

func xmlPair(k *node) *node {
	p := &node{name: k.name, pair: true}
	if t := k.child("type"); t != nil {
		p.kids = append(p.kids, t)
	}
	p.kids = append(p.kids, &node{name: k.name, text: k.text})
	return p
}

// expandXMLPrefixes expands the gs1: and cbv: prefixes in values, as the
// reference does for XML (not in the values of pairs, only their types).
func expandXMLPrefixes(n *node) {
	if n.pair {
		if t := n.child("type"); t != nil {
			t.text = expandXMLValue(t.text)
		}
		return
	}
	n.text = expandXMLValue(n.text)
	for _, k := range n.kids {
		expandXMLPrefixes(k)
	}
}

func expandXMLValue(s string) string {
	switch {
	case strings.HasPrefix(s, "gs1:"):
		return gs1Voc + s[4:]
	case strings.HasPrefix(s, "cbv:"):
		return cbvWeb + s[4:]
	}
	return s
}

// xmlIgnoreFields reads a document-level ignoreFields element (any
// namespace; see jsonIgnoreFields).
func xmlIgnoreFields(root *xel) map[string]bool {
	var out map[string]bool
	for _, k := range root.kids {
		if k.local != "ignoreFields" {
			continue
		}
		for _, f := range k.kids {
			if out == nil {
				out = map[string]bool{}
			}
			out[xmlName(f.space, f.local)] = true
		}
	}
	return out
}

// masterData reads EPCISMasterData's vocabularies.
func masterData(md *xel) []Vocabulary {
	list := find(md, "VocabularyList")
	if list == nil {
		return nil
	}
	var out []Vocabulary
	for _, v := range list.kids {
		voc := Vocabulary{Type: attr(v, "type")}
		for _, el := range find(v, "VocabularyElementList").kidsOrNil() {
			ve := VocabularyElement{ID: attr(el, "id")}
			for _, a := range el.kids {
				if a.local == "attribute" {
					ve.Attributes = append(ve.Attributes, Attribute{ID: attr(a, "id"), Value: strings.TrimSpace(a.text)})
				}
			}
			voc.Elements = append(voc.Elements, ve)
		}
		out = append(out, voc)
	}
	return out
}

func (el *xel) kidsOrNil() []*xel {
	if el == nil {
		return nil
	}
	return el.kids
}
