package vault_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/careledger/careledger/vault"
)

// A custodian stores a patient's observation, reads it back, and erases
// the patient.
func Example() {
	home, err := os.MkdirTemp("", "vault-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(home)

	// Once, when the node is set up:
	keyFile := filepath.Join(home, "vault-master.key")
	if err := vault.CreateMasterKey(keyFile); err != nil {
		log.Fatal(err)
	}

	kw, err := vault.LoadMasterKey(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(home, "data"), kw)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	patient := "6b3a55e0261b0304143f805a24924d0c1c44524f" // the patient's pseudonym on the chain
	salt, err := vault.NewSalt()
	if err != nil {
		log.Fatal(err)
	}
	content := []byte(`{"resourceType":"Observation","id":"bp-1","status":"final"}`)
	err = v.Put(vault.Record{
		Patient: patient, Type: "Observation", ID: "bp-1", Version: 1,
		Updated: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC),
		Salt:    salt, Content: content,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The chain gets only the commitment.
	onChain := vault.Commitment(salt, content)

	r, err := v.Latest("Observation", "bp-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("version %d: %s\n", r.Version, r.Content)
	fmt.Println("matches the chain:", vault.Commitment(r.Salt, r.Content) == onChain)

	if err := v.ErasePatient(patient); err != nil {
		log.Fatal(err)
	}
	_, err = v.Latest("Observation", "bp-1")
	fmt.Println("after erasure:", errors.Is(err, vault.ErrErased))
	// Output:
	// version 1: {"resourceType":"Observation","id":"bp-1","status":"final"}
	// matches the chain: true
	// after erasure: true
}
