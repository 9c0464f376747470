package fhir_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/fhir"
)

// bundleJSON builds a Bundle of the given type from entry JSON texts.
func bundleJSON(typ string, entries ...string) []byte {
	return []byte(`{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`)
}

func post(fullURL, resource string) string {
	var typ struct{ ResourceType string }
	json.Unmarshal([]byte(resource), &typ)
	return `{"fullUrl":"` + fullURL + `","resource":` + resource + `,"request":{"method":"POST","url":"` + typ.ResourceType + `"}}`
}

// storeWith returns a store holding Organizations org-1 (identifier s|a)
// and org-2 and org-3 (both identifier s|dup).
func storeWith(t *testing.T) *memStore {
	s := newMemStore()
	s.put(mustParse(t, `{"resourceType":"Organization","id":"org-1","identifier":[{"system":"s","value":"a"}]}`))
	s.put(mustParse(t, `{"resourceType":"Organization","id":"org-2","identifier":[{"system":"s","value":"dup"}]}`))
	s.put(mustParse(t, `{"resourceType":"Organization","id":"org-3","identifier":[{"system":"s","value":"dup"}]}`))
	return s
}

func TestResolveTransaction(t *testing.T) {
	raw := bundleJSON("transaction",
		post("urn:uuid:p", `{"resourceType":"Patient","id":"client-chosen","managingOrganization":{"reference":"Organization?identifier=s|a"}}`),
		post("urn:uuid:o", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"urn:uuid:p"},
			"performer":[{"reference":"#c"},{"reference":"Practitioner/existing"},{"display":"no reference"}],
			"contained":[{"resourceType":"Provenance","id":"c","target":[{"reference":"urn:uuid:p"}],"recorded":"2020-01-01T00:00:00Z","agent":[{"who":{"reference":"urn:uuid:o"}}]}],
			"extension":[{"url":"x","valueReference":{"reference":"urn:uuid:p"}}]}`),
		`{"fullUrl":"https://old.example/fhir/Patient/p9","resource":{"resourceType":"Patient","id":"p9","link":[{"type":"seealso","other":{"reference":"Patient/p9"}}]},"request":{"method":"PUT","url":"Patient/p9","ifMatch":"W/\"2\""}}`,
		`{"request":{"method":"DELETE","url":"Patient/gone"}}`,
		`{"request":{"method":"GET","url":"/Observation?patient=p9"}}`,
		`{"request":{"method":"GET","url":"Patient/p9"}}`,
	)
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fhir.Resolve(b, idGen("n"), storeWith(t))
	if err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	want := []struct {
		action fhir.Action
		typ    string
		id     string
	}{
		{fhir.ActionCreate, "Patient", "n-1"},
		{fhir.ActionCreate, "Observation", "n-2"},
		{fhir.ActionUpdate, "Patient", "p9"},
		{fhir.ActionDelete, "Patient", "gone"},
		{fhir.ActionSearch, "Observation", ""},
		{fhir.ActionRead, "Patient", "p9"},
	}
	for i, w := range want {
		op := plan.Ops[i]
		if op.Action != w.action || op.Type != w.typ || op.ID != w.id || op.Err != nil {
			t.Errorf("op %d = %v %s/%s (%v); want %v %s/%s", i, op.Action, op.Type, op.ID, op.Err, w.action, w.typ, w.id)
		}
	}
	if plan.Ops[2].IfMatch != `W/"2"` || plan.Ops[4].Query.Get("patient") != "p9" {
		t.Errorf("ifMatch %q, query %v; want W/\"2\" and patient=p9", plan.Ops[2].IfMatch, plan.Ops[4].Query)
	}
	if got := plan.Order(); !slices.Equal(got, []int{3, 0, 1, 2, 4, 5}) {
		t.Errorf("Order() = %v; want [3 0 1 2 4 5]", got)
	}
	wantRefs := map[int][]string{
		0: {"Organization/org-1"},
		1: {"#c", "Observation/n-2", "Patient/n-1", "Patient/n-1", "Patient/n-1", "Practitioner/existing"},
		2: {"Patient/p9"},
	}
	for i, refs := range wantRefs {
		got := references(t, plan.Ops[i].Resource)
		slices.Sort(got)
		if !slices.Equal(got, refs) {
			t.Errorf("op %d references = %v; want %v", i, got, refs)
		}
	}
	if plan.Ops[0].Resource.ID() != "n-1" || plan.Ops[0].Resource != b.Entries[0].Resource {
		t.Errorf("the created Patient has id %q; want n-1, and the Bundle's own resource", plan.Ops[0].Resource.ID())
	}
}

// TestResolveErrors checks the failures of a transaction: the kind, the
// issue's expression, no content in the error, and that the Bundle's
// resources are left as they were.
func TestResolveErrors(t *testing.T) {
	obs := func(ref string) string {
		return post("urn:uuid:o", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"`+ref+`"}}`)
	}
	patient := post("urn:uuid:p", `{"resourceType":"Patient"}`)
	tests := []struct {
		name    string
		entries []string
		kind    error
		status  int
		expr    string
	}{
		{"reference to nothing", []string{patient, obs("urn:uuid:nowhere")}, fhir.ErrUnresolved, 400, "Bundle.entry[1].resource.subject.reference"},
		{"oid to nothing", []string{obs("urn:oid:1.2.3")}, fhir.ErrUnresolved, 400, "Bundle.entry[0].resource.subject.reference"},
		{"conditional, no match", []string{obs("Organization?identifier=s|none")}, fhir.ErrUnresolved, 400, "Bundle.entry[0].resource.subject.reference"},
		{"conditional, two matches", []string{obs("Organization?identifier=s|dup")}, fhir.ErrMultipleMatches, 412, "Bundle.entry[0].resource.subject.reference"},
		{"conditional, malformed", []string{obs("Organization?identifier=%zz")}, fhir.ErrInvalid, 400, "Bundle.entry[0].resource.subject.reference"},
		{"conditional create, two matches", []string{`{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Organization"},"request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=s|dup"}}`},
			fhir.ErrMultipleMatches, 412, "Bundle.entry[0].request.ifNoneExist"},
		{"conditional update, two matches", []string{`{"resource":{"resourceType":"Organization"},"request":{"method":"PUT","url":"Organization?identifier=s|dup"}}`},
			fhir.ErrMultipleMatches, 412, "Bundle.entry[0].request.url"},
		{"conditional delete, two matches", []string{`{"request":{"method":"DELETE","url":"Organization?identifier=s|dup"}}`},
			fhir.ErrMultipleMatches, 412, "Bundle.entry[0].request.url"},
		{"conditional update, other id", []string{`{"resource":{"resourceType":"Organization","id":"zz"},"request":{"method":"PUT","url":"Organization?identifier=s|a"}}`},
			fhir.ErrInvalid, 400, "Bundle.entry[0].resource.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := bundleJSON("transaction", tt.entries...)
			b, err := fhir.ParseBundle(raw)
			if err != nil {
				t.Fatal(err)
			}
			var before [][]byte
			for _, e := range b.Entries {
				if e.Resource != nil {
					before = append(before, e.Resource.Canonical())
				}
			}
			plan, err := fhir.Resolve(b, idGen("n"), storeWith(t))
			if plan != nil || !errors.Is(err, tt.kind) || fhir.StatusOf(err) != tt.status {
				t.Fatalf("Resolve = %v, %v (status %d); want kind %v, status %d", plan, err, fhir.StatusOf(err), tt.kind, tt.status)
			}
			if is := fhir.IssuesOf(err); len(is) != 1 || len(is[0].Expression) != 1 || is[0].Expression[0] != tt.expr {
				t.Errorf("issues = %+v; want one at %s", is, tt.expr)
			}
			if msg := err.Error(); strings.Contains(msg, "nowhere") || strings.Contains(msg, "s|") || strings.Contains(msg, "1.2.3") {
				t.Errorf("error %q names the reference", msg)
			}
			i := 0
			for _, e := range b.Entries {
				if e.Resource != nil {
					if !bytes.Equal(e.Resource.Canonical(), before[i]) {
						t.Errorf("a failed transaction changed entry %d's resource", i)
					}
					i++
				}
			}
		})
	}
}

func TestResolveConditional(t *testing.T) {
	raw := bundleJSON("transaction",
		// Matches org-1 in the store: nothing to create, and references to
		// its fullUrl mean org-1.
		`{"fullUrl":"urn:uuid:known","resource":{"resourceType":"Organization","identifier":[{"system":"s","value":"a"}]},"request":{"method":"POST","url":"Organization","ifNoneExist":"Organization?identifier=s|a"}}`,
		// Matches nothing: created.
		`{"fullUrl":"urn:uuid:new","resource":{"resourceType":"Organization","identifier":[{"system":"s","value":"b"}]},"request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=s|b"}}`,
		// Created in this Bundle: matches the entry above.
		`{"fullUrl":"urn:uuid:again","resource":{"resourceType":"Organization","identifier":[{"system":"s","value":"b"}]},"request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=s|b"}}`,
		post("urn:uuid:p", `{"resourceType":"Patient","managingOrganization":{"reference":"urn:uuid:known"},
			"generalPractitioner":[{"reference":"Organization?identifier=s|b"},{"reference":"urn:uuid:again"}]}`),
		`{"resource":{"resourceType":"Organization","name":"x"},"request":{"method":"PUT","url":"Organization?identifier=s|a"}}`,
		`{"resource":{"resourceType":"Organization","name":"y"},"request":{"method":"PUT","url":"Organization?identifier=s|zzz"}}`,
		`{"request":{"method":"DELETE","url":"Organization?identifier=s|none"}}`,
		// A query no index answers ("any code of system s"): matches the
		// Patient created just before.
		`{"fullUrl":"urn:uuid:p2","resource":{"resourceType":"Patient","identifier":[{"system":"s","value":"x"}]},"request":{"method":"POST","url":"Patient"}}`,
		`{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|"}}`,
	)
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fhir.Resolve(b, idGen("n"), storeWith(t))
	if err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	want := []string{"none Organization/org-1", "create Organization/n-1", "none Organization/n-1", "create Patient/n-2",
		"update Organization/org-1", "create Organization/n-3", "none Organization/", "create Patient/n-4", "none Patient/n-4"}
	for i, w := range want {
		op := plan.Ops[i]
		if got := fmt.Sprintf("%v %s/%s", op.Action, op.Type, op.ID); got != w || op.Err != nil {
			t.Errorf("op %d = %s (%v); want %s", i, got, op.Err, w)
		}
	}
	got := references(t, plan.Ops[3].Resource)
	slices.Sort(got)
	if w := []string{"Organization/n-1", "Organization/n-1", "Organization/org-1"}; !slices.Equal(got, w) {
		t.Errorf("Patient references = %v; want %v", got, w)
	}
	if plan.Ops[4].Resource.ID() != "org-1" {
		t.Errorf("conditional update's resource id = %q; want org-1", plan.Ops[4].Resource.ID())
	}
}

func TestResolveBatch(t *testing.T) {
	raw := bundleJSON("batch",
		post("urn:uuid:a", `{"resourceType":"Patient"}`),
		post("urn:uuid:b", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"urn:uuid:nowhere"}}`),
		post("urn:uuid:c", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"urn:uuid:a"},"focus":[{"reference":"urn:uuid:b"}]}`),
		`{"fullUrl":"urn:uuid:d","resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Observation/1"}}`,
		post("urn:uuid:e", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"urn:uuid:a"}}`),
	)
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.Entries[3].Err == nil || !errors.Is(b.Entries[3].Err, fhir.ErrInvalid) {
		t.Errorf("entry 3 (type mismatch) Err = %v; want ErrInvalid", b.Entries[3].Err)
	}
	plan, err := fhir.Resolve(b, idGen("n"), newMemStore())
	if err != nil {
		t.Fatalf("Resolve(batch) = %v", err)
	}
	wantErr := []error{nil, fhir.ErrUnresolved, fhir.ErrUnresolved, fhir.ErrInvalid, nil}
	for i, w := range wantErr {
		op := plan.Ops[i]
		if (w == nil) != (op.Err == nil) || w != nil && !errors.Is(op.Err, w) {
			t.Errorf("op %d Err = %v; want %v", i, op.Err, w)
		}
	}
	if got := references(t, plan.Ops[4].Resource); !slices.Equal(got, []string{"Patient/" + plan.Ops[0].ID}) {
		t.Errorf("op 4 references = %v; want Patient/%s", got, plan.Ops[0].ID)
	}
	if got := references(t, b.Entries[2].Resource); !slices.Contains(got, "urn:uuid:a") {
		t.Errorf("a failed batch entry's resource was rewritten: %v", got)
	}

	results := make([]fhir.Result, len(plan.Ops))
	for i, op := range plan.Ops {
		if op.Err != nil {
			results[i] = fhir.Result{Err: op.Err}
			continue
		}
		results[i] = fhir.Result{Status: 201, Location: op.Type + "/" + op.ID + "/_history/1", ETag: `W/"1"`, LastModified: time.Unix(1700000000, 0)}
	}
	resp := fhir.ResponseBundle(b.Type, results)
	if err := testValidator(t).Validate(resp); err != nil {
		t.Fatalf("Validate(ResponseBundle) = %v", err)
	}
	var rb struct {
		Type  string
		Entry []struct {
			Response struct {
				Status, Location, Etag, LastModified string
				Outcome                              *struct{ ResourceType string }
			}
		}
	}
	if err := json.Unmarshal(resp.Canonical(), &rb); err != nil {
		t.Fatal(err)
	}
	if rb.Type != "batch-response" || len(rb.Entry) != 5 {
		t.Fatalf("ResponseBundle = %s", resp.Canonical())
	}
	first, second := rb.Entry[0].Response, rb.Entry[1].Response
	if first.Status != "201 Created" || first.Location != "Patient/n-1/_history/1" || first.Etag != `W/"1"` || first.LastModified != "2023-11-14T22:13:20Z" || first.Outcome != nil {
		t.Errorf("entry 0 response = %+v", first)
	}
	if second.Status != "400 Bad Request" || second.Outcome == nil || second.Outcome.ResourceType != "OperationOutcome" {
		t.Errorf("entry 1 response = %+v", second)
	}
}

// TestResolveBatchChain checks that in a batch an entry referring to a
// failed entry fails too, whatever their order.
func TestResolveBatchChain(t *testing.T) {
	obs := func(self, ref string) string {
		return post("urn:uuid:"+self, `{"resourceType":"Observation","status":"final","code":{},"focus":[{"reference":"`+ref+`"}]}`)
	}
	b, err := fhir.ParseBundle(bundleJSON("batch",
		obs("a", "urn:uuid:b"),       // refers to b, planned before b fails
		obs("b", "urn:uuid:nowhere"), // fails
		obs("c", "urn:uuid:a"),       // refers to a
		obs("d", "urn:uuid:e"),       // fine
		obs("e", "Observation/stored"),
	))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fhir.Resolve(b, idGen("n"), newMemStore())
	if err != nil {
		t.Fatal(err)
	}
	for i, wantFail := range []bool{true, true, true, false, false} {
		if got := plan.Ops[i].Err != nil; got != wantFail || wantFail && !errors.Is(plan.Ops[i].Err, fhir.ErrUnresolved) {
			t.Errorf("op %d Err = %v; want failure %v", i, plan.Ops[i].Err, wantFail)
		}
	}
	if is := fhir.IssuesOf(plan.Ops[0].Err); is[0].Diagnostics != "refers to an entry of the batch that failed" || is[0].Expression[0] != "Bundle.entry[0].resource.focus[0].reference" {
		t.Errorf("op 0 issue = %+v", is[0])
	}
}

func TestResolveLookupError(t *testing.T) {
	raw := bundleJSON("transaction", post("urn:uuid:o", `{"resourceType":"Observation","status":"final","code":{},"subject":{"reference":"Patient?identifier=x|y"}}`))
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	store.err = errors.New("store unavailable")
	if _, err := fhir.Resolve(b, idGen("n"), store); !errors.Is(err, store.err) || fhir.StatusOf(err) != 500 {
		t.Errorf("Resolve with a failing store = %v (status %d); want the store's error, status 500", err, fhir.StatusOf(err))
	}
	_, err = fhir.Resolve(b, func(string) string { return "not valid" }, newMemStore())
	if err == nil || fhir.StatusOf(err) != 500 {
		t.Errorf("Resolve with a bad newID = %v; want an internal error", err)
	}
}

func TestParseBundleErrors(t *testing.T) {
	entry := func(req string) []byte {
		return bundleJSON("transaction", `{"resource":{"resourceType":"Patient","id":"1"},"request":`+req+`}`)
	}
	tests := []struct {
		name string
		in   []byte
		lim  fhir.Limits
		kind error
		expr string
	}{
		{"not JSON", []byte(`{"resourceType":`), fhir.Limits{}, fhir.ErrInvalid, ""},
		{"not a Bundle", []byte(`{"resourceType":"Patient"}`), fhir.Limits{}, fhir.ErrInvalid, "resourceType"},
		{"no type", []byte(`{"resourceType":"Bundle"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.type"},
		{"document", []byte(`{"resourceType":"Bundle","type":"document"}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.type"},
		{"entry not an array", []byte(`{"resourceType":"Bundle","type":"batch","entry":{}}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry"},
		{"no request", bundleJSON("transaction", `{"resource":{"resourceType":"Patient"}}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request"},
		{"bad method", entry(`{"method":"FETCH","url":"Patient"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request.method"},
		{"PATCH", entry(`{"method":"PATCH","url":"Patient/1"}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.entry[0].request.method"},
		{"no url", entry(`{"method":"POST"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request.url"},
		{"unknown type in url", entry(`{"method":"POST","url":"Nope"}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.entry[0].request.url"},
		{"operation", entry(`{"method":"POST","url":"Patient/$everything"}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.entry[0].request.url"},
		{"absolute url", entry(`{"method":"PUT","url":"http://x.org/fhir/Patient/1"}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.entry[0].request.url"},
		{"POST with id", entry(`{"method":"POST","url":"Patient/1"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request.url"},
		{"PUT without id", entry(`{"method":"PUT","url":"Patient"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request.url"},
		{"PUT other id", entry(`{"method":"PUT","url":"Patient/2"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].resource.id"},
		{"type mismatch", entry(`{"method":"POST","url":"Observation"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].resource.resourceType"},
		{"GET with resource", entry(`{"method":"GET","url":"Patient/1"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].resource"},
		{"POST without resource", bundleJSON("transaction", `{"request":{"method":"POST","url":"Patient"}}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].resource"},
		{"bad ifNoneExist", entry(`{"method":"POST","url":"Patient","ifNoneExist":"%zz"}`), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[0].request.ifNoneExist"},
		{"unknown resourceType", bundleJSON("transaction", `{"resource":{"resourceType":"Nope"},"request":{"method":"POST","url":"Patient"}}`), fhir.Limits{}, fhir.ErrUnsupported, "Bundle.entry[0].resource.resourceType"},
		{"duplicate fullUrl", bundleJSON("transaction", post("urn:uuid:a", `{"resourceType":"Patient"}`), post("urn:uuid:a", `{"resourceType":"Patient"}`)), fhir.Limits{}, fhir.ErrInvalid, "Bundle.entry[1].fullUrl"},
		{"too many entries", bundleJSON("batch", `{"request":{"method":"GET","url":"Patient/1"}}`, `{"request":{"method":"GET","url":"Patient/2"}}`), fhir.Limits{MaxBundleEntries: 1}, fhir.ErrTooLarge, "Bundle.entry"},
		{"too large", bundleJSON("batch"), fhir.Limits{MaxBundleBytes: 10}, fhir.ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.lim.ParseBundle(tt.in)
			if b != nil || !errors.Is(err, tt.kind) {
				t.Fatalf("ParseBundle(%s) = %v, %v; want kind %v", tt.in, b, err, tt.kind)
			}
			is := fhir.IssuesOf(err)
			got := ""
			if len(is[0].Expression) > 0 {
				got = is[0].Expression[0]
			}
			if got != tt.expr {
				t.Errorf("ParseBundle(%s) issue at %q (%v); want %q", tt.in, got, err, tt.expr)
			}
		})
	}
}

// TestHL7ExampleBundles plans the official transaction and batch examples.
func TestHL7ExampleBundles(t *testing.T) {
	tests := []struct {
		file string
		kind error // of ParseBundle or Resolve; nil when it plans
	}{
		{"Bundle-bundle-transaction.json", fhir.ErrUnsupported}, // POST ValueSet/$lookup: operations are not supported
		{"Bundle-ussg-fht.json", fhir.ErrUnsupported},           // absolute request URLs
		{"Bundle-hla-1.json", nil},
		{"Bundle-xds.json", nil},
		{"Bundle-bundle-request-medsallergies.json", nil},
		{"Bundle-bundle-request-simplesummary.json", nil},
		{"Bundle-bundle-example.json", fhir.ErrUnsupported}, // searchset
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readShared(t, "fhir-examples/bundles/"+tt.file)
			b, err := fhir.ParseBundle(raw)
			var plan *fhir.Plan
			if err == nil {
				plan, err = fhir.Resolve(b, idGen("n"), newMemStore())
			}
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Fatalf("ParseBundle and Resolve = %v; want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBundle and Resolve = %v", err)
			}
			for i, op := range plan.Ops {
				if op.Err != nil {
					t.Errorf("op %d: %v", i, op.Err)
				}
				if op.Resource == nil {
					continue
				}
				for _, ref := range references(t, op.Resource) {
					if strings.HasPrefix(ref, "urn:") {
						t.Errorf("op %d: %s left unresolved", i, ref)
					}
				}
			}
		})
	}
	// In Bundle-xds.json the DocumentReference refers to Patient/a2, an
	// entry whose fullUrl is http://localhost:9556/svc/fhir/Patient/a2.
	b, err := fhir.ParseBundle(readShared(t, "fhir-examples/bundles/Bundle-xds.json"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := fhir.Resolve(b, idGen("n"), newMemStore())
	if err != nil {
		t.Fatal(err)
	}
	got := references(t, plan.Ops[0].Resource)
	slices.Sort(got)
	// Its attachment's url names the Binary entry's fullUrl too, but only
	// Reference.reference is rewritten.
	if want := []string{"Patient/n-2", "Practitioner/n-3", "Practitioner/n-4"}; !slices.Equal(got, want) {
		t.Errorf("DocumentReference references = %v; want %v", got, want)
	}
}

// The Resolver the server passes: a search over its store, here one that
// counts calls so that repeated conditional references are looked up once.
func TestResolveCachesLookups(t *testing.T) {
	var entries []string
	for i := range 10 {
		entries = append(entries, post(fmt.Sprintf("urn:uuid:%d", i), `{"resourceType":"Observation","status":"final","code":{},"performer":[{"reference":"Organization?identifier=s|a"}]}`))
	}
	b, err := fhir.ParseBundle(bundleJSON("transaction", entries...))
	if err != nil {
		t.Fatal(err)
	}
	store := storeWith(t)
	if _, err := fhir.Resolve(b, idGen("n"), store); err != nil {
		t.Fatal(err)
	}
	if store.lookups != 1 {
		t.Errorf("%d lookups for one distinct conditional reference; want 1", store.lookups)
	}
	_ = url.Values{}
}
