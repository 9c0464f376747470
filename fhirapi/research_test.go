package fhirapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/fhirapi"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/nodetest"
)

const (
	sponsorOrg = "acme-research"
	boardOrg   = "city-hospital"
)

// researchNet is a research sponsor's node, with a hospital whose admin
// sits as the ethics board, a researcher of the sponsor and two patients.
type researchNet struct {
	*story
	board, researcher, alice, bob ed25519.PrivKey
}

func newResearchNet(t *testing.T) *researchNet {
	n := nodetest.Start(t, node.InitOptions{
		ChainID: "careledger-research",
		Org:     node.Org{ID: sponsorOrg, Name: "Acme Research", Type: identity.Research},
		Others:  []node.Org{{ID: boardOrg, Name: "City Hospital", Type: identity.Provider}},
		Config:  node.Config{FHIRSchema: schemaPath(t)},
	})
	board, err := keys.Dir(filepath.Join(n.Home, "keys")).Load(boardOrg+"-admin", nil)
	if err != nil {
		t.Fatal(err)
	}
	rn := &researchNet{story: &story{t: t, n: n, c: n.Client, tokens: map[string]string{}},
		board: board, researcher: ed25519.GenPrivKey(), alice: ed25519.GenPrivKey(), bob: ed25519.GenPrivKey()}
	rn.send(n.Admin, contract.Encode(identity.RegisterMember{Org: sponsorOrg, PubKey: rn.researcher.PubKey().Bytes(), Roles: []identity.Role{identity.Researcher}}))
	rn.send(rn.alice, contract.Encode(identity.RegisterPatient{}))
	rn.send(rn.bob, contract.Encode(identity.RegisterPatient{}))
	return rn
}

// signed returns resource with msg, signed by key, in its SignedTxURL
// extension.
func (rn *researchNet) signed(key ed25519.PrivKey, resource map[string]any, msg contract.Msg) map[string]any {
	rn.t.Helper()
	t, err := rn.c.Build(context.Background(), key, contract.Encode(msg))
	if err != nil {
		rn.t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range resource {
		out[k] = v
	}
	out["extension"] = []any{obj("url", fhirapi.SignedTxURL, "valueBase64Binary", base64.StdEncoding.EncodeToString(t.Encode()))}
	return out
}

// hl7Example returns an official HL7 R4 example, as parsed JSON and as a
// resource.
func hl7Example(t *testing.T, name string) (map[string]any, *fhir.Resource) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "fhir-examples", "resources", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	res, err := fhir.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m, res
}

// registration is the trials/register message of trial for study.
func registration(t *testing.T, trial string, study *fhir.Resource) trials.Register {
	t.Helper()
	c, err := fhirapi.StudyCommitment(study, trial)
	if err != nil {
		t.Fatal(err)
	}
	return trials.Register{Trial: trial, Sponsor: sponsorOrg, Board: boardOrg, Study: c,
		Protocol: sha256.Sum256([]byte("protocol v1")), SAP: sha256.Sum256([]byte("sap v1")),
		Primary: []string{"hba1c-26w"}, Secondary: []string{"ae-rate"}}
}

type studyView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Text    struct{ Div string }
	Sponsor struct {
		Identifier struct{ System, Value string }
	}
	Objective []struct {
		Name string
		Type struct{ Coding []struct{ Code string } }
	}
	Extension []struct {
		URL              string `json:"url"`
		ValueCode        string `json:"valueCode"`
		ValueUnsignedInt uint64 `json:"valueUnsignedInt"`
		ValueBoolean     bool   `json:"valueBoolean"`
	}
}

func (v studyView) ext(url string) (code string, n uint64, b bool) {
	for _, e := range v.Extension {
		if e.URL == url {
			return e.ValueCode, e.ValueUnsignedInt, e.ValueBoolean
		}
	}
	return "", 0, false
}

func searchIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var b struct {
		Total int
		Entry []struct{ Resource struct{ ID string } }
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("search set %s: %v", body, err)
	}
	ids := []string{}
	for _, e := range b.Entry {
		ids = append(ids, e.Resource.ID)
	}
	return ids
}

// TestResearchStudyAndSubject registers the official HL7 ResearchStudy
// example as trial "example" through POST /fhir/ResearchStudy with the
// sponsor's signed registration, reads it back built on the kept document
// (status from the chain, the outcomes as objectives), finds it by _id,
// status and sponsor; a registration whose commitment is not the posted
// document's, or posted by another account, is refused and changes
// nothing; after the board's approval the HL7 ResearchSubject example
// enrolls Alice (its Patient/example is hers), Bob without consent is
// refused; participants are read and searched as the rules allow, and an
// amendment in force shows Alice's re-consent as needed.
func TestResearchStudyAndSubject(t *testing.T) {
	rn := newResearchNet(t)
	studyJSON, study := hl7Example(t, "ResearchStudy-example.json")
	reg := registration(t, "example", study)

	// Refused, nothing changed: a commitment of other bytes; a
	// registration posted by another than its signer; one for another
	// sponsor's node.
	wrong := reg
	wrong.Study[0] ^= 1
	status, body := rn.fhir(rn.researcher, "POST", "ResearchStudy", rn.signed(rn.researcher, studyJSON, wrong))
	wantOutcome(t, "a commitment of other bytes", status, body, http.StatusUnprocessableEntity, "business-rule")
	status, body = rn.fhir(rn.n.Admin, "POST", "ResearchStudy", rn.signed(rn.researcher, studyJSON, reg))
	wantOutcome(t, "posted by another account", status, body, http.StatusForbidden, "forbidden")
	if status, body := rn.fhir(rn.researcher, "GET", "ResearchStudy?_id=example", nil); len(searchIDs(t, body)) != 0 {
		t.Fatalf("after refused registrations: %d %s; want no trial", status, body)
	}

	status, body = rn.fhir(rn.researcher, "POST", "ResearchStudy", rn.signed(rn.researcher, studyJSON, reg))
	rn.expect("register the HL7 example", status, http.StatusCreated, body)
	validateView(t, "ResearchStudy", body)
	status, body = rn.fhir(rn.bob, "GET", "ResearchStudy/example", nil) // public to the network
	rn.expect("read the trial", status, http.StatusOK, body)
	var v studyView
	json.Unmarshal(body, &v)
	if doc, _, _ := v.ext("urn:careledger:study-document"); v.Status != "in-review" || doc != "held" || !strings.Contains(v.Text.Div, "Put rendering here") ||
		v.Sponsor.Identifier.Value != sponsorOrg || len(v.Objective) != 2 || v.Objective[0].Name != "hba1c-26w" || v.Objective[0].Type.Coding[0].Code != "primary" {
		t.Errorf("ResearchStudy/example = %s; want in review, built on the kept document, sponsored by %s, with the outcomes as objectives", body, sponsorOrg)
	}
	if status, body := rn.fhir(rn.researcher, "POST", "ResearchStudy", rn.signed(rn.researcher, studyJSON, reg)); status != http.StatusConflict {
		t.Errorf("register again: %d %s; want 409", status, body)
	}

	rn.send(rn.board, contract.Encode(trials.Approve{Trial: "example", Version: 1}))
	for _, q := range []string{"_id=example", "status=active", "sponsor=" + sponsorOrg, "sponsor=Organization/" + sponsorOrg + "&status=active,completed"} {
		status, body := rn.fhir(rn.alice, "GET", "ResearchStudy?"+q, nil)
		if ids := searchIDs(t, body); status != http.StatusOK || len(ids) != 1 || ids[0] != "example" {
			t.Errorf("ResearchStudy?%s: %d %v; want the trial", q, status, ids)
		}
	}
	for _, q := range []string{"status=in-review", "sponsor=other-org", "_id=nope"} {
		if _, body := rn.fhir(rn.alice, "GET", "ResearchStudy?"+q, nil); len(searchIDs(t, body)) != 0 {
			t.Errorf("ResearchStudy?%s found %s; want nothing", q, body)
		}
	}
	if status, _ := rn.fhir(rn.alice, "GET", "ResearchStudy?title=x", nil); status != http.StatusBadRequest {
		t.Errorf("search by a parameter not served: %d; want 400", status)
	}

	// Enrollment: the HL7 ResearchSubject example names Patient/example,
	// Alice's record at this node.
	status, body = rn.fhir(rn.n.Admin, "PUT", "Patient/example", obj("resourceType", "Patient", "id", "example",
		"identifier", []any{obj("system", "urn:careledger:patient", "value", addr(rn.alice).String())}))
	rn.expect("store Patient/example", status, http.StatusCreated, body)
	subjectJSON, _ := hl7Example(t, "ResearchSubject-example.json")
	enrollAlice := trials.Enroll{Trial: "example", Participant: addr(rn.alice)}
	status, body = rn.fhir(rn.researcher, "POST", "ResearchSubject", rn.signed(rn.researcher, subjectJSON, enrollAlice))
	wantOutcome(t, "enrollment without consent", status, body, http.StatusForbidden, "forbidden")
	rn.send(rn.alice, contract.Encode(trials.Consent{Trial: "example", Version: 1}))
	// The example names Patient/example: an enrollment of Bob does not fit it.
	status, body = rn.fhir(rn.researcher, "POST", "ResearchSubject", rn.signed(rn.researcher, subjectJSON, trials.Enroll{Trial: "example", Participant: addr(rn.bob)}))
	wantOutcome(t, "an enrollment of another patient", status, body, http.StatusUnprocessableEntity, "business-rule")
	status, body = rn.fhir(rn.researcher, "POST", "ResearchSubject", rn.signed(rn.researcher, subjectJSON, enrollAlice))
	rn.expect("enroll with the HL7 example", status, http.StatusCreated, body)
	validateView(t, "ResearchSubject", body)
	aliceID := "example." + addr(rn.alice).String()
	if id := idOf(body); id != aliceID || !strings.Contains(string(body), `"status":"on-study"`) {
		t.Errorf("enrolled ResearchSubject %s; want %s on study", body, aliceID)
	}
	// Bob, by the identifier of his account, without consent.
	bobSubject := obj("resourceType", "ResearchSubject", "status", "candidate", "study", obj("reference", "ResearchStudy/example"),
		"individual", obj("identifier", obj("system", "urn:careledger:patient", "value", addr(rn.bob).String())))
	status, body = rn.fhir(rn.researcher, "POST", "ResearchSubject", rn.signed(rn.researcher, bobSubject, trials.Enroll{Trial: "example", Participant: addr(rn.bob)}))
	wantOutcome(t, "Bob without consent", status, body, http.StatusForbidden, "forbidden")
	status, body = rn.fhir(rn.researcher, "POST", "ResearchSubject", bobSubject)
	wantOutcome(t, "a ResearchSubject without a signed enrollment", status, body, http.StatusUnprocessableEntity, "business-rule")

	// Who sees Alice's participation: she, the sponsor and the board; not Bob.
	for _, who := range []ed25519.PrivKey{rn.alice, rn.researcher, rn.board} {
		if status, body := rn.fhir(who, "GET", "ResearchSubject/"+aliceID, nil); status != http.StatusOK {
			t.Errorf("read Alice's ResearchSubject: %d %s", status, body)
		}
	}
	if status, _ := rn.fhir(rn.bob, "GET", "ResearchSubject/"+aliceID, nil); status != http.StatusForbidden {
		t.Errorf("Bob reads Alice's ResearchSubject: %d; want 403", status)
	}
	if status, _ := rn.fhir(rn.alice, "GET", "ResearchSubject/example."+addr(rn.bob).String(), nil); status != http.StatusNotFound {
		t.Errorf("a patient who never took part: %d; want 404", status)
	}
	for _, c := range []struct {
		who   ed25519.PrivKey
		query string
		want  int
	}{
		{rn.researcher, "study=ResearchStudy/example", 1},
		{rn.researcher, "study=example&status=on-study", 1},
		{rn.researcher, "study=example&status=withdrawn", 0},
		{rn.alice, "patient=" + addr(rn.alice).String(), 1},
		{rn.alice, "individual=Patient/example", 1},
		{rn.bob, "study=example", 0}, // not his to see
		{rn.researcher, "patient=" + addr(rn.bob).String(), 0},
	} {
		status, body := rn.fhir(c.who, "GET", "ResearchSubject?"+c.query, nil)
		if ids := searchIDs(t, body); status != http.StatusOK || len(ids) != c.want {
			t.Errorf("ResearchSubject?%s: %d %v; want %d", c.query, status, ids, c.want)
		}
	}
	// Naming neither study nor patient: the caller's own trials.
	for _, c := range []struct {
		who  ed25519.PrivKey
		want int
	}{{rn.researcher, 1}, {rn.board, 1}, {rn.alice, 1}, {rn.bob, 0}} {
		if status, body := rn.fhir(c.who, "GET", "ResearchSubject?status=on-study", nil); status != http.StatusOK || len(searchIDs(t, body)) != c.want {
			t.Errorf("ResearchSubject?status=on-study: %d %s; want %d", status, body, c.want)
		}
	}

	// Version 2 in force: Alice must consent again.
	rn.send(rn.researcher, contract.Encode(trials.Amend{Trial: "example", Protocol: sha256.Sum256([]byte("protocol v2")), SAP: sha256.Sum256([]byte("sap v2")),
		Primary: []string{"fasting-glucose-26w", "hba1c-26w"}}))
	rn.send(rn.board, contract.Encode(trials.Approve{Trial: "example", Version: 2}))
	_, body = rn.fhir(rn.alice, "GET", "ResearchSubject/"+aliceID, nil)
	var sv studyView
	json.Unmarshal(body, &sv)
	if _, consented, _ := sv.ext("urn:careledger:consented-version"); consented != 1 {
		t.Errorf("Alice's consented version: %s; want 1", body)
	}
	if _, _, reconsent := sv.ext("urn:careledger:reconsent-needed"); !reconsent {
		t.Errorf("Alice after version 2: %s; want re-consent needed", body)
	}
	_, body = rn.fhir(rn.alice, "GET", "ResearchStudy/example", nil)
	json.Unmarshal(body, &v)
	if _, inForce, _ := v.ext("urn:careledger:protocol-version-in-force"); inForce != 2 || len(v.Objective) != 2 || v.Objective[0].Name != "fasting-glucose-26w" {
		t.Errorf("ResearchStudy/example after version 2: %s; want version 2's outcomes", body)
	}
	rn.send(rn.alice, contract.Encode(trials.Withdraw{Trial: "example", Participant: addr(rn.alice)}))
	if _, body := rn.fhir(rn.researcher, "GET", "ResearchSubject?study=example&status=withdrawn", nil); len(searchIDs(t, body)) != 1 {
		t.Errorf("after Alice withdrew: %s; want her withdrawn", body)
	}
}

// TestResearchStudyAltered: a kept study document changed after
// registration (an admin's PUT) no longer matches the chain's commitment,
// and the trial is served without it.
func TestResearchStudyAltered(t *testing.T) {
	rn := newResearchNet(t)
	studyJSON, study := hl7Example(t, "ResearchStudy-example.json")
	status, body := rn.fhir(rn.researcher, "POST", "ResearchStudy", rn.signed(rn.researcher, studyJSON, registration(t, "example", study)))
	rn.expect("register", status, http.StatusCreated, body)
	status, body = rn.fhir(rn.n.Admin, "PUT", "ResearchStudy/example", obj("resourceType", "ResearchStudy", "id", "example", "status", "completed", "title", "Changed"))
	rn.expect("alter the document", status, http.StatusOK, body)
	_, body = rn.fhir(rn.alice, "GET", "ResearchStudy/example", nil)
	var v studyView
	json.Unmarshal(body, &v)
	if doc, _, _ := v.ext("urn:careledger:study-document"); doc != "altered" || strings.Contains(string(body), "Changed") {
		t.Errorf("after the document changed: %s; want it left out, marked altered", body)
	}
}
