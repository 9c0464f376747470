package main

import (
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/supply"
)

const sampleRecord = `{"events":[{"hash":"` + hashA + `","type":"ObjectEvent","action":"ADD","bizStep":"commissioning",
  "disposition":"active","epcList":["/01/09521234543213/21/PK0100"],"lot":"DEMO-LOT2","expiry":20290630},
 {"hash":"` + hashA + `","type":"ObjectEvent","action":"ADD","corrects":"` + hashA + `",
  "readings":[{"type":"Temperature","value":-1500,"uom":"CEL"}]}]}`

const hashA = "ab01000000000000000000000000000000000000000000000000000000000000"

func TestParseRecordFile(t *testing.T) {
	m, err := parseRecordFile([]byte(sampleRecord))
	if err != nil {
		t.Fatal(err)
	}
	e := m.Events[0]
	if len(m.Events) != 2 || e.Kind != supply.ObjectEvent || e.Action != supply.Add || e.Hash[0] != 0xab ||
		e.Lot != "DEMO-LOT2" || e.Expiry != 20290630 || m.Events[1].Corrects == nil || m.Events[1].Readings[0].Value != -1500 {
		t.Errorf("parseRecordFile(sample) = %+v; want its two events", m)
	}
	for _, c := range []struct{ name, file, want string }{
		{"short hash", `{"events":[{"hash":"ab01","type":"ObjectEvent"}]}`, "hash"},
		{"unknown type", `{"events":[{"hash":"` + hashA + `","type":"ThingEvent"}]}`, "type"},
		{"unknown action", `{"events":[{"hash":"` + hashA + `","type":"ObjectEvent","action":"MOVE"}]}`, "action"},
		{"unknown field", `{"events":[{"hash":"` + hashA + `","type":"ObjectEvent","when":"now"}]}`, "unknown field"},
		{"trailing data", `{"events":[]} {}`, "after"},
	} {
		if _, err := parseRecordFile([]byte(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: parseRecordFile = %v; want an error naming %q", c.name, err, c.want)
		}
	}
}

func FuzzParseRecordFile(f *testing.F) {
	f.Add([]byte(sampleRecord))
	f.Add([]byte(`{"events":[{"hash":"` + hashA + `","type":"TransformationEvent","inputEPCList":["/00/106141412345678908"]}]}`))
	f.Add([]byte(`{"events":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseRecordFile(b)
		if err != nil {
			return
		}
		for _, e := range m.Events {
			if e.Kind < supply.ObjectEvent || e.Kind > supply.AssociationEvent || e.Action > supply.Delete {
				t.Fatalf("parseRecordFile(%q) accepted event type %d, action %d", b, e.Kind, e.Action)
			}
		}
	})
}
