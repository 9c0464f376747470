package verify

import (
	"bytes"
	"errors"
	"fmt"

	dbm "github.com/cometbft/cometbft-db"
	cmtstate "github.com/cometbft/cometbft/proto/tendermint/state"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	sm "github.com/cometbft/cometbft/state"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
)

// cometStore reads CometBFT's state store (data/state.db) record by
// record. CometBFT's own loaders exit the process on a record that does
// not decode; these return an error naming the record.
type cometStore struct{ db dbm.DB }

// CometBFT v0.38's keys (state/store.go).
const (
	stateKey        = "stateKey"
	lastResponseKey = "lastABCIResponseKey"
	// valSetCheckpointInterval: a full validator set is stored at least
	// this often, and where it changed; other heights name that height.
	valSetCheckpointInterval = 100000
)

// get decodes the record at key into m.
func (s cometStore) get(key string, m proto.Message) error {
	b, err := s.db.Get([]byte(key))
	if err != nil {
		return fmt.Errorf("record %s: %w", key, err)
	}
	if len(b) == 0 {
		return fmt.Errorf("record %s is missing", key)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fmt.Errorf("record %s does not decode: %w", key, err)
	}
	return nil
}

// validators returns the validator set stored for height h.
func (s cometStore) validators(h int64) (*cmttypes.ValidatorSet, error) {
	info := new(cmtstate.ValidatorsInfo)
	if err := s.get(fmt.Sprintf("validatorsKey:%d", h), info); err != nil {
		return nil, err
	}
	if info.ValidatorSet == nil {
		at := max(h-h%valSetCheckpointInterval, info.LastHeightChanged)
		if err := s.get(fmt.Sprintf("validatorsKey:%d", at), info); err != nil {
			return nil, fmt.Errorf("validators of height %d: %w", h, err)
		}
		if info.ValidatorSet == nil {
			return nil, fmt.Errorf("validators of height %d: height %d holds no set", h, at)
		}
	}
	return cmttypes.ValidatorSetFromProto(info.ValidatorSet)
}

// params returns the consensus parameters stored for height h.
func (s cometStore) params(h int64) (cmttypes.ConsensusParams, error) {
	info := new(cmtstate.ConsensusParamsInfo)
	key := fmt.Sprintf("consensusParamsKey:%d", h)
	if err := s.get(key, info); err != nil {
		return cmttypes.ConsensusParams{}, err
	}
	// Parameters are stored in full where they changed; other heights
	// hold empty ones and the height of the last change.
	if empty := (cmtproto.ConsensusParams{}); info.ConsensusParams.Equal(&empty) {
		if err := s.get(fmt.Sprintf("consensusParamsKey:%d", info.LastHeightChanged), info); err != nil {
			return cmttypes.ConsensusParams{}, fmt.Errorf("consensus parameters of height %d: %w", h, err)
		}
	}
	return cmttypes.ConsensusParamsFromProto(info.ConsensusParams), nil
}

// state returns the state CometBFT saved after the last block.
func (s cometStore) state() (*sm.State, error) {
	pb := new(cmtstate.State)
	if err := s.get(stateKey, pb); err != nil {
		return nil, err
	}
	return sm.FromProto(pb)
}

// lastResponse returns the application's answer to the last block.
func (s cometStore) lastResponse() (*cmtstate.ABCIResponsesInfo, error) {
	info := new(cmtstate.ABCIResponsesInfo)
	if err := s.get(lastResponseKey, info); err != nil {
		return nil, err
	}
	if info.ResponseFinalizeBlock == nil {
		return nil, fmt.Errorf("record %s holds no FinalizeBlock response", lastResponseKey)
	}
	return info, nil
}

// checkHeight requires the consensus parameters stored for a height to
// be those its header names.
func (s cometStore) checkHeight(hdr *cmttypes.Header, firstBlock int64) error {
	p, err := s.params(hdr.Height)
	if err != nil {
		if hdr.Height == firstBlock && firstBlock > 1 {
			return nil // state sync stores the parameters from the next height on
		}
		return err
	}
	if !bytes.Equal(p.Hash(), hdr.ConsensusHash) {
		return fmt.Errorf("the consensus parameters stored for height %d are not the ones block %d names", hdr.Height, hdr.Height)
	}
	return nil
}

// checkLast requires the state saved after the last block, and the answer
// to it, to be the ones the block store's last block implies.
func (s cometStore) checkLast(last *cmttypes.Block, chainID string) (*sm.State, error) {
	st, err := s.state()
	if err != nil {
		return nil, err
	}
	h := last.Height
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if st.ChainID != chainID || st.LastBlockHeight != h {
		bad("the saved state is of chain %q at height %d, not of the block store's last block %d", st.ChainID, st.LastBlockHeight, h)
	}
	if !bytes.Equal(st.LastBlockID.Hash, last.Hash()) || !st.LastBlockTime.Equal(last.Time) {
		bad("the saved state names a last block other than block %d", h)
	}
	if st.LastValidators == nil || !bytes.Equal(st.LastValidators.Hash(), last.ValidatorsHash) {
		bad("the saved state's last validators are not those of block %d", h)
	}
	if st.Validators == nil || !bytes.Equal(st.Validators.Hash(), last.NextValidatorsHash) {
		bad("the saved state's validators are not those block %d names for block %d", h, h+1)
	}
	if next, err := s.validators(h + 1); err != nil || !bytes.Equal(next.Hash(), last.NextValidatorsHash) {
		bad("the validators stored for height %d are not those block %d names", h+1, h)
	}
	if next2, err := s.validators(h + 2); err != nil || st.NextValidators == nil || !bytes.Equal(next2.Hash(), st.NextValidators.Hash()) {
		bad("the validators stored for height %d are not the saved state's next validators", h+2)
	}
	if p, err := s.params(h + 1); err != nil || !bytes.Equal(p.Hash(), st.ConsensusParams.Hash()) {
		bad("the consensus parameters stored for height %d are not the saved state's", h+1)
	}
	resp, err := s.lastResponse()
	switch {
	case err != nil:
		errs = append(errs, err)
	case resp.Height != h:
		bad("the last FinalizeBlock response stored is of height %d, not %d", resp.Height, h)
	default:
		if !bytes.Equal(sm.TxResultsHash(resp.ResponseFinalizeBlock.TxResults), st.LastResultsHash) {
			bad("the results of block %d stored are not those the saved state's results hash names", h)
		}
		if !bytes.Equal(resp.ResponseFinalizeBlock.AppHash, st.AppHash) {
			bad("the app hash of block %d's response is not the saved state's", h)
		}
	}
	return st, errors.Join(errs...)
}
