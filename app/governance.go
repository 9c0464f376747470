package app

import (
	"bytes"
	"slices"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/state"
)

// blockUpdates are what governance decided in a block for CometBFT: the
// validator set's changes and the consensus parameters.
type blockUpdates struct {
	validators []abci.ValidatorUpdate
	consensus  *cmtproto.ConsensusParams
}

// setValidator adds an update of a validator's power. CometBFT refuses two
// updates of one validator in a block, which would halt the node: when
// several decisions of the block change one validator, the last stands.
func (u *blockUpdates) setValidator(v abci.ValidatorUpdate) {
	i := slices.IndexFunc(u.validators, func(w abci.ValidatorUpdate) bool {
		return bytes.Equal(w.PubKey.GetEd25519(), v.PubKey.GetEd25519())
	})
	if i < 0 {
		u.validators = append(u.validators, v)
	} else {
		u.validators[i] = v
	}
}

// governanceUpdates turns the block's governance events into CometBFT's
// updates and the application's parameters, which take effect once the
// block commits.
func (a *App) governanceUpdates(blk *state.Overlay, b *Block) (blockUpdates, error) {
	var u blockUpdates
	params := a.Params()
	changed := false
	for i := range b.Txs {
		for _, e := range b.Txs[i].Events {
			if v, ok, err := governance.ValidatorChangeOf(e); err != nil {
				return u, err
			} else if ok {
				u.setValidator(abci.Ed25519ValidatorUpdate(v.PubKey, v.Power))
			}
			p, ok, err := governance.ParamsChangeOf(e)
			if err != nil {
				return u, err
			} else if !ok {
				continue
			}
			if p.MaxTxBytes != 0 {
				params.MaxTxBytes, changed = int(p.MaxTxBytes), true
			}
			if p.MaxBlockBytes != 0 {
				u.consensus = &cmtproto.ConsensusParams{Block: &cmtproto.BlockParams{MaxBytes: int64(p.MaxBlockBytes), MaxGas: -1}}
			}
		}
	}
	if changed {
		if err := blk.Set(paramsKey, params.encode()); err != nil {
			return u, err
		}
		a.nextParams = &params
	}
	return u, nil
}
