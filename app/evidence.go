package app

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/state"
)

// evidenceKey records a validator's misbehavior at a height: its
// organization, so that governance can suspend or remove it.
func evidenceKey(height int64, addr []byte) []byte {
	return append(binary.BigEndian.AppendUint64([]byte("e/"), uint64(height)), addr...)
}

// recordMisbehavior keeps the evidence CometBFT committed in the block (a
// validator that signed two blocks at one height, or attacked a light
// client) in state, and announces it as a block event naming the
// validator's organization, which the audit log keeps.
func (a *App) recordMisbehavior(blk *state.Overlay, b *Block, evs []abci.Misbehavior) error {
	if len(evs) == 0 {
		return nil
	}
	// Evidence may come long after the misbehavior, and in the block that
	// removes the organization: its organization is found among all those
	// the state held before this block, validators or not any more.
	orgs, err := identity.Organizations(a.store.Committed())
	if err != nil {
		return err
	}
	for _, m := range evs {
		org := ""
		for _, o := range orgs {
			if len(o.ValidatorKey) > 0 && string(ed25519.PubKey(o.ValidatorKey).Address()) == string(m.Validator.Address) {
				org = o.ID
			}
		}
		if err := blk.Set(evidenceKey(m.Height, m.Validator.Address), []byte(org)); err != nil {
			return err
		}
		b.Events = append(b.Events, contract.Event{Type: "consensus.misbehavior", Attrs: []contract.Attr{
			{Key: "org", Value: org},
			{Key: "validator", Value: strings.ToUpper(hex.EncodeToString(m.Validator.Address))},
			{Key: "kind", Value: strings.ToLower(m.Type.String())},
			{Key: "height", Value: strconv.FormatInt(m.Height, 10)},
			{Key: "power", Value: strconv.FormatInt(m.Validator.Power, 10)},
		}})
	}
	return nil
}
