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
