package claims

import (
	"encoding/binary"
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

func (c *Contract) validateLoad(m PolicyLoad) error {
	if err := identity.ValidateOrgID(m.Payer); err != nil {
		return err
	}
	if m.Version == 0 {
		return invalid("policy versions start at 1")
	}
	if len(m.Fees)+len(m.Pairs)+len(m.Units)+len(m.Rules) == 0 {
		return invalid("a policy load holds at least one row")
	}
	for _, f := range m.Fees {
		if err := f.Validate(); err != nil {
			return err
		}
	}
	for _, p := range m.Pairs {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	for _, u := range m.Units {
		if err := u.Validate(); err != nil {
			return err
		}
	}
	for _, r := range m.Rules {
		if err := c.CheckRule(r); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a fee row as a policy load does.
func (f Fee) Validate() error {
	if err := validCode("procedure code", f.Code, maxCode); err != nil {
		return err
	}
	if f.Modifier != "" {
		if err := validCode("modifier", f.Modifier, 2); err != nil {
			return err
		}
	}
	if f.Allowed == 0 || f.Allowed > MaxAmount {
		return invalid("an allowed amount is 1 to %d minor units", MaxAmount)
	}
	return nil
}

// Validate checks a code pair row as a policy load does.
func (p CodePair) Validate() error {
	for _, c := range []string{p.Column1, p.Column2} {
		if err := validCode("procedure code", c, maxCode); err != nil {
			return err
		}
	}
	if p.Column1 == p.Column2 {
		return invalid("a code pair names two codes")
	}
	if p.Modifier > 1 {
		return invalid("a code pair's modifier indicator is 0 or 1")
	}
	return nil
}

// Validate checks a unit limit row as a policy load does.
func (u UnitLimit) Validate() error {
	if err := validCode("procedure code", u.Code, maxCode); err != nil {
		return err
	}
	if u.Max == 0 || u.Max > MaxUnits {
		return invalid("a unit limit is 1 to %d", MaxUnits)
	}
	return nil
}

// openDraft returns the draft of payer's version v, creating it if v is
// newer than every published version.
func openDraft(s contract.Store, payer string, v uint64) (*draft, error) {
	d, err := loadDraft(s, payer, v)
	if err != nil || d != nil {
		return d, err
	}
	vs, err := Versions(s, payer)
	if err != nil {
		return nil, err
	}
	if n := len(vs); n > 0 && v <= vs[n-1].Version {
		return nil, tx.Rejectf(tx.CodeAlreadyExists, "policy version %d of %s is not newer than published version %d", v, payer, vs[n-1].Version)
	}
	return &draft{}, nil
}

func policyLoad(ctx *contract.Context, m PolicyLoad) error {
	if err := requirePayer(ctx, m.Payer, identity.Admin, identity.Service); err != nil {
		return err
	}
	d, err := openDraft(ctx.Store, m.Payer, m.Version)
	if err != nil {
		return err
	}
	s := ctx.Store
	for _, f := range m.Fees {
		if err := setUint(s, feeKey(m.Payer, m.Version, f.Code, f.Modifier), f.Allowed); err != nil {
			return err
		}
	}
	for _, p := range m.Pairs {
		if err := setUint(s, pairKey(m.Payer, m.Version, p.Column1, p.Column2), uint64(p.Modifier)); err != nil {
			return err
		}
	}
	for _, u := range m.Units {
		if err := setUint(s, unitKey(m.Payer, m.Version, u.Code), u.Max); err != nil {
			return err
		}
	}
	if len(m.Rules) > 0 {
		if err := addRules(s, m.Payer, m.Version, m.Rules); err != nil {
			return err
		}
	}
	d.fees += uint64(len(m.Fees))
	d.pairs += uint64(len(m.Pairs))
	d.units += uint64(len(m.Units))
	d.rules += uint64(len(m.Rules))
	if err := saveDraft(s, m.Payer, m.Version, d); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type: EventPolicyLoad,
		Attrs: []contract.Attr{attr("payer", m.Payer), uattr("version", m.Version),
			uattr("fees", d.fees), uattr("pairs", d.pairs), uattr("units", d.units), uattr("rules", d.rules)},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

func addRules(s contract.Store, payer string, v uint64, add []Rule) error {
	rs, err := Rules(s, payer, v)
	if err != nil {
		return err
	}
	for _, r := range add {
		for _, old := range rs {
			if old.ID == r.ID {
				return tx.Rejectf(tx.CodeAlreadyExists, "rule %s is already in version %d", r.ID, v)
			}
		}
		rs = append(rs, r)
	}
	if len(rs) > MaxRules {
		return invalid("a policy version holds at most %d rules", MaxRules)
	}
	return saveRules(s, payer, v, rs)
}

func policyPublish(ctx *contract.Context, m PolicyPublish) error {
	if err := requirePayer(ctx, m.Payer, identity.Admin, identity.Service); err != nil {
		return err
	}
	d, err := loadDraft(ctx.Store, m.Payer, m.Version)
	if err != nil {
		return err
	}
	if d == nil {
		return tx.Rejectf(tx.CodeNotFound, "no draft of policy version %d of %s", m.Version, m.Payer)
	}
	vs, err := Versions(ctx.Store, m.Payer)
	if err != nil {
		return err
	}
	if n := len(vs); n > 0 && m.Effective <= vs[n-1].Effective {
		return invalid("effective date %d is not after %d, that of version %d", m.Effective, vs[n-1].Effective, vs[n-1].Version)
	}
	if len(vs) >= MaxVersions {
		return invalid("%s has published %d policy versions, the most it may", m.Payer, MaxVersions)
	}
	if err := saveVersions(ctx.Store, m.Payer, append(vs, Version{Version: m.Version, Effective: m.Effective})); err != nil {
		return err
	}
	if err := ctx.Store.Delete(draftKey(m.Payer, m.Version)); err != nil {
		return err
	}
	if err := saveSizes(ctx.Store, m.Payer, m.Version, d); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventPublished,
		Attrs:    []contract.Attr{attr("payer", m.Payer), uattr("version", m.Version), uattr("effective", uint64(m.Effective))},
		Accounts: []tx.Address{ctx.Signer},
	})
	return nil
}

func sizesKey(payer string, v uint64) []byte { return key('s', []byte(payer), ver(v)) }

// saveSizes keeps a published version's row counts, which its draft held.
func saveSizes(s contract.Store, payer string, v uint64, d *draft) error {
	w := wire.NewWriter(16)
	for _, n := range []uint64{d.fees, d.pairs, d.units, d.rules} {
		w.Uint(n)
	}
	return s.Set(sizesKey(payer, v), w.Bytes())
}

// PolicyVersion is a payer's policy version: published (Complete, in force
// from Effective on), or a draft still loading. Fees, Pairs, Units and
// Rules count its rows.
type PolicyVersion struct {
	Version   uint64 `json:"version"`
	Effective uint32 `json:"effective,omitempty"`
	Complete  bool   `json:"complete"`
	Fees      uint64 `json:"fees"`
	Pairs     uint64 `json:"pairs"`
	Units     uint64 `json:"units"`
	Rules     uint64 `json:"rules"`
}

// Policies returns payer's published versions, oldest first, then its
// drafts in version order.
func Policies(s Iterator, payer string) ([]PolicyVersion, error) {
	vs, err := Versions(s, payer)
	if err != nil {
		return nil, err
	}
	out := []PolicyVersion{}
	for _, v := range vs {
		d, err := loadCounts(s, sizesKey(payer, v.Version))
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, fmt.Errorf("published policy version %d of %s has no row counts", v.Version, payer)
		}
		out = append(out, d.version(v.Version, v.Effective, true))
	}
	prefix := key('d', []byte(payer), nil)
	var drafts []PolicyVersion
	err = s.Iterate(prefix, func(k, b []byte) bool {
		var d *draft
		if len(k) != len(prefix)+8 {
			err = fmt.Errorf("policy draft key of %s is %d bytes long", payer, len(k))
		} else if d, err = decodeCounts(b); err == nil {
			drafts = append(drafts, d.version(binary.BigEndian.Uint64(k[len(prefix):]), 0, false))
		}
		return err == nil
	})
	return append(out, drafts...), err
}

func (d *draft) version(v uint64, effective uint32, complete bool) PolicyVersion {
	return PolicyVersion{Version: v, Effective: effective, Complete: complete, Fees: d.fees, Pairs: d.pairs, Units: d.units, Rules: d.rules}
}
