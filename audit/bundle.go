package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
)

const appHashDomain = "careledger/app-hash/v1\n"

// AppHash is what a block's header commits to: the state's root, and the
// audit log's size and root, so that the validators' signatures on a block
// certify the log up to it without a proof into the state.
func AppHash(stateRoot []byte, logSize uint64, logRoot []byte) []byte {
	h := sha256.New()
	h.Write([]byte(appHashDomain))
	h.Write(stateRoot)
	h.Write(binary.BigEndian.AppendUint64(nil, logSize))
	h.Write(logRoot)
	return h.Sum(nil)
}

// Bundle is a self-contained proof that an event is in the log, checkable
// offline against a trusted validator set: the leaf, its inclusion proof in
// the log of LogSize leaves after block Height, the state root that with
// the log gives that block's app hash, and block Height+1's signed header,
// whose app hash is that one and whose commit the validators signed.
type Bundle struct {
	ChainID   string   `json:"chain_id"`
	Index     uint64   `json:"index"`
	Leaf      []byte   `json:"leaf"`
	Event     *Event   `json:"event,omitempty"` // the leaf decoded, for reading; Verify checks it
	LogSize   uint64   `json:"log_size"`
	LogRoot   []byte   `json:"log_root"`
	Inclusion [][]byte `json:"inclusion"`
	StateRoot []byte   `json:"state_root"`
	Height    int64    `json:"height"`
	// SignedHeader is block Height+1's header and commit, in CometBFT's
	// JSON encoding.
	SignedHeader json.RawMessage `json:"signed_header"`
}

// NewSignedHeader encodes a header and its commit for a Bundle.
func NewSignedHeader(h *cmttypes.Header, c *cmttypes.Commit) (json.RawMessage, error) {
	return cmtjson.Marshal(&cmttypes.SignedHeader{Header: h, Commit: c})
}

// Verify checks the bundle down to the signatures: the leaf is at Index in
// the log, the log and state root give the app hash of block Height+1's
// header, and validators holding more than two thirds of the trusted set's
// power signed that header. It returns the verified event.
func (b *Bundle) Verify(chainID string, trusted *cmttypes.ValidatorSet) (*Event, error) {
	if b.ChainID != chainID {
		return nil, fmt.Errorf("the bundle is for chain %q, not %q", b.ChainID, chainID)
	}
	ev, err := DecodeEvent(b.Leaf)
	if err != nil {
		return nil, fmt.Errorf("the leaf: %w", err)
	}
	if b.Event != nil && !reflect.DeepEqual(*b.Event, *ev) {
		return nil, errors.New("the event shown differs from the leaf")
	}
	if err := VerifyInclusion(b.Leaf, b.Index, b.LogSize, b.Inclusion, b.LogRoot); err != nil {
		return nil, fmt.Errorf("event %d is not in the log of %d events with that root: %w", b.Index, b.LogSize, err)
	}
	if err := b.VerifyCheckpoint(chainID, trusted); err != nil {
		return nil, err
	}
	if ev.Height > b.Height {
		return nil, fmt.Errorf("the event claims block %d, after the log's block %d", ev.Height, b.Height)
	}
	return ev, nil
}

// VerifyCheckpoint checks the bundle's checkpoint alone: the log of LogSize
// leaves with LogRoot, beside StateRoot, gives the app hash of block
// Height+1's header, which more than two thirds of the trusted validators
// signed. A disclosure report checks its own checkpoint with it.
func (b *Bundle) VerifyCheckpoint(chainID string, trusted *cmttypes.ValidatorSet) error {
	var sh cmttypes.SignedHeader
	if err := cmtjson.Unmarshal(b.SignedHeader, &sh); err != nil {
		return fmt.Errorf("the signed header: %w", err)
	}
	if err := sh.ValidateBasic(chainID); err != nil {
		return fmt.Errorf("the signed header: %w", err)
	}
	if sh.Height != b.Height+1 {
		return fmt.Errorf("the signed header is of block %d; the log's app hash is in block %d's", sh.Height, b.Height+1)
	}
	if got := AppHash(b.StateRoot, b.LogSize, b.LogRoot); !bytes.Equal(got, sh.AppHash) {
		return fmt.Errorf("block %d's app hash %X is not that of this log and state root (%X)", sh.Height, []byte(sh.AppHash), got)
	}
	if err := trusted.VerifyCommitLight(chainID, sh.Commit.BlockID, sh.Height, sh.Commit); err != nil {
		return fmt.Errorf("block %d is not signed by two thirds of the trusted validators: %w", sh.Height, err)
	}
	return nil
}

// Certified is a checkpoint and the signed header that certifies it.
type Certified struct {
	Checkpoint
	SignedHeader json.RawMessage
}
