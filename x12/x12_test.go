package x12_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/x12"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const example837 = "testdata/837p-x12-example-01-commercial.edi"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run go test ./x12 -update and review the diff:\n%s", name, got)
	}
}

// TestImportX12Example turns X12's published 837P example into a FHIR
// Claim: the claim's ID and total, the billing provider's NPI, the payer,
// the member ID, two ICD-9 diagnoses and four lines with their codes,
// charges, units, dates, place and diagnosis pointers.
func TestImportX12Example(t *testing.T) {
	ic, err := x12.Parse(readFile(t, example837))
	if err != nil {
		t.Fatalf("Parse(%s) = %v", example837, err)
	}
	cs, err := x12.Import837P(ic)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Import837P = %d claims, %v; want 1", len(cs), err)
	}
	c := cs[0]
	if c.Identifier[0].Value != "26463774" || c.Total.Value != "100" || c.Provider.Identifier.Value != "1912301953" ||
		c.Insurer.Identifier.Value != "999996666" || c.Patient.Identifier.Value != "JS00111223333" || c.Created != "2006-10-15" {
		t.Errorf("claim header = %+v; want 26463774, total 100, NPI 1912301953, payer 999996666, member JS00111223333", c)
	}
	if got := []string{c.Diagnosis[0].Diagnosis.Coding[0].Code, c.Diagnosis[1].Diagnosis.Coding[0].Code}; !slices.Equal(got, []string{"034.0", "V73.89"}) {
		t.Errorf("diagnoses = %v; want 034.0, V73.89", got)
	}
	want := []struct {
		code, net, date string
		pointer         int
	}{{"99213", "40", "2006-10-03", 1}, {"87070", "15", "2006-10-03", 1}, {"99214", "35", "2006-10-10", 2}, {"86663", "10", "2006-10-10", 2}}
	for i, it := range c.Item {
		w := want[i]
		if it.ProductOrService.Coding[0].Code != w.code || string(it.Net.Value) != w.net || it.ServicedDate != w.date ||
			!slices.Equal(it.DiagnosisSequence, []int{w.pointer}) || it.Quantity.Value != "1" || it.Location.Coding[0].Code != "11" {
			t.Errorf("item %d = %+v; want %v", i+1, it, w)
		}
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("SMITH")) || bytes.Contains(b, []byte("MAIN ST")) {
		t.Error("the Claim carries the 837's names or addresses; want identifiers only")
	}
	golden(t, "837p-x12-example-01-commercial.claim.json", append(b, '\n'))
}

// TestEncodeRoundTrip: what Parse reads, Encode writes back so that Parse
// reads the same segments.
func TestEncodeRoundTrip(t *testing.T) {
	ic, err := x12.Parse(readFile(t, example837))
	if err != nil {
		t.Fatal(err)
	}
	again, err := x12.Parse(ic.Encode())
	if err != nil {
		t.Fatalf("Parse(Encode) = %v", err)
	}
	if !equalInterchanges(ic, again) {
		t.Error("Parse(Encode(ic)) differs from ic")
	}
	if !bytes.Equal(ic.Encode(), readFile(t, example837)) {
		t.Error("Encode(Parse(example)) differs from the example, written one segment a line")
	}
}

func equalInterchanges(a, b *x12.Interchange) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestParseRefuses: each malformation is an ErrSyntax naming no element's
// value.
func TestParseRefuses(t *testing.T) {
	good := string(readFile(t, example837))
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"empty", func(string) string { return "" }},
		{"not an ISA", func(s string) string { return "GS" + s[3:] }},
		{"short ISA", func(s string) string { return strings.Replace(s, "000000005      ", "000000005", 1) }},
		{"alphanumeric separator", func(s string) string { return strings.ReplaceAll(s, "*", "A") }},
		{"same separators", func(s string) string { return strings.ReplaceAll(s, ":", "*") }},
		{"wrong SE count", func(s string) string { return strings.Replace(s, "SE*40*0021", "SE*39*0021", 1) }},
		{"SE control number", func(s string) string { return strings.Replace(s, "SE*40*0021", "SE*40*0022", 1) }},
		{"GE count", func(s string) string { return strings.Replace(s, "GE*1*1", "GE*2*1", 1) }},
		{"IEA control number", func(s string) string { return strings.Replace(s, "IEA*1*000000907", "IEA*1*000000908", 1) }},
		{"no IEA", func(s string) string { return strings.Replace(s, "IEA*1*000000907~\n", "", 1) }},
		{"unterminated", func(s string) string { return strings.TrimSuffix(s, "~\n") }},
		{"after IEA", func(s string) string { return s + "LX*1~" }},
		{"segment inside a set", func(s string) string { return strings.Replace(s, "LX*2~", "GS*2~", 1) }},
		{"bad segment ID", func(s string) string { return strings.Replace(s, "LX*2~", "lx*2~", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := x12.Parse([]byte(tt.edit(good)))
			if !errors.Is(err, x12.ErrSyntax) {
				t.Fatalf("Parse = %v; want ErrSyntax", err)
			}
			if msg := err.Error(); strings.Contains(msg, "SMITH") || strings.Contains(msg, "99213") {
				t.Errorf("error %q names the input's content", msg)
			}
		})
	}
}

// TestImportRefuses: an interchange that parses but is no valid 837P is
// refused, naming no value.
func TestImportRefuses(t *testing.T) {
	good := string(readFile(t, example837))
	tests := []struct{ name, old, new string }{
		{"not an 837", "ST*837*0021", "ST*835*0021"},
		{"not 5010 professional", "ST*837*0021*005010X222A2", "ST*837*0021*005010X223A2"},
		{"negative charge", "SV1*HC:99213*40.00", "SV1*HC:99213*-40.00"},
		{"three decimals", "SV1*HC:99213*40.00", "SV1*HC:99213*40.001"},
		{"not HCPCS", "SV1*HC:99213", "SV1*ZZ:99213"},
		{"bad date", "DTP*472*D8*20061003", "DTP*472*D8*20061303"},
		{"no date", "DTP*472*D8*20061003~\nLX*2", "NTE*ADD*NOTE~\nLX*2"},
		{"pointer to no diagnosis", "SV1*HC:87070*15.00*UN*1.00***1", "SV1*HC:87070*15.00*UN*1.00***3"},
		{"lines out of order", "LX*2~", "LX*5~"},
		{"no member ID", "MI*JS00111223333", "MI*"},
		{"place of service", "11:B:1", "1:B:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ic, err := x12.Parse([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatalf("Parse = %v; want the envelope to parse", err)
			}
			if _, err := x12.Import837P(ic); !errors.Is(err, x12.ErrSyntax) {
				t.Errorf("Import837P = %v; want ErrSyntax", err)
			} else if strings.Contains(err.Error(), "JS00111223333") || strings.Contains(err.Error(), "99213") {
				t.Errorf("error %q names the input's content", err)
			}
		})
	}
}

// remittance is a payment of two claims: one partly denied (a code pair)
// with the patient's share, one denied whole.
func remittance() *x12.Remittance {
	paid := &claims.Decision{Claim: [32]byte{1, 2, 3}, Use: claims.UseClaim, Provider: "city-clinic", Payer: "acme-health",
		Lines: []claims.LineResult{
			{Status: claims.Approved, Version: 1, Submitted: 15_000, Eligible: 12_000, Benefit: 7_600, Patient: 4_400,
				Adjustments: []claims.Adjustment{{Reason: "45", Amount: 3_000}, {Reason: "1", Amount: 2_000}, {Reason: "3", Amount: 1_500}, {Reason: "2", Amount: 900}}},
			{Status: claims.Denied, Version: 1, Submitted: 1_500, Adjustments: []claims.Adjustment{{Reason: "97", Amount: 1_500}}, Edits: []string{"code_pair"}},
		},
		Benefit: 7_600, PatientOwes: 4_400, Paid: true, Settled: 7_600}
	denied := &claims.Decision{Claim: [32]byte{9}, Use: claims.UseClaim, Provider: "city-clinic", Payer: "acme-health",
		Lines: []claims.LineResult{{Status: claims.Denied, Submitted: 5_000, Adjustments: []claims.Adjustment{{Reason: "18", Amount: 5_000}}}}}
	return &x12.Remittance{
		Envelope: x12.Envelope{SenderQualifier: "ZZ", Sender: "ACMEHEALTH", ReceiverQualifier: "ZZ", Receiver: "CITYCLINIC",
			GroupSender: "ACMEHEALTH", GroupReceiver: "CITYCLINIC", Control: 42, Date: 20250305, Time: 1200, Test: true},
		Payer: x12.Party{Name: "ACME HEALTH", IDQualifier: "XV", ID: "ACME01"}, Payee: x12.Party{Name: "CITY CLINIC", IDQualifier: "XX", ID: "1912301953"},
		Trace: "H1234", PayerID: "1999999999",
		Claims: []x12.RemitClaim{
			{Decision: paid, PatientControl: "26463774", Lines: []x12.ServiceLine{{Code: "99214", Modifiers: []string{"25"}, Units: 1, Date: 20250301}, {Code: "36415", Units: 1, Date: 20250301}}},
			{Decision: denied, PatientControl: "26463775", Lines: []x12.ServiceLine{{Code: "99213", Units: 1, Date: 20250302}}},
		},
	}
}

// TestWrite835 writes a remittance and reads it back: the envelope parses,
// BPR pays the claims' total, each claim's CLP and each line's SVC and CAS
// balance, and denials are contractual (CO) while the patient's share is PR.
func TestWrite835(t *testing.T) {
	b, err := x12.Write835(remittance())
	if err != nil {
		t.Fatal(err)
	}
	ic, err := x12.Parse(b)
	if err != nil {
		t.Fatalf("Parse(Write835) = %v", err)
	}
	segs := ic.Groups[0].Sets[0].Segments
	find := func(id string, n int) x12.Segment {
		for _, s := range segs {
			if s.ID == id {
				if n == 0 {
					return s
				}
				n--
			}
		}
		t.Fatalf("no %s #%d", id, n)
		return x12.Segment{}
	}
	if bpr := find("BPR", 0); bpr.Element(1) != "I" || bpr.Element(2) != "76" {
		t.Errorf("BPR = %v; want I, 76 paid", bpr.Elements)
	}
	if clp := find("CLP", 0); !slices.Equal(clp.Elements[:6], []string{"26463774", "1", "165", "76", "44", "12"}) {
		t.Errorf("first CLP = %v; want charge 165, paid 76, patient 44", clp.Elements)
	}
	if clp := find("CLP", 1); clp.Element(2) != "4" || clp.Element(4) != "0" {
		t.Errorf("second CLP = %v; want status 4 (denied), paid 0", clp.Elements)
	}
	if svc := find("SVC", 0); svc.Element(1) != "HC:99214:25" || svc.Element(2) != "150" || svc.Element(3) != "76" {
		t.Errorf("first SVC = %v; want HC:99214:25 charged 150 paid 76", svc.Elements)
	}
	if cas := find("CAS", 0); !slices.Equal(cas.Elements, []string{"CO", "45", "30"}) {
		t.Errorf("first CAS = %v; want CO 45 30", cas.Elements)
	}
	if cas := find("CAS", 1); !slices.Equal(cas.Elements, []string{"PR", "1", "20", "", "3", "15", "", "2", "9"}) {
		t.Errorf("second CAS = %v; want PR 1 20, 3 15, 2 9", cas.Elements)
	}
	if cas := find("CAS", 2); !slices.Equal(cas.Elements, []string{"CO", "97", "15"}) {
		t.Errorf("third CAS = %v; want CO 97 15 (the denied pair)", cas.Elements)
	}
	golden(t, "remit-example.835", b)
}

// TestWrite835Refuses: nothing is remitted for an unpaid claim or lines
// that do not match the decision.
func TestWrite835Refuses(t *testing.T) {
	r := remittance()
	r.Claims[0].Decision.Paid = false
	if _, err := x12.Write835(r); err == nil {
		t.Error("Write835 of a claim waiting for funds = nil error; want a refusal")
	}
	r = remittance()
	r.Claims[0].Lines = r.Claims[0].Lines[:1]
	if _, err := x12.Write835(r); err == nil {
		t.Error("Write835 with a line missing = nil error; want a refusal")
	}
}

// FuzzImport837P: any input either parses or is an ErrSyntax, never a
// panic; what parses encodes and parses back to the same interchange and
// imports alike.
func FuzzImport837P(f *testing.F) {
	f.Add(readFile(f, example837))
	f.Add([]byte("ISA*00*          *00*          *ZZ*A              *ZZ*B              *250101*1200*^*00501*000000001*0*T*:~GS*HC*A*B*20250101*1200*1*X*005010X222A1~ST*837*1*005010X222A1~SE*2*1~GE*1*1~IEA*1*000000001~"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ic, err := x12.Parse(b)
		if err != nil {
			if !errors.Is(err, x12.ErrSyntax) {
				t.Fatalf("Parse = %v; want ErrSyntax", err)
			}
			return
		}
		again, err := x12.Parse(ic.Encode())
		if err != nil || !equalInterchanges(ic, again) {
			t.Fatalf("Parse(Encode(Parse(b))) = %v; want the same interchange", err)
		}
		c1, err1 := x12.Import837P(ic)
		c2, err2 := x12.Import837P(again)
		j1, _ := json.Marshal(c1)
		j2, _ := json.Marshal(c2)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(j1, j2) {
			t.Fatalf("Import837P differs after a round trip: %v, %v", err1, err2)
		}
		if err1 != nil && !errors.Is(err1, x12.ErrSyntax) {
			t.Fatalf("Import837P = %v; want ErrSyntax", err1)
		}
	})
}

// TestServiceLines: the imported Claim gives back the lines an 835 needs.
func TestServiceLines(t *testing.T) {
	ic, _ := x12.Parse(readFile(t, example837))
	cs, err := x12.Import837P(ic)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := cs[0].ServiceLines()
	if err != nil || len(ls) != 4 || ls[2].Code != "99214" || ls[2].Units != 1 || ls[2].Date != 20061010 {
		t.Errorf("ServiceLines = %+v, %v; want 4 lines, the third 99214 on 20061010", ls, err)
	}
}

// TestSubmit: the imported Claim becomes the contract's submit message,
// amounts in cents and the commitment stable.
func TestSubmit(t *testing.T) {
	ic, _ := x12.Parse(readFile(t, example837))
	cs, err := x12.Import837P(ic)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cs[0].Submit(x12.Parties{Provider: "city-clinic", Payer: "acme-health", Coverage: "cov-1", Age: 33})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := cs[0].Commitment()
	if m.Claim != id || m.Place != "11" || !slices.Equal(m.Diagnoses, []string{"034.0", "V73.89"}) || len(m.Lines) != 4 {
		t.Fatalf("Submit = %+v; want the commitment, place 11, two diagnoses, four lines", m)
	}
	if l := m.Lines[2]; l.Code != "99214" || l.Charge != 3_500 || l.Units != 1 || l.Date != 20061010 || !slices.Equal(l.Pointers, []uint64{2}) {
		t.Errorf("line 3 = %+v; want 99214, 3500 cents, 1 unit, 20061010, pointer 2", l)
	}
}
