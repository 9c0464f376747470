// Package demo seeds a fresh network with organizations, members and
// patients, so that a newcomer can try every command of the README's tour.
// It is a client of the node's API like any other; it imports client and
// keys.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
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
	for _, p := range People {
		key, err := loadOrCreate(dir, p.Key)
		if err != nil {
			return nil, err
		}
		pub := key.PubKey().Bytes()
		out = append(out, Account{Person: p, Path: dir.Path(p.Key), Address: tx.AddressOf(pub)})
		if _, err := c.KeyAccount(ctx, pub); err == nil {
			continue
		} else if !client.IsCode(err, tx.CodeNotFound) {
			return nil, err
		}
		if p.Org == "" {
			if _, err := c.Send(ctx, key, identity.Encode(identity.RegisterPatient{})); err != nil {
				return nil, fmt.Errorf("register patient %s: %w", p.Key, err)
			}
			continue
		}
		a := adminKey(p.Org)
		if byAdmin[a] == nil {
			admins = append(admins, a)
		}
		byAdmin[a] = append(byAdmin[a], identity.Encode(identity.RegisterMember{Org: p.Org, PubKey: pub, Roles: []identity.Role{p.Role}}))
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
	return out, nil
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
