package verify

import (
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// TestSignedAt: the privval state's last sign bytes are read whether the
// validator last signed a proposal, a prevote (for a block or nil) or a
// precommit; a node stopped right after proposing leaves a proposal.
func TestSignedAt(t *testing.T) {
	id := cmttypes.BlockID{Hash: make([]byte, 32), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	now := time.Unix(1_700_000_000, 0).UTC()
	vote := func(typ cmtproto.SignedMsgType, id cmttypes.BlockID) []byte {
		v := (&cmttypes.Vote{Type: typ, Height: 7, Round: 2, BlockID: id, Timestamp: now}).ToProto()
		return cmttypes.VoteSignBytes("careledger-test", v)
	}
	proposal := cmttypes.NewProposal(7, 2, -1, id)
	proposal.Timestamp = now
	for _, c := range []struct {
		name string
		sb   []byte
		step int8
	}{
		{"proposal", cmttypes.ProposalSignBytes("careledger-test", proposal.ToProto()), 1},
		{"prevote", vote(cmtproto.PrevoteType, id), 2},
		{"prevote for nil", vote(cmtproto.PrevoteType, cmttypes.BlockID{}), 2},
		{"precommit", vote(cmtproto.PrecommitType, id), 3},
	} {
		h, r, step, err := signedAt(c.sb)
		if err != nil || h != 7 || r != 2 || step != c.step {
			t.Errorf("%s: height %d round %d step %d, %v; want 7, 2, %d", c.name, h, r, step, err, c.step)
		}
	}
	if _, _, _, err := signedAt([]byte{3, 1, 2, 3}); err == nil {
		t.Error("bytes that are neither a vote nor a proposal were read")
	}
}
