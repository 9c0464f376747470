package identity

import (
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// The organizations' changes that governance decides. The contract checks
// who may ask; these only apply what was decided.

// validatorsKey holds the validator organizations and their power, so that
// a contract, which cannot iterate the state, can tally votes.
var validatorsKey = []byte("V/set")

// Validator is an organization's place in the validator set.
type Validator struct {
	Org   string    `json:"org"`
	Key   tx.PubKey `json:"key"`
	Power int64     `json:"power"`
}

// Validators returns the validator organizations, in the order they joined.
func Validators(s Reader) ([]Validator, error) {
	b, err := s.Get(validatorsKey)
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	vs := make([]Validator, r.Count(1024))
	for i := range vs {
		vs[i] = Validator{Org: r.String(64), Key: cloneBytes(r.Raw(tx.PubKeySize)), Power: int64(r.Uint())}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode validators: %w", err)
	}
	return vs, nil
}

func saveValidators(s contract.Store, vs []Validator) error {
	w := wire.NewWriter(64 * len(vs))
	w.Uint(uint64(len(vs)))
	for _, v := range vs {
		w.String(v.Org)
		w.Raw(v.Key)
		w.Uint(uint64(v.Power))
	}
	return s.Set(validatorsKey, w.Bytes())
}

// setValidator records org's validator key and power (0 removes it).
func setValidator(s contract.Store, org string, key tx.PubKey, power int64) error {
	vs, err := Validators(s)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(vs, func(v Validator) bool { return v.Org == org })
	switch {
	case i >= 0 && power == 0:
		vs = slices.Delete(vs, i, i+1)
	case i >= 0:
		vs[i].Power = power
	case power > 0:
		vs = append(vs, Validator{Org: org, Key: key, Power: power})
	}
	return saveValidators(s, vs)
}

// validatorKeyKey records the organization a validator key was given to,
// for good: a key is one validator to CometBFT, which would merge the powers
// of two organizations holding it.
func validatorKeyKey(k []byte) []byte { return append([]byte("w/"), k...) }

// FreeValidatorKey rejects a validator key that an organization holds or
// held.
func FreeValidatorKey(s Reader, key []byte) error {
	org, err := s.Get(validatorKeyKey(key))
	if err != nil {
		return err
	}
	if org != nil {
		return tx.Rejectf(tx.CodeKeyInUse, "validator key is organization %s's", org)
	}
	return nil
}

// AdmitOrg creates an organization with its first admins and node keys,
// and its validator if it has one.
func AdmitOrg(ctx *contract.Context, o GenesisOrg) error {
	if err := (&Genesis{Organizations: []GenesisOrg{o}}).Validate(); err != nil {
		return tx.Rejectf(tx.CodeInvalid, "%v", err)
	}
	if old, err := LoadOrg(ctx.Store, o.ID); err != nil {
		return err
	} else if old != nil {
		return tx.Rejectf(tx.CodeAlreadyExists, "organization %s exists", o.ID)
	}
	return createOrg(ctx, o)
}

func createOrg(ctx *contract.Context, o GenesisOrg) error {
	org := &Organization{ID: o.ID, Name: o.Name, Type: o.Type, ValidatorKey: o.ValidatorKey, Power: o.Power}
	if len(o.ValidatorKey) > 0 {
		if err := FreeValidatorKey(ctx.Store, o.ValidatorKey); err != nil {
			return err
		}
		if err := ctx.Store.Set(validatorKeyKey(o.ValidatorKey), []byte(o.ID)); err != nil {
			return err
		}
	}
	if err := saveOrg(ctx.Store, org); err != nil {
		return err
	}
	for _, k := range o.Admins {
		if err := createGenesisMember(ctx, o.ID, k, Admin); err != nil {
			return err
		}
	}
	for _, k := range o.Nodes {
		if err := createGenesisMember(ctx, o.ID, k, Service); err != nil {
			return err
		}
	}
	if o.Power > 0 {
		return setValidator(ctx.Store, o.ID, o.ValidatorKey, o.Power)
	}
	return nil
}

// SetOrgStatus suspends or reinstates an organization: a suspended one's
// members can do nothing, it has no vote, and its validator leaves the
// validator set until it is reinstated.
func SetOrgStatus(ctx *contract.Context, id string, suspended bool) (*Organization, error) {
	o, err := LoadChangeableOrg(ctx.Store, id)
	if err != nil {
		return nil, err
	}
	o.Suspended = suspended
	if err := saveOrg(ctx.Store, o); err != nil {
		return nil, err
	}
	return o, setValidator(ctx.Store, id, o.ValidatorKey, o.ValidatorPower())
}

// RemoveOrg removes an organization for good: suspended, with no validator
// power, and refused by SetOrgStatus and SetPower from then on.
func RemoveOrg(ctx *contract.Context, id string) (*Organization, error) {
	o, err := LoadChangeableOrg(ctx.Store, id)
	if err != nil {
		return nil, err
	}
	o.Suspended, o.Removed, o.Power = true, true, 0
	if err := saveOrg(ctx.Store, o); err != nil {
		return nil, err
	}
	return o, setValidator(ctx.Store, id, o.ValidatorKey, 0)
}

// LoadChangeableOrg returns the organization with id, rejecting one that
// does not exist or was removed.
func LoadChangeableOrg(s Reader, id string) (*Organization, error) {
	o, err := LoadOrg(s, id)
	switch {
	case err != nil:
		return nil, err
	case o == nil:
		return nil, tx.Rejectf(tx.CodeNotFound, "organization %s does not exist", id)
	case o.Removed:
		return nil, tx.Rejectf(tx.CodeInvalid, "organization %s was removed", id)
	}
	return o, nil
}

// SetPower changes an organization's validator power (0 removes its
// validator; a suspended organization's takes effect when it is
// reinstated); it needs a validator key.
func SetPower(ctx *contract.Context, id string, power int64) (*Organization, error) {
	o, err := LoadChangeableOrg(ctx.Store, id)
	if err != nil {
		return nil, err
	}
	if len(o.ValidatorKey) == 0 && power > 0 {
		return nil, tx.Rejectf(tx.CodeInvalid, "organization %s has no validator key", id)
	}
	if power < 0 {
		return nil, tx.Rejectf(tx.CodeInvalid, "power must not be negative")
	}
	o.Power = power
	if err := saveOrg(ctx.Store, o); err != nil {
		return nil, err
	}
	return o, setValidator(ctx.Store, id, o.ValidatorKey, o.ValidatorPower())
}
