package supply

import (
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// The party directory: which organization owns a GLN. EPCIS documents name
// trading partners by GLN (a PGLN for a party, an SGLN for a location of
// it); the capturing node turns the owning parties of an event's source
// and destination lists into organization IDs through this directory, and
// a node shows an event's body to the organizations the directory names
// for its parties. On the chain, every node reads the same answer.
const (
	TypeClaimParties   uint64 = 69
	TypeReleaseParties uint64 = 70
)

// MaxGLNs is how many GLNs one claim or release names.
const MaxGLNs = 64

// ClaimParties records that Org owns the GLNs (13 digits with their GS1
// check digit): its party GLNs and the GLNs of its locations. The signer
// must be an admin or service member of Org. A GLN another organization
// owns is refused (already_exists) until that organization releases it;
// one Org owns already is left as it is.
type ClaimParties struct {
	Org  string   `json:"org"`
	GLNs []string `json:"glns"`
}

// ReleaseParties gives up Org's GLNs, so that another organization may
// claim them. The signer must be an admin or service member of Org; a GLN
// Org does not own is refused (not_found).
type ReleaseParties struct {
	Org  string   `json:"org"`
	GLNs []string `json:"glns"`
}

// Events of the party directory.
const (
	EventPartyClaimed  = "supply.party_claimed"
	EventPartyReleased = "supply.party_released"
)

func (ClaimParties) Type() uint64   { return TypeClaimParties }
func (ReleaseParties) Type() uint64 { return TypeReleaseParties }

func (m ClaimParties) EncodeTo(w *wire.Writer) {
	w.String(m.Org)
	w.Strings(m.GLNs)
}

func (m ReleaseParties) EncodeTo(w *wire.Writer) {
	w.String(m.Org)
	w.Strings(m.GLNs)
}

func readClaimParties(r *wire.Reader) ClaimParties {
	return ClaimParties{Org: r.String(64), GLNs: r.Strings(MaxGLNs, 13)}
}

func readReleaseParties(r *wire.Reader) ReleaseParties {
	return ReleaseParties{Org: r.String(64), GLNs: r.Strings(MaxGLNs, 13)}
}

func (m ClaimParties) validate() error   { return validateGLNs(m.Org, m.GLNs) }
func (m ReleaseParties) validate() error { return validateGLNs(m.Org, m.GLNs) }

func validateGLNs(org string, glns []string) error {
	if err := identity.ValidateOrgID(org); err != nil {
		return err
	}
	if len(glns) == 0 || len(glns) > MaxGLNs {
		return tx.Rejectf(tx.CodeInvalid, "a claim or release names 1 to %d GLNs", MaxGLNs)
	}
	for i, g := range glns {
		if err := ValidateGLN(g); err != nil {
			return tx.Rejectf(tx.CodeInvalid, "gln %d: %s", i, err.(*tx.Rejection).Msg)
		}
		for _, earlier := range glns[:i] {
			if earlier == g {
				return tx.Rejectf(tx.CodeInvalid, "gln %d: GLN %s is named twice", i, g)
			}
		}
	}
	return nil
}

// ValidateGLN checks a GLN: 13 digits, the last the GS1 check digit.
func ValidateGLN(gln string) error {
	if len(gln) != 13 || !checkDigitOK(gln) {
		return tx.Rejectf(tx.CodeInvalid, "a GLN is 13 digits with a valid check digit")
	}
	return nil
}

// partyKey is a GLN's entry in the directory: S/g/GLN → owner.
func partyKey(gln string) []byte { return append([]byte("S/g/"), gln...) }

// PartyOwner returns the organization that owns gln, or "" when no
// organization has claimed it.
func PartyOwner(s identity.Reader, gln string) (string, error) {
	b, err := s.Get(partyKey(gln))
	if err != nil || b == nil {
		return "", err
	}
	r := wire.NewReader(b)
	org := r.String(64)
	r.Uint() // the height of the claim
	if err := r.Done(); err != nil {
		return "", fmt.Errorf("decode party %s: %w", gln, err)
	}
	return org, nil
}

func claimParties(ctx *contract.Context, m ClaimParties) error {
	if _, err := requireOwner(ctx, m.Org); err != nil {
		return err
	}
	var claimed []string
	for _, g := range m.GLNs {
		owner, err := PartyOwner(ctx.Store, g)
		switch {
		case err != nil:
			return err
		case owner == m.Org:
			continue
		case owner != "":
			return tx.Rejectf(tx.CodeAlreadyExists, "GLN %s belongs to %s until it releases it", g, owner)
		}
		claimed = append(claimed, g)
	}
	for _, g := range claimed {
		w := wire.NewWriter(32)
		w.String(m.Org)
		w.Uint(uint64(ctx.Height))
		if err := ctx.Store.Set(partyKey(g), w.Bytes()); err != nil {
			return err
		}
		ctx.Emit(partyEvent(ctx, EventPartyClaimed, g, m.Org))
	}
	return nil
}

func releaseParties(ctx *contract.Context, m ReleaseParties) error {
	if _, err := requireOwner(ctx, m.Org); err != nil {
		return err
	}
	for _, g := range m.GLNs {
		if owner, err := PartyOwner(ctx.Store, g); err != nil {
			return err
		} else if owner != m.Org {
			return tx.Rejectf(tx.CodeNotFound, "GLN %s is not %s's", g, m.Org)
		}
	}
	for _, g := range m.GLNs {
		if err := ctx.Store.Delete(partyKey(g)); err != nil {
			return err
		}
		ctx.Emit(partyEvent(ctx, EventPartyReleased, g, m.Org))
	}
	return nil
}

func partyEvent(ctx *contract.Context, typ, gln, org string) contract.Event {
	return contract.Event{
		Type:     typ,
		Attrs:    []contract.Attr{{Key: "gln", Value: gln}, {Key: "org", Value: org}},
		Accounts: []tx.Address{ctx.Signer},
	}
}
