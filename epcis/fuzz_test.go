package epcis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addExampleSeeds adds the reference's hash examples with the extension
// ext as seeds, besides the corpus in testdata/fuzz.
func addExampleSeeds(f *testing.F, ext string) {
	paths, _ := filepath.Glob(filepath.Join(hashExamples, "*"+ext))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// checkDecodeResult asserts what a caller relies on: an error is an *Error
// of a known kind; a document has events, each with a well-formed hash.
func checkDecodeResult(t *testing.T, doc *Document, err error) {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalid)) {
			t.Fatalf("error %v is not a typed *Error", err)
		}
		return
	}
	for _, e := range doc.Events {
		if h := e.HashID(); !strings.HasPrefix(h, "ni:///sha-256;") || len(h) != len("ni:///sha-256;?ver=CBV2.0")+64 {
			t.Fatalf("HashID = %q", h)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(oneEvent))
	addExampleSeeds(f, ".jsonld")
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseJSON(b)
		checkDecodeResult(t, doc, err)
	})
}

func FuzzParseXML(f *testing.F) {
	addExampleSeeds(f, ".xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseXML(b)
		checkDecodeResult(t, doc, err)
	})
}

// FuzzHash mutates one event's values (an EPC, a time, a sensor value) and
// checks that canonicalisation never panics and is deterministic, and that
// a value's canonical form is a fixed point of the value canonicaliser.
func FuzzHash(f *testing.F) {
	f.Add("urn:epc:id:sgtin:0614141.107346.2017", "2024-01-01T10:00:00.1235+01:00", "7.250")
	f.Add("https://example.com/01/9521141012345/10/L1/21/x?17=250101", "2024-13-01T10:00:00Z", "1e-7")
	f.Add("urn:epc:idpat:sgtin:0614141.107346.*", "2024-01-01", "-0")
	f.Fuzz(func(t *testing.T, epc, when, value string) {
		n := &node{name: "ObjectEvent", kids: []*node{
			{name: "eventTime", text: when}, {name: "action", text: "OBSERVE"},
			{name: "epcList", kids: []*node{{name: "epc", text: epc}}},
			{name: "sensorElementList", kids: []*node{{name: "sensorElement", kids: []*node{
				{name: "sensorReport", kids: []*node{{name: "value", text: value}}}}}}},
			{name: "{https://ns.example.com/}x", text: value},
		}}
		e := &Event{tree: n}
		if e.HashID() != e.HashID() || e.PreHash() != e.PreHash() {
			t.Fatal("hash is not deterministic")
		}
		if c := canonicalValue(epc); canonicalValue(c) != c {
			t.Fatalf("canonicalValue(%q) = %q is not a fixed point", epc, c)
		}
	})
}

// FuzzXMLRoundTrip writes every document ParseJSON or ParseXML accepts as
// an XML query document, which must parse back into as many events, each
// with the hash it had unless the reference hashes its JSON CURIEs
// unexpanded (see QueryDocumentXML).
func FuzzXMLRoundTrip(f *testing.F) {
	f.Add([]byte(oneEvent))
	addExampleSeeds(f, ".jsonld")
	addExampleSeeds(f, ".xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseJSON(b)
		if err != nil {
			if doc, err = ParseXML(b); err != nil {
				return
			}
		}
		out, err := QueryDocumentXML("2026-01-01T00:00:00Z", "SimpleEventQuery", doc.Events, nil)
		if errors.Is(err, ErrNotXML) {
			return
		}
		if err != nil {
			t.Fatalf("QueryDocumentXML: %v", err)
		}
		back, err := Limits{MaxBytes: 1 << 30}.ParseXML(out)
		if err != nil || len(back.Events) != len(doc.Events) {
			t.Fatalf("ParseXML(written) = %v; want %d events\n%s", err, len(doc.Events), out)
		}
		for i, e := range doc.Events {
			if !e.HasJSONCURIEs() && back.Events[i].HashID() != e.HashID() {
				t.Fatalf("event %d: hash %s after the round trip; want %s\n%s", i, back.Events[i].HashID(), e.HashID(), out)
			}
		}
	})
}

// FuzzMayBeDigitalLink: the cheap test never says no where the Digital
// Link expression matches, so that skipping the expression changes no
// hash.
func FuzzMayBeDigitalLink(f *testing.F) {
	for _, s := range []string{
		"https://id.gs1.org/01/09521234543213/21/1", "https://ref.gs1.org/cbv/BizStep-shipping", "http://x/abcdefghij",
		"https://example.com/gtin/1234x", "https://a/b/414/0614141000005/254/7?x=1", "https://a/01/123",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if reDL.MatchString(uri) && !mayBeDigitalLink(uri) {
			t.Fatalf("mayBeDigitalLink(%q) = false; reDL matches", uri)
		}
	})
}

// FuzzIsSGTIN: the hand-written SGTIN check agrees with the expression
// it stands for.
func FuzzIsSGTIN(f *testing.F) {
	for _, s := range []string{
		"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:061414112345.1.%2Fa.b",
		"urn:epc:id:sgtin:0614141.107346.", "urn:epc:id:sgtin:0614141.107346.123456789012345678901",
		"urn:epc:id:sgtin:06141.1073467.1", "urn:epc:id:sgtin:0614141.107346.%2", "urn:epc:id:sgtin:0614141.107346.%7B",
		"urn:epc:id:sgtin:0614141.107346.a%20b", "urn:epc:id:sgtin:0614141.10734.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isSGTIN(s), reSGTIN.MatchString(s); got != want {
			t.Fatalf("isSGTIN(%q) = %v; reSGTIN says %v", s, got, want)
		}
		u := "urn:epc:id:sgtin:0614141.107346." + s // serials, which the seeds rarely reach
		if got, want := isSGTIN(u), reSGTIN.MatchString(u); got != want {
			t.Fatalf("isSGTIN(%q) = %v; reSGTIN says %v", u, got, want)
		}
	})
}
