package api

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/dscsa"
	"github.com/careledger/careledger/epcisapi"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// testServer returns a server over an empty in-memory state, enough to
// inspect its routes.
func testServer(t *testing.T) *Server {
	t.Helper()
	a, err := app.New(state.OpenMemory(), app.Config{ChainID: "careledger-test"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Backend{App: a, AuthSecret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openAPIDoc returns the embedded document, decoded.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if v := doc["openapi"]; v != "3.0.3" {
		t.Fatalf("openapi.json declares version %v; want 3.0.3", v)
	}
	return doc
}

// lookup follows a path of object keys from v.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// the server registers, and that the server's mux serves each of them.
func TestOpenAPIRoutes(t *testing.T) {
	s := testServer(t)
	doc := openAPIDoc(t)
	paths, _ := doc["paths"].(map[string]any)

	served := map[string]bool{}
	for _, rt := range s.routeTable() {
		served[rt.pattern] = true
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			t.Errorf("route %q has no method", rt.pattern)
			continue
		}
		op := lookup(paths, path, strings.ToLower(method))
		if op == nil {
			t.Errorf("openapi.json lacks route %q", rt.pattern)
		}
		// Each operation states the route's access rule and whether it
		// needs a bearer token, as the table has them.
		if got := lookup(op, "x-access"); got != rt.access.name {
			t.Errorf("openapi.json %s x-access = %v; want %q", rt.pattern, got, rt.access.name)
		}
		var want []any
		if !rt.access.open {
			want = []any{map[string]any{"bearerAuth": []any{}}}
		}
		if got, _ := lookup(op, "security").([]any); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("openapi.json %s security = %v; want %v", rt.pattern, got, want)
		}

		// The mux must route a request for this path to this pattern, not
		// to the catch-all: the table is what is registered.
		url := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
		if _, got := s.mux.Handler(httptest.NewRequest(method, url, nil)); got != rt.pattern {
			t.Errorf("mux routes %s %s to %q; want %q", method, url, got, rt.pattern)
		}
	}

	// Package dscsa's routes, which the node mounts beside the JSON API,
	// are described here too, each for trading partners with a token.
	for _, pattern := range dscsa.Patterns() {
		served[pattern] = true
		method, path, _ := strings.Cut(pattern, " ")
		op := lookup(paths, path, strings.ToLower(method))
		if op == nil {
			t.Errorf("openapi.json lacks route %q", pattern)
		}
		if got := lookup(op, "x-access"); got != "tradingPartner" {
			t.Errorf("openapi.json %s x-access = %v; want tradingPartner", pattern, got)
		}
		if got, _ := lookup(op, "security").([]any); len(got) != 1 {
			t.Errorf("openapi.json %s security = %v; want bearerAuth", pattern, got)
		}
	}

	// Package epcisapi's routes (the EPCIS 2.0 REST binding at /epcis),
	// each with its access rule; a wildcard {eventID...} is {eventID} here.
	for _, rt := range epcisapi.Routes() {
		served[strings.ReplaceAll(rt.Pattern, "...}", "}")] = true
		method, path, _ := strings.Cut(strings.ReplaceAll(rt.Pattern, "...}", "}"), " ")
		op := lookup(paths, path, strings.ToLower(method))
		if op == nil {
			t.Errorf("openapi.json lacks route %q", rt.Pattern)
		}
		if got := lookup(op, "x-access"); got != rt.Access {
			t.Errorf("openapi.json %s x-access = %v; want %s", rt.Pattern, got, rt.Access)
		}
		if got, _ := lookup(op, "security").([]any); (len(got) == 1) != (rt.Access != "open") {
			t.Errorf("openapi.json %s security = %v; want bearerAuth unless open", rt.Pattern, got)
		}
	}

	for path, item := range paths {
		ops, _ := item.(map[string]any)
		n := 0
		for _, m := range httpMethods {
			if _, ok := ops[m]; !ok {
				continue
			}
			n++
			if p := strings.ToUpper(m) + " " + path; !served[p] {
				t.Errorf("openapi.json describes %q, which the server does not serve", p)
			}
		}
		if n == 0 {
			t.Errorf("openapi.json path %q has no operation", path)
		}
	}
}

// TestOpenAPIRefs checks that every $ref resolves and that every component
// is used.
func TestOpenAPIRefs(t *testing.T) {
	doc := openAPIDoc(t)
	used := map[string]bool{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				ptr, ok := strings.CutPrefix(r, "#/")
				if !ok || lookup(doc, strings.Split(ptr, "/")...) == nil {
					t.Errorf("%s: $ref %q does not resolve", where, r)
				}
				used[ptr] = true
			}
			for k, x := range v {
				walk(where+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(where+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)

	for _, kind := range []string{"schemas", "parameters", "responses"} {
		comps, _ := lookup(doc, "components", kind).(map[string]any)
		for name := range comps {
			if !used["components/"+kind+"/"+name] {
				t.Errorf("components/%s/%s is never referenced", kind, name)
			}
		}
	}
	if lookup(doc, "components", "securitySchemes", "bearerAuth", "scheme") != "bearer" {
		t.Error("openapi.json lacks the bearerAuth security scheme")
	}
	sec, _ := lookup(doc, "paths", "/v1/auth/whoami", "get", "security").([]any)
	if len(sec) != 1 || lookup(sec[0], "bearerAuth") == nil {
		t.Errorf("GET /v1/auth/whoami security = %v; want bearerAuth", sec)
	}
}

// TestOpenAPICodes checks the document's table of result codes against
// tx.Codes and tx's table of HTTP statuses.
func TestOpenAPICodes(t *testing.T) {
	doc := openAPIDoc(t)
	code := lookup(doc, "components", "schemas", "Code")
	var table []struct {
		Code       tx.Code `json:"code"`
		Name       string  `json:"name"`
		HTTPStatus int     `json:"http_status"`
	}
	b, _ := json.Marshal(lookup(code, "x-codes"))
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatalf("Code x-codes: %v", err)
	}
	codes := tx.Codes()
	if len(table) != len(codes) {
		t.Fatalf("openapi.json lists %d codes; want %d", len(table), len(codes))
	}
	enum, _ := lookup(code, "enum").([]any)
	names, _ := lookup(doc, "components", "schemas", "CodeName", "enum").([]any)
	desc, _ := lookup(code, "description").(string)
	if len(enum) != len(codes) || len(names) != len(codes) {
		t.Errorf("Code enum has %d values and CodeName %d; want %d", len(enum), len(names), len(codes))
	}
	for i, c := range codes {
		got := table[i]
		if got.Code != c || got.Name != c.String() || got.HTTPStatus != HTTPStatus(c) {
			t.Errorf("x-codes[%d] = %+v; want {%d %s %d}", i, got, c, c, HTTPStatus(c))
		}
		if i < len(enum) && enum[i] != float64(c) {
			t.Errorf("Code enum[%d] = %v; want %d", i, enum[i], c)
		}
		if i < len(names) && names[i] != c.String() {
			t.Errorf("CodeName enum[%d] = %v; want %s", i, names[i], c)
		}
		if row := "| " + strconv.Itoa(int(c)) + " | `" + c.String() + "` | " + strconv.Itoa(HTTPStatus(c)) + " |"; !strings.Contains(desc, row) {
			t.Errorf("Code description lacks the row %q", row)
		}
	}
}

// jsonFields returns the JSON names of t's fields, as encoding/json sees
// them (embedded structs flattened), and whether each is omitempty or
// omitzero.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			maps.Copy(out, jsonFields(ft))
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
	}
	return out
}

// TestOpenAPISchemas checks that each schema's properties are the JSON
// fields of its Go type, and that exactly the fields without omitempty are
// required.
func TestOpenAPISchemas(t *testing.T) {
	doc := openAPIDoc(t)
	types := map[string]any{
		"Status":              v1.Status{},
		"SubmitRequest":       v1.SubmitRequest{},
		"TxAnswer":            v1.TxAnswer{},
		"TxResult":            v1.TxResult{},
		"Event":               contract.Event{},
		"Attr":                contract.Attr{},
		"Account":             identity.Account{},
		"Organization":        identity.Organization{},
		"BlockAnswer":         v1.BlockAnswer{},
		"BlockTx":             v1.BlockTx{},
		"BlockSigner":         v1.BlockSigner{},
		"StreamEvent":         v1.StreamEvent{},
		"RecruitmentAnswer":   v1.RecruitmentAnswer{},
		"RecruitAnswer":       v1.RecruitAnswer{},
		"Invitation":          v1.Invitation{},
		"InvitationList":      v1.InvitationList{},
		"ChallengeRequest":    v1.ChallengeRequest{},
		"ChallengeAnswer":     v1.ChallengeAnswer{},
		"TokenRequest":        v1.TokenRequest{},
		"TokenAnswer":         v1.TokenAnswer{},
		"Error":               v1.Error{},
		"StoredGrant":         consent.StoredGrant{},
		"StoredRequest":       consent.StoredRequest{},
		"Scope":               consent.Scope{},
		"Grantee":             consent.Grantee{},
		"GrantList":           v1.GrantList{},
		"Delegate":            identity.Delegate{},
		"DelegateList":        v1.DelegateList{},
		"RecoveryAnswer":      v1.RecoveryAnswer{},
		"GuardianSet":         identity.GuardianSet{},
		"Recovery":            identity.Recovery{},
		"PendingReview":       consent.PendingReview{},
		"ReviewList":          v1.ReviewList{},
		"Anchor":              records.AnchorRecord{},
		"AuditEvent":          audit.Event{},
		"EventAnswer":         v1.EventAnswer{},
		"Checkpoint":          audit.Checkpoint{},
		"InclusionAnswer":     v1.InclusionAnswer{},
		"ConsistencyAnswer":   v1.ConsistencyAnswer{},
		"Bundle":              audit.Bundle{},
		"Report":              disclosure.Report{},
		"Disclosure":          disclosure.Disclosure{},
		"ProvenLeaf":          disclosure.ProvenLeaf{},
		"EventList":           v1.EventList{},
		"CheckpointAnswer":    v1.CheckpointAnswer{},
		"Proposal":            governance.Proposal{},
		"Propose":             governance.Propose{},
		"ProposalParams":      governance.Params{},
		"GenesisOrg":          identity.GenesisOrg{},
		"Validator":           identity.Validator{},
		"ValidatorList":       v1.ValidatorList{},
		"SmartConfig":         smart.Configuration{},
		"Verification":        v1.Verification{},
		"VerificationData":    v1.VerificationData{},
		"Journey":             v1.Journey{},
		"JourneyEvent":        v1.JourneyEvent{},
		"SubscriptionRequest": v1.SubscriptionRequest{},
		"Subscription":        v1.Subscription{},
		"BalanceAnswer":       v1.BalanceAnswer{},
		"SlotList":            v1.SlotList{},
		"ScheduleList":        v1.ScheduleList{},
		"ScheduleEntry":       v1.ScheduleEntry{},
		"ProgramList":         v1.ProgramList{},
		"ProgramEntry":        v1.ProgramEntry{},
		"Slot":                schedule.Slot{},
		"SchedulePolicy":      schedule.Policy{},
		"Program":             rewards.Program{},
		"RewardRule":          rewards.Rule{},
		"RewardsReceived":     rewards.Received{},
		"LedgerAccount":       v1.LedgerAccount{},
		"LedgerHistory":       v1.LedgerHistory{},
		"LedgerEntry":         ledger.Entry{},
		"Payable":             claims.Payable{},
		"ClaimAnswer":         v1.ClaimAnswer{},
		"ClaimList":           v1.ClaimList{},
		"ClaimSummary":        v1.ClaimSummary{},
		"PolicyList":          v1.PolicyList{},
		"PolicyVersion":       claims.PolicyVersion{},
		"ClaimAppeal":         v1.Appeal{},
		"LineResult":          claims.LineResult{},
		"Adjustment":          claims.Adjustment{},
	}
	for name, v := range types {
		schema := lookup(doc, "components", "schemas", name)
		if schema == nil {
			t.Errorf("openapi.json lacks schema %s", name)
			continue
		}
		props, required := schemaFields(doc, schema)
		fields := jsonFields(reflect.TypeOf(v))
		var wantRequired []string
		for f, omit := range fields {
			if !omit {
				wantRequired = append(wantRequired, f)
			}
		}
		if got, want := slices.Sorted(maps.Keys(props)), slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; want the JSON fields of %T, %v", name, got, v, want)
		}
		if got, want := slices.Sorted(maps.Keys(required)), slices.Sorted(slices.Values(wantRequired)); !slices.Equal(got, want) {
			t.Errorf("schema %s requires %v; want the fields without omitempty, %v", name, got, want)
		}
	}
}

// schemaFields returns the properties and required fields of an object
// schema, following $ref and allOf.
func schemaFields(doc map[string]any, schema any) (props, required map[string]bool) {
	props, required = map[string]bool{}, map[string]bool{}
	var visit func(s any)
	visit = func(s any) {
		if r, ok := lookup(s, "$ref").(string); ok {
			visit(lookup(doc, strings.Split(strings.TrimPrefix(r, "#/"), "/")...))
			return
		}
		all, _ := lookup(s, "allOf").([]any)
		for _, sub := range all {
			visit(sub)
		}
		p, _ := lookup(s, "properties").(map[string]any)
		for k := range p {
			props[k] = true
		}
		req, _ := lookup(s, "required").([]any)
		for _, k := range req {
			required[k.(string)] = true
		}
	}
	visit(schema)
	return props, required
}

// TestAccessParams checks that each access rule names a parameter its
// route has: a rule reading a path parameter the pattern lacks would find
// it empty, let the handler answer malformed, and so check nothing.
func TestAccessParams(t *testing.T) {
	for _, rt := range testServer(t).routeTable() {
		t.Run(rt.pattern, func(t *testing.T) {
			if rt.access.name == "" {
				t.Fatalf("route %s has no access rule", rt.pattern)
			}
			for _, m := range regexp.MustCompile(`\((\??)([a-z]+)\)`).FindAllStringSubmatch(rt.access.name, -1) {
				if m[1] == "" && !strings.Contains(rt.pattern, "{"+m[2]+"}") {
					t.Errorf("route %s: access %s names path parameter %q, which the pattern lacks", rt.pattern, rt.access.name, m[2])
				}
				if m[1] == "?" && strings.Contains(rt.pattern, "{"+m[2]+"}") {
					t.Errorf("route %s: access %s names query parameter %q, which is a path parameter", rt.pattern, rt.access.name, m[2])
				}
			}
		})
	}
}
