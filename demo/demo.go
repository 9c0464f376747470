// Package demo seeds a fresh network with organizations, members and
// patients, so that a newcomer can try every command of the README's tour.
// It is a client of the node's API like any other; it imports client and
// keys.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/node"
	"github.com/careledger/careledger/tx"
)

// Host is the organization whose node the demo runs.
var Host = node.Org{ID: "mercy-hospital", Name: "Mercy General Hospital", Type: identity.Provider}

// Others are the demo's other founding organizations. A pharmacy takes the
// pharma type: it is a trading partner of the drug supply chain.
var Others = []node.Org{
	{ID: "lakeside-clinic", Name: "Lakeside Clinic", Type: identity.Provider},
	{ID: "acme-health", Name: "Acme Health Plan", Type: identity.Payer},
	{ID: "corner-pharmacy", Name: "Corner Pharmacy", Type: identity.Pharma},
	{ID: "acme-pharma", Name: "Acme Pharma", Type: identity.Pharma},
	{ID: "north-wholesale", Name: "North Wholesale Drug", Type: identity.Pharma},
	{ID: Sponsor, Name: "Acme Research", Type: identity.Research},
}

// InitOptions returns the options that create the demo network's home.
func InitOptions(c node.Config) node.InitOptions {
	return node.InitOptions{ChainID: "careledger-demo", Org: Host, Others: Others, Config: c}
}

// Person is a key the demo registers.
type Person struct {
	Key  string // key name in the home's keys directory
	Org  string // empty for patients
	Role identity.Role
}

// People are the demo's members and patients.
var People = []Person{
	{Key: "dr-adams", Org: "mercy-hospital", Role: identity.Physician},
	{Key: "nurse-baker", Org: "mercy-hospital", Role: identity.Nurse},
	{Key: "privacy-officer", Org: "mercy-hospital", Role: identity.PrivacyOfficer},
	{Key: "dr-chen", Org: "lakeside-clinic", Role: identity.Physician},
	{Key: "claims-agent", Org: "acme-health", Role: identity.ClaimsAgent},
	{Key: "pharmacist", Org: "corner-pharmacy", Role: identity.Pharmacist},
	{Key: "auditor", Org: "mercy-hospital", Role: identity.Auditor},
	{Key: Biller, Org: "mercy-hospital", Role: identity.ClaimsAgent},
	{Key: Researcher, Org: Sponsor, Role: identity.Researcher},
	{Key: BoardChair, Org: Board, Role: identity.Auditor},
	{Key: "patient-alice"},
	{Key: "patient-bob"},
	{Key: "patient-carol"},
}

// adminKey names the admin key of org in a home made by InitOptions.
func adminKey(org string) string {
	if org == Host.ID {
		return "admin"
	}
	return org + "-admin"
}

// Account is a seeded key and its account.
type Account struct {
	Person
	Path    string
	Address tx.Address
}

// Seed registers every person not yet registered, creating missing keys in
// dir, and returns all of them. Running it again changes nothing.
func Seed(ctx context.Context, c *client.Client, dir keys.Dir) ([]Account, error) {
	var out []Account
	byAdmin := map[string][]tx.Msg{}
	var admins []string // in order of first appearance, for a stable order of transactions
	var newPatients []Account
	for _, p := range People {
		key, err := loadOrCreate(dir, p.Key)
		if err != nil {
			return nil, err
		}
		pub := key.PubKey().Bytes()
		out = append(out, Account{Person: p, Path: dir.Path(p.Key), Address: tx.AddressOf(pub)})
		// Logging in tells whether the key is registered already (a
		// suspended account is, too).
		if _, err := c.Token(ctx, key); err == nil || client.IsCode(err, tx.CodeSuspended) {
			continue
		} else if !client.IsCode(err, tx.CodeUnknownSigner) {
			return nil, err
		}
		if p.Org == "" {
			if _, err := c.Send(ctx, key, contract.Encode(identity.RegisterPatient{})); err != nil {
				return nil, fmt.Errorf("register patient %s: %w", p.Key, err)
			}
			newPatients = append(newPatients, out[len(out)-1])
			continue
		}
		a := adminKey(p.Org)
		if byAdmin[a] == nil {
			admins = append(admins, a)
		}
		byAdmin[a] = append(byAdmin[a], contract.Encode(identity.RegisterMember{Org: p.Org, PubKey: pub, Roles: []identity.Role{p.Role}}))
	}
	for _, a := range admins {
		key, err := dir.Load(a, nil)
		if err != nil {
			return nil, fmt.Errorf("demo admin key: %w", err)
		}
		if _, err := c.Send(ctx, key, byAdmin[a]...); err != nil {
			return nil, fmt.Errorf("register members as %s: %w", a, err)
		}
	}
	if err := seedRecords(ctx, c, dir, newPatients); err != nil {
		return nil, err
	}
	if err := seedClaims(ctx, c, dir, newPatients, len(newPatients) == len(patientsOf(People))); err != nil {
		return nil, err
	}
	if err := seedSupply(ctx, c, dir); err != nil {
		return nil, err
	}
	if err := seedSchedules(ctx, c, dir, time.Now()); err != nil {
		return nil, err
	}
	if err := seedTrials(ctx, c, dir, out); err != nil {
		return nil, err
	}
	return out, nil
}

// patientsOf returns the patients among people.
func patientsOf(people []Person) []Person {
	var out []Person
	for _, p := range people {
		if p.Org == "" {
			out = append(out, p)
		}
	}
	return out
}

// RecordsAuthor is the demo member who writes the patients' records at the
// host hospital.
const RecordsAuthor = "dr-adams"

// seedRecords writes a few FHIR records of each newly registered patient
// at the host hospital, in one transaction Bundle each: a Patient (whose
// FHIR id is the demo key's name) linked to the patient's account, two
// laboratory results, a vital sign and a condition. Everything is made up;
// nothing names a real person.
func seedRecords(ctx context.Context, c *client.Client, dir keys.Dir, patients []Account) error {
	if len(patients) == 0 {
		return nil
	}
	key, err := dir.Load(RecordsAuthor, nil)
	if err != nil {
		return err
	}
	tok, err := c.AuthToken(ctx, key)
	if err != nil {
		return err
	}
	for _, p := range patients {
		status, body, err := c.FHIR(ctx, client.FHIRRequest{Method: "POST", Path: "", Body: recordsBundle(p.Key, p.Address), Token: tok.Token})
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("seed records of %s: FHIR status %d: %.300s", p.Key, status, body)
		}
	}
	return nil
}

func recordsBundle(id string, patient tx.Address) []byte {
	coding := func(system, code, display string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": system, "code": code, "display": display}}}
	}
	category := func(code string) []any {
		return []any{coding("http://terminology.hl7.org/CodeSystem/observation-category", code, code)}
	}
	subject := map[string]any{"reference": "Patient/" + id}
	obs := func(cat, loinc, display string, value float64, unit string) map[string]any {
		return map[string]any{
			"resourceType": "Observation", "status": "final", "category": category(cat),
			"code": coding("http://loinc.org", loinc, display), "subject": subject, "effectiveDateTime": "2026-11-01T09:30:00Z",
			"valueQuantity": map[string]any{"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
		}
	}
	entries := []map[string]any{
		{"resourceType": "Patient", "id": id, "gender": "unknown", "birthDate": "1970",
			"identifier": []any{map[string]any{"system": "urn:careledger:patient", "value": patient.String()}}},
		obs("laboratory", "2339-0", "Glucose", 5.9, "mmol/L"),
		obs("laboratory", "4548-4", "Hemoglobin A1c", 6.1, "%"),
		obs("vital-signs", "8867-4", "Heart rate", 72, "/min"),
		{"resourceType": "Condition", "subject": subject, "recordedDate": "2026-11-01",
			"clinicalStatus": coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
			"code":           coding("http://snomed.info/sct", "15777000", "Prediabetes")},
	}
	es := []any{map[string]any{"resource": entries[0], "request": map[string]any{"method": "PUT", "url": "Patient/" + id}}}
	for i, r := range entries[1:] {
		es = append(es, map[string]any{
			"fullUrl":  fmt.Sprintf("urn:uuid:7b3e4b8e-0000-4000-8000-%012d", i+1),
			"resource": r,
			"request":  map[string]any{"method": "POST", "url": r["resourceType"]},
		})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": es})
	return b
}

func loadOrCreate(dir keys.Dir, name string) (ed25519.PrivKey, error) {
	key, err := dir.Load(name, nil)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := dir.New(name, nil); err != nil {
			return nil, err
		}
		return dir.Load(name, nil)
	}
	return key, err
}
