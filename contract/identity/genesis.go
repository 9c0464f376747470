package identity

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
)

// Genesis is the identity contract's part of the genesis state.
type Genesis struct {
	Organizations []GenesisOrg `json:"organizations"`
	// MinRecoveryDelay is the least delay, in seconds, a patient may set
	// between the approval of a recovery by guardians and its effect.
	// Default (0) DefaultMinRecoveryDelay, 24 hours; a test network may
	// set a shorter one.
	MinRecoveryDelay uint64 `json:"min_recovery_delay,omitempty"`
}

// GenesisOrg is a founding organization.
type GenesisOrg struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Type OrgType `json:"type"`
	// ValidatorKey and Power describe the organization's validator, if any.
	ValidatorKey tx.PubKey `json:"validator_key,omitempty"`
	Power        int64     `json:"power,omitempty"`
	// Admins are the keys of the organization's first admins.
	Admins []tx.PubKey `json:"admins"`
	// Nodes are the service keys of the organization's nodes (role service).
	Nodes []tx.PubKey `json:"nodes,omitempty"`
}

// Validate checks the genesis state without applying it.
func (g *Genesis) Validate() error {
	if len(g.Organizations) == 0 {
		return fmt.Errorf("genesis names no organization")
	}
	if g.MinRecoveryDelay > MaxRecoveryDelay {
		return fmt.Errorf("genesis min_recovery_delay %d is over the maximum delay %d", g.MinRecoveryDelay, MaxRecoveryDelay)
	}
	seen := map[string]bool{}
	validators := map[string]string{} // validator key → organization
	for _, o := range g.Organizations {
		if err := ValidateOrgID(o.ID); err != nil {
			return fmt.Errorf("genesis organization %q: %w", o.ID, err)
		}
		if seen[o.ID] {
			return fmt.Errorf("genesis organization %q appears twice", o.ID)
		}
		seen[o.ID] = true
		if err := validateOrgName(o.Name); err != nil {
			return fmt.Errorf("genesis organization %q: %w", o.ID, err)
		}
		if err := validateOrgType(o.Type); err != nil {
			return fmt.Errorf("genesis organization %q: %w", o.ID, err)
		}
		if (len(o.ValidatorKey) == 0) != (o.Power == 0) || o.Power < 0 {
			return fmt.Errorf("genesis organization %q: a validator needs both a key and a positive power", o.ID)
		}
		if len(o.ValidatorKey) != 0 && len(o.ValidatorKey) != tx.PubKeySize {
			return fmt.Errorf("genesis organization %q: validator key must be %d bytes", o.ID, tx.PubKeySize)
		}
		if other, ok := validators[string(o.ValidatorKey)]; ok {
			return fmt.Errorf("genesis organizations %q and %q have the same validator key", other, o.ID)
		} else if len(o.ValidatorKey) != 0 {
			validators[string(o.ValidatorKey)] = o.ID
		}
		if len(o.Admins) == 0 {
			return fmt.Errorf("genesis organization %q has no admin", o.ID)
		}
		for _, k := range slices.Concat(o.Admins, o.Nodes) {
			if len(k) != tx.PubKeySize {
				return fmt.Errorf("genesis organization %q: admin and node keys must be %d bytes", o.ID, tx.PubKeySize)
			}
		}
	}
	return nil
}

// initGenesis creates the founding organizations and their admins from
// the organizations of the app_state document.
func initGenesis(ctx *contract.Context, appState json.RawMessage) error {
	var g Genesis
	if err := json.Unmarshal(appState, &g); err != nil {
		return fmt.Errorf("identity genesis: %w", err)
	}
	return InitGenesis(ctx, g)
}

// InitGenesis creates the founding organizations and their admins.
func InitGenesis(ctx *contract.Context, g Genesis) error {
	if err := g.Validate(); err != nil {
		return err
	}
	for _, o := range g.Organizations {
		if err := createOrg(ctx, o); err != nil {
			return err
		}
	}
	return setMinRecoveryDelay(ctx.Store, g.MinRecoveryDelay)
}

// Validators returns the genesis validators in the order genesis lists them.
func (g *Genesis) Validators() []GenesisOrg {
	var vs []GenesisOrg
	for _, o := range g.Organizations {
		if o.Power > 0 {
			vs = append(vs, o)
		}
	}
	return vs
}

func createGenesisMember(ctx *contract.Context, org string, key tx.PubKey, role Role) error {
	a := &Account{Address: tx.AddressOf(key), PubKey: slices.Clone(key), Kind: Member, Org: org, Roles: []Role{role}}
	if err := createAccount(ctx.Store, a); err != nil {
		return fmt.Errorf("genesis %s of %s: %w", role, org, err)
	}
	return nil
}
