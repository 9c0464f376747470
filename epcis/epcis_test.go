package epcis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/tx"
)

func TestCanonicalNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"26", "26"}, {"26.0", "26"}, {"+26.10", "26.1"}, {"0.00001", "1e-05"}, {"0.0001", "0.0001"},
		{"1e3", "1000"}, {"-0.0", "0"}, {"1234567.5", "1234567.5"}, {"12abc", "12abc"}, {"nan", "nan"}, {"1_000", "1000"},
	} {
		if got := canonicalNumber(c.in); got != c.want {
			t.Errorf("canonicalNumber(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestCanonicalTime(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2019-04-02T15:00:00+01:00", "2019-04-02T14:00:00.000Z"},
		{"2023-02-02T12:04:03.1415+01:00", "2023-02-02T11:04:03.142Z"},
		{"2023-02-02T12:04:03.1405Z", "2023-02-02T12:04:03.140Z"}, // half to even
		{"2023-02-02T12:04:03.1415Z", "2023-02-02T12:04:03.142Z"},
		{"2023-02-02T23:59:59.9996Z", "2023-02-03T00:00:00.000Z"},
		{"not a time", "not a time"},
	} {
		if got := canonicalTime(c.in); got != c.want {
			t.Errorf("canonicalTime(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestDecimalFixed(t *testing.T) {
	for _, c := range []struct {
		d     Decimal
		scale int
		want  int64
		err   error
	}{
		{"2.35", 2, 235, nil}, {"-3.5", 1, -35, nil}, {"8", 2, 800, nil}, {"1.2E1", 0, 12, nil},
		{"2.355", 2, 0, ErrInexact}, {"abc", 2, 0, ErrNotDecimal}, {"1e30", 0, 0, ErrOverflow}, {"1e99999", 0, 0, ErrOverflow},
	} {
		got, err := c.d.Fixed(c.scale)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Decimal(%q).Fixed(%d) = %d, %v; want %d, %v", c.d, c.scale, got, err, c.want, c.err)
		}
	}
}

func TestCheckEPC(t *testing.T) {
	for _, c := range []struct {
		epc string
		ok  bool
	}{
		{"urn:epc:id:sgtin:0614141.107346.2017", true},
		{"urn:epc:id:sgtin:0614141.10734.2017", false}, // 12-digit company prefix + reference
		{"urn:epc:id:sscc:0614141.1234567890", true},
		{"urn:epc:id:nonsense:1", false},
		{"https://id.gs1.org/01/09521141012345/21/2017", true},
		{"https://id.gs1.org/01/09521141012346/21/2017", false}, // wrong GTIN check digit
		{"https://id.gs1.org/00/106141411234567897", true},
		{"https://id.gs1.org/00/106141411234567896", false},
		{"urn:uuid:7d4f3c2e-1111-2222-3333-444455556666", true},
		{"not a uri", false},
	} {
		if got := checkEPC(c.epc) == ""; got != c.ok {
			t.Errorf("checkEPC(%q) valid = %v; want %v (%s)", c.epc, got, c.ok, checkEPC(c.epc))
		}
	}
}

const oneEvent = `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
 "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z",
 "epcisBody":{"eventList":[{"type":"ObjectEvent","eventID":"urn:uuid:1","eventTime":"2024-01-01T10:00:00+01:00",
 "eventTimeZoneOffset":"+01:00","epcList":["THE_EPC"],"action":"OBSERVE","bizStep":"shipping",
 "sensorElementList":[{"sensorReport":[{"type":"Temperature","value":7.25,"uom":"CEL"}]}]}]}}`

func doc(epc string) []byte {
	return []byte(strings.Replace(oneEvent, "THE_EPC", epc, 1))
}

// TestBadInput checks that each kind of bad input is an *Error of the
// right kind, naming the event and field, and mapping to a 4xx code.
func TestBadInput(t *testing.T) {
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	for _, c := range []struct {
		name  string
		in    []byte
		kind  error
		field string
		code  tx.Code
	}{
		{"not JSON", []byte(`{"type":`), ErrMalformed, "", tx.CodeMalformed},
		{"too deep", []byte(deep), ErrTooLarge, "", tx.CodeOversized},
		{"unknown type", []byte(`{"type":"Thing"}`), ErrMalformed, "type", tx.CodeMalformed},
		{"bad GTIN", doc("https://id.gs1.org/01/09521141012346/21/1"), ErrInvalid, "epcList[0]", tx.CodeInvalid},
		{"bad URN", doc("urn:epc:id:sgtin:1.2.3"), ErrInvalid, "epcList[0]", tx.CodeInvalid},
		{"duplicate key", []byte(`{"type":"EPCISDocument","type":"x"}`), ErrMalformed, "type", tx.CodeMalformed},
	} {
		_, err := ParseJSON(c.in)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, c.kind) || e.Field != c.field || e.Code() != c.code {
			t.Errorf("%s: ParseJSON = %v; want kind %v on field %q", c.name, err, c.kind, c.field)
			continue
		}
		if c.kind == ErrInvalid && (e.Event != 0 || e.EventID != "urn:uuid:1") {
			t.Errorf("%s: error names event %d %q; want 0 urn:uuid:1", c.name, e.Event, e.EventID)
		}
	}
	if _, err := (Limits{MaxBytes: 10}).ParseJSON(doc("urn:uuid:x")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseJSON over MaxBytes = %v; want ErrTooLarge", err)
	}
	if _, err := ParseXML([]byte(`<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList><Foo/></EventList></EPCISBody></epcis:EPCISDocument>`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseXML with an unknown event = %v; want ErrInvalid", err)
	}
	if _, err := ParseXML([]byte(`<a><b></a>`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseXML of broken XML = %v; want ErrMalformed", err)
	}
}

func TestEventFields(t *testing.T) {
	d, err := ParseJSON(doc("urn:epc:id:sgtin:0614141.107346.2017"))
	if err != nil {
		t.Fatal(err)
	}
	e := d.Events[0]
	if e.BizStep != "https://ref.gs1.org/cbv/BizStep-shipping" || !e.EventTime.Equal(time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("bizStep %q eventTime %v", e.BizStep, e.EventTime)
	}
	v, err := e.SensorElementList[0].Reports[0].Value.Fixed(2)
	if v != 725 || err != nil || e.SensorElementList[0].Reports[0].Type != "https://gs1.org/voc/Temperature" {
		t.Errorf("sensor value %d, %v, type %q; want 725 (7.25 °C at scale 2)", v, err, e.SensorElementList[0].Reports[0].Type)
	}
	now := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	if err := e.CheckTime(0, now, 30*time.Minute); !errors.Is(err, ErrInvalid) {
		t.Errorf("CheckTime an hour ahead with 30m tolerance = %v; want ErrInvalid", err)
	}
	if err := e.CheckTime(0, now, 2*time.Hour); err != nil {
		t.Errorf("CheckTime within tolerance = %v", err)
	}
	// The hash ignores eventID and recordTime, and canonicalises the EPC.
	d2, err := ParseJSON([]byte(strings.Replace(string(doc("https://id.gs1.org/01/10614141073464/21/2017")), `"eventID":"urn:uuid:1",`, `"recordTime":"2024-02-02T00:00:00Z",`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if e.HashID() != d2.Events[0].HashID() {
		t.Errorf("hash differs between an SGTIN URN and its Digital Link:\n%s\n%s", e.PreHash(), d2.Events[0].PreHash())
	}
}
