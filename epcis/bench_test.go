package epcis

import (
	"os"
	"testing"
)

// BenchmarkHash parses a document and hashes every event, per event: the
// baseline (no ledger) that capture benchmarks compare with. The document
// is the reference's thirteen events of all types.
func BenchmarkHash(b *testing.B) {
	for _, name := range []string{"epcisDocWithVariousEventTypes.jsonld", "epcisDocWithVariousEventTypes.xml"} {
		data, err := os.ReadFile(hashExamples + "/" + name)
		if err != nil {
			b.Fatal(err)
		}
		parse := ParseJSON
		if name[len(name)-4:] == ".xml" {
			parse = ParseXML
		}
		b.Run(name, func(b *testing.B) {
			events := 0
			for b.Loop() {
				doc, err := parse(data)
				if err != nil {
					b.Fatal(err)
				}
				for _, e := range doc.Events {
					_ = e.HashID()
				}
				events += len(doc.Events)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkXMLAnswer measures, per event, what an XML query answer adds:
// writing the decoded events as an XML query document, beside the
// baseline of decoding the JSON-LD document they came from (what a JSON
// answer's bodies already cost to capture), and reading the written XML
// back, as a client does.
func BenchmarkXMLAnswer(b *testing.B) {
	data, err := os.ReadFile(hashExamples + "/epcisDocWithVariousEventTypes.jsonld")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := ParseJSON(data)
	if err != nil {
		b.Fatal(err)
	}
	written, err := QueryDocumentXML("2026-12-03T00:00:00Z", "SimpleEventQuery", doc.Events, nil)
	if err != nil {
		b.Fatal(err)
	}
	perEvent := func(b *testing.B, f func() error) {
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(doc.Events)), "ns/event")
	}
	b.Run("baseline-parse-json", func(b *testing.B) {
		perEvent(b, func() error { _, err := ParseJSON(data); return err })
	})
	b.Run("write-xml", func(b *testing.B) {
		perEvent(b, func() error {
			_, err := QueryDocumentXML("2026-12-03T00:00:00Z", "SimpleEventQuery", doc.Events, nil)
			return err
		})
	})
	b.Run("read-xml-back", func(b *testing.B) {
		perEvent(b, func() error { _, err := ParseXML(written); return err })
	})
}

// BenchmarkDigitalLinkCheck: the event hash asks of every URI an event
// holds whether it is a GS1 Digital Link. The baseline runs the reference's
// regular expression on each; the check runs it only where the cheap
// necessary condition holds. The URIs are a commissioning event's: its
// CBV terms, its read point and its EPC as a Digital Link.
func BenchmarkDigitalLinkCheck(b *testing.B) {
	uris := []string{
		"https://ref.gs1.org/cbv/BizStep-commissioning", "https://ref.gs1.org/cbv/Disp-active",
		"https://id.gs1.org/414/0614141000012", "https://id.gs1.org/01/00614141073467/21/1001",
		"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
	}
	b.Run("baseline_regexp", func(b *testing.B) {
		for b.Loop() {
			for _, u := range uris {
				_ = reDL.MatchString(u)
			}
		}
	})
	b.Run("necessary_condition_first", func(b *testing.B) {
		for b.Loop() {
			for _, u := range uris {
				_ = mayBeDigitalLink(u) && reDL.MatchString(u)
			}
		}
	})
}

// BenchmarkSGTINCheck: every EPC of a capture is checked at parse and
// again when hashed. The baseline is the expression; the check is the
// hand-written isSGTIN that FuzzIsSGTIN holds to it.
func BenchmarkSGTINCheck(b *testing.B) {
	const epc = "urn:epc:id:sgtin:0614141.107346.2017"
	b.Run("baseline_regexp", func(b *testing.B) {
		for b.Loop() {
			_ = reSGTIN.MatchString(epc)
		}
	})
	b.Run("hand_written", func(b *testing.B) {
		for b.Loop() {
			_ = isSGTIN(epc)
		}
	})
}
