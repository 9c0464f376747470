package api

import (
	"net/http"
	"strconv"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/tx"
)

// BlockAnswer describes a committed block.
type BlockAnswer struct {
	Height   int64     `json:"height"`
	Hash     string    `json:"hash"`
	Time     time.Time `json:"time"`
	Proposer string    `json:"proposer"`
	// AppHash is the app hash after the previous block, which this block's
	// header certifies.
	AppHash    string        `json:"app_hash"`
	Txs        []BlockTx     `json:"txs"`
	Signatures []BlockSigner `json:"signatures"`
}

// BlockTx is a transaction in a block.
type BlockTx struct {
	Hash     tx.Hash  `json:"hash"`
	Code     tx.Code  `json:"code"`
	Messages []string `json:"messages,omitempty"`
}

// BlockSigner is a validator's commit signature on the block.
type BlockSigner struct {
	Validator string    `json:"validator"`
	Time      time.Time `json:"time"`
}

func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	height := s.b.Blocks.Height()
	if p := r.PathValue("height"); p != "latest" {
		h, err := strconv.ParseInt(p, 10, 64)
		if err != nil || h < 1 {
			writeError(w, tx.Rejectf(tx.CodeMalformed, "height must be a positive integer or \"latest\""))
			return
		}
		height = h
	}
	blk := s.b.Blocks.LoadBlock(height)
	if blk == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no block at height %d", height))
		return
	}
	a := BlockAnswer{
		Height: blk.Height, Hash: blk.Hash().String(), Time: blk.Time,
		Proposer: blk.ProposerAddress.String(), AppHash: blk.AppHash.String(),
		Txs: []BlockTx{}, Signatures: []BlockSigner{},
	}
	for _, raw := range blk.Txs {
		bt := BlockTx{Hash: tx.HashOf(raw)}
		if res, err := s.b.Index.Tx(bt.Hash); err == nil && res != nil {
			bt.Code, bt.Messages = res.Code, res.Msgs
		}
		a.Txs = append(a.Txs, bt)
	}
	a.Signatures = signers(s.commitOf(height))
	writeJSON(w, http.StatusOK, a)
}

// commitOf returns the commit of block h: stored with block h+1, or the
// node's own seen commit for the latest block.
func (s *Server) commitOf(h int64) *cmttypes.Commit {
	if c := s.b.Blocks.LoadBlockCommit(h); c != nil {
		return c
	}
	return s.b.Blocks.LoadSeenCommit(h)
}

func signers(c *cmttypes.Commit) []BlockSigner {
	out := []BlockSigner{}
	if c == nil {
		return out
	}
	for _, sig := range c.Signatures {
		if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit {
			out = append(out, BlockSigner{Validator: sig.ValidatorAddress.String(), Time: sig.Timestamp})
		}
	}
	return out
}
