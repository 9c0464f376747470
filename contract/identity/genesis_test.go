package identity_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

func key(b byte) tx.PubKey { return filled(tx.PubKeySize, b) }

func validGenesis() identity.Genesis {
	return identity.Genesis{Organizations: []identity.GenesisOrg{
		{ID: "general-hospital", Name: "General Hospital", Type: identity.Provider, ValidatorKey: key(1), Power: 10, Admins: []tx.PubKey{key(2), key(3)}},
		{ID: "acme-insurance", Name: "Acme Insurance", Type: identity.Payer, Admins: []tx.PubKey{key(4)}},
	}}
}

func TestGenesisValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(g *identity.Genesis)
		valid bool
	}{
		{"valid", func(*identity.Genesis) {}, true},
		{"no organization", func(g *identity.Genesis) { g.Organizations = nil }, false},
		{"duplicate ID", func(g *identity.Genesis) { g.Organizations[1].ID = g.Organizations[0].ID }, false},
		{"bad ID", func(g *identity.Genesis) { g.Organizations[0].ID = "-hospital" }, false},
		{"short ID", func(g *identity.Genesis) { g.Organizations[0].ID = "ab" }, false},
		{"empty name", func(g *identity.Genesis) { g.Organizations[0].Name = "" }, false},
		{"long name", func(g *identity.Genesis) { g.Organizations[0].Name = strings.Repeat("n", 101) }, false},
		{"unknown type", func(g *identity.Genesis) { g.Organizations[0].Type = "hospital" }, false},
		{"validator without power", func(g *identity.Genesis) { g.Organizations[0].Power = 0 }, false},
		{"power without validator", func(g *identity.Genesis) { g.Organizations[1].Power = 3 }, false},
		{"negative power", func(g *identity.Genesis) { g.Organizations[0].Power = -1 }, false},
		{"short validator key", func(g *identity.Genesis) { g.Organizations[0].ValidatorKey = key(1)[:31] }, false},
		{"another's validator key", func(g *identity.Genesis) {
			g.Organizations[1].ValidatorKey, g.Organizations[1].Power = key(1), 5
		}, false},
		{"no admin", func(g *identity.Genesis) { g.Organizations[1].Admins = nil }, false},
		{"short admin key", func(g *identity.Genesis) { g.Organizations[1].Admins = []tx.PubKey{key(4)[:31]} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := validGenesis()
			tc.edit(&g)
			if err := g.Validate(); (err == nil) != tc.valid {
				t.Errorf("Validate(%s) = %v; want valid %v", tc.name, err, tc.valid)
			}
		})
	}
}

// initGenesis applies g to a fresh in-memory state and returns the
// committed view.
func initGenesis(t *testing.T, g identity.Genesis) (state.View, error) {
	t.Helper()
	s := state.OpenMemory()
	o := state.NewOverlay(s.Working())
	ctx := &contract.Context{ChainID: "careledger-test", Height: 1, Time: time.Unix(0, 0), Store: o}
	if err := identity.InitGenesis(ctx, g); err != nil {
		return state.View{}, err
	}
	if _, err := s.Apply(o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	return s.Committed(), nil
}

func TestInitGenesis(t *testing.T) {
	g := validGenesis()
	v, err := initGenesis(t, g)
	if err != nil {
		t.Fatalf("InitGenesis = %v; want nil", err)
	}
	orgs, err := identity.Organizations(v)
	if err != nil {
		t.Fatalf("Organizations() = %v", err)
	}
	var ids []string
	for _, o := range orgs {
		ids = append(ids, o.ID)
	}
	if want := []string{"acme-insurance", "general-hospital"}; !slices.Equal(ids, want) {
		t.Errorf("Organizations() IDs = %v; want %v (sorted)", ids, want)
	}
	if vs := g.Validators(); len(vs) != 1 || vs[0].ID != "general-hospital" {
		t.Errorf("Validators() = %+v; want general-hospital only", vs)
	}
	for _, o := range g.Organizations {
		members, err := identity.Members(v, o.ID)
		if err != nil || len(members) != len(o.Admins) {
			t.Fatalf("Members(%s) = %d members, %v; want %d", o.ID, len(members), err, len(o.Admins))
		}
		for _, k := range o.Admins {
			a, err := identity.Resolve(v, k)
			if err != nil || a == nil || a.Address != tx.AddressOf(k) || a.Org != o.ID || !a.HasRole(identity.Admin) || a.Kind != identity.Member {
				t.Errorf("Resolve(admin of %s) = %+v, %v; want an admin member at %s", o.ID, a, err, tx.AddressOf(k))
			}
		}
	}

	// A key can administer only one organization.
	g.Organizations[1].Admins = append(g.Organizations[1].Admins, key(2))
	_, err = initGenesis(t, g)
	if code, ok := tx.CodeOf(err); err == nil || !ok || code != tx.CodeKeyInUse {
		t.Errorf("InitGenesis with an admin key in two organizations = %v; want code %v", err, tx.CodeKeyInUse)
	}
}
