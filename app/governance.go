package app

import (
	"bytes"
	"slices"
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
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

func attrOf(e contract.Event, key string) string {
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
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
			switch e.Type {
			case "governance.validator":
				key, err := tx.ParsePubKey(attrOf(e, "pub_key"))
				if err != nil {
					return u, err
				}
				power, err := strconv.ParseInt(attrOf(e, "power"), 10, 64)
				if err != nil {
					return u, err
				}
				u.setValidator(abci.Ed25519ValidatorUpdate(key, power))
			case "governance.params":
				if v := attrOf(e, "max_tx_bytes"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil {
						return u, err
					}
					params.MaxTxBytes, changed = n, true
				}
				if v := attrOf(e, "max_block_bytes"); v != "" {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						return u, err
					}
					u.consensus = &cmtproto.ConsensusParams{Block: &cmtproto.BlockParams{MaxBytes: n, MaxGas: -1}}
				}
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
