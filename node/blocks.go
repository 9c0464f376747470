package node

import (
	"github.com/cometbft/cometbft/store"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/tx"
)

// committedBlocks reads committed blocks back with their transactions'
// results (CometBFT's block store for the block, the index for the
// results), for subscriptions that catch up after a restart.
type committedBlocks struct {
	blocks *store.BlockStore
	index  *index.Index
}

// Block returns the block at height, or nil if the store no longer has it
// (pruned, or before a state sync).
func (c committedBlocks) Block(height int64) (*app.Block, error) {
	blk := c.blocks.LoadBlock(height)
	if blk == nil {
		return nil, nil
	}
	b := &app.Block{Height: height, Time: blk.Time, Txs: make([]app.TxResult, 0, len(blk.Txs))}
	for _, raw := range blk.Txs {
		r, err := c.index.Tx(tx.HashOf(raw))
		if err != nil {
			return nil, err
		}
		if r != nil && r.Height == height { // else the same bytes committed again: not this block's result
			b.Txs = append(b.Txs, *r)
		}
	}
	return b, nil
}

// Height is the last height the index holds the results of.
func (c committedBlocks) Height() (int64, error) { return c.index.Height() }
