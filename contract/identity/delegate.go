package identity

import (
	"fmt"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Relation is how a delegate stands to the patient they act for.
type Relation string

// The delegate relations.
const (
	Parent    Relation = "parent"    // a parent acting for a child
	Guardian  Relation = "guardian"  // a legal guardian
	Caregiver Relation = "caregiver" // a caregiver the patient chose
)

var relations = []Relation{Parent, Guardian, Caregiver}

// MaxDelegates bounds the delegates of one patient.
const MaxDelegates = 8

func validateRelation(r Relation) error {
	if !slices.Contains(relations, r) {
		return tx.Rejectf(tx.CodeInvalid, "unknown delegate relation %q (want one of %v)", r, relations)
	}
	return nil
}

// ParseRelation returns the relation named s.
func ParseRelation(s string) (Relation, error) {
	if err := validateRelation(Relation(s)); err != nil {
		return "", fmt.Errorf("unknown relation %q (want one of %v)", s, relations)
	}
	return Relation(s), nil
}

// Delegate is an account that acts for a patient.
type Delegate struct {
	Address  tx.Address `json:"address"`
	Relation Relation   `json:"relation"`
	Since    int64      `json:"since"` // height at which it was named
}

func delegatesKey(patient tx.Address) []byte { return append([]byte("d/"), patient[:]...) }

// Delegates returns the delegates of patient, in the order they were named.
func Delegates(s Reader, patient tx.Address) ([]Delegate, error) {
	b, err := s.Get(delegatesKey(patient))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	ds := make([]Delegate, r.Count(MaxDelegates))
	for i := range ds {
		ds[i] = Delegate{Address: readAddress(r), Relation: Relation(r.String(maxRoleLen)), Since: int64(r.Uint())}
	}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode delegates of %s: %w", patient, err)
	}
	return ds, nil
}

func saveDelegates(s contract.Store, patient tx.Address, ds []Delegate) error {
	if len(ds) == 0 {
		return s.Delete(delegatesKey(patient))
	}
	w := wire.NewWriter(32 * len(ds))
	w.Uint(uint64(len(ds)))
	for _, d := range ds {
		w.Raw(d.Address[:])
		w.String(string(d.Relation))
		w.Uint(uint64(d.Since))
	}
	return s.Set(delegatesKey(patient), w.Bytes())
}

// ActsFor reports whether account may act for patient: it is the patient,
// or a delegate the patient named.
func ActsFor(s Reader, account, patient tx.Address) (bool, error) {
	if account == patient {
		return true, nil
	}
	ds, err := Delegates(s, patient)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ds, func(d Delegate) bool { return d.Address == account }), nil
}

// RequirePatient returns the active patient account at addr.
func RequirePatient(s Reader, addr tx.Address) (*Account, error) {
	a, err := LoadAccount(s, addr)
	if err != nil {
		return nil, err
	}
	if a == nil || a.Kind != Patient {
		return nil, tx.Rejectf(tx.CodeNotFound, "patient %s is not registered", addr)
	}
	if a.Suspended {
		return nil, tx.Rejectf(tx.CodeSuspended, "patient %s is suspended", addr)
	}
	return a, nil
}

// RequireActsFor rejects the signer of ctx unless it may act for patient.
func RequireActsFor(ctx *contract.Context, patient tx.Address) error {
	ok, err := ActsFor(ctx.Store, ctx.Signer, patient)
	if err != nil {
		return err
	}
	if !ok {
		return tx.Rejectf(tx.CodeUnauthorized, "signer %s is neither patient %s nor one of their delegates", ctx.Signer, patient)
	}
	return nil
}

func setDelegate(ctx *contract.Context, m SetDelegate) error {
	if err := validateRelation(m.Relation); err != nil {
		return err
	}
	if _, err := RequirePatient(ctx.Store, ctx.Signer); err != nil {
		return tx.Rejectf(tx.CodeUnauthorized, "only a patient names delegates")
	}
	if m.Delegate == ctx.Signer {
		return tx.Rejectf(tx.CodeInvalid, "a patient cannot be their own delegate")
	}
	ds, err := Delegates(ctx.Store, ctx.Signer)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ds, func(d Delegate) bool { return d.Address == m.Delegate })
	typ := EventDelegateRemoved
	switch {
	case m.Remove && i < 0:
		return tx.Rejectf(tx.CodeNotFound, "%s is not a delegate of %s", m.Delegate, ctx.Signer)
	case m.Remove:
		ds = slices.Delete(ds, i, i+1)
	case i >= 0:
		ds[i].Relation = m.Relation
		typ = EventDelegateSet
	default:
		if len(ds) >= MaxDelegates {
			return tx.Rejectf(tx.CodeInvalid, "a patient may name at most %d delegates", MaxDelegates)
		}
		if a, err := LoadAccount(ctx.Store, m.Delegate); err != nil {
			return err
		} else if a == nil {
			return tx.Rejectf(tx.CodeNotFound, "account %s does not exist", m.Delegate)
		} else if a.Kind == Device {
			return tx.Rejectf(tx.CodeInvalid, "account %s is a device, which cannot be a delegate", m.Delegate)
		}
		ds = append(ds, Delegate{Address: m.Delegate, Relation: m.Relation, Since: ctx.Height})
		typ = EventDelegateSet
	}
	if err := saveDelegates(ctx.Store, ctx.Signer, ds); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: typ,
		Attrs: []contract.Attr{
			{Key: "patient", Value: ctx.Signer.String()},
			{Key: "delegate", Value: m.Delegate.String()},
			{Key: "relation", Value: string(m.Relation)},
		},
		Accounts: []tx.Address{ctx.Signer, m.Delegate},
	})
	return nil
}
