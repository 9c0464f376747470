package api

import (
	"net/http"
	"strconv"

	cmttypes "github.com/cometbft/cometbft/types"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/tx"
)

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
	a := v1.BlockAnswer{
		Height: blk.Height, Hash: blk.Hash().String(), Time: blk.Time,
		Proposer: blk.ProposerAddress.String(), AppHash: blk.AppHash.String(),
		Txs: []v1.BlockTx{}, Signatures: []v1.BlockSigner{},
	}
	for _, raw := range blk.Txs {
		bt := v1.BlockTx{Hash: tx.HashOf(raw)}
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

func signers(c *cmttypes.Commit) []v1.BlockSigner {
	out := []v1.BlockSigner{}
	if c == nil {
		return out
	}
	for _, sig := range c.Signatures {
		if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit {
			out = append(out, v1.BlockSigner{Validator: sig.ValidatorAddress.String(), Time: sig.Timestamp})
		}
	}
	return out
}
