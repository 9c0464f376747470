// Package trialreport compiles a trial's outcome-switching report from the
// audit log and writes it as a signed JSON document that anyone verifies
// offline, as the accounting of disclosures is (package disclosure).
//
// The report carries every trials event of the trial (its registration,
// amendments, approvals, consents, enrollments, withdrawals, data
// commitments and results reports) as log leaves with their inclusion
// proofs, the checkpoint they are proven against with the signed header
// certifying it, and the findings that trials.Switched derives from those
// events. A verifier checks each proof, derives the findings again and
// compares; the compiling node signs the whole, so that a leaf removed or
// added breaks the signature and a leaf or finding altered breaks a proof or
// the comparison.
//
// trialreport imports audit (the pure log), contract, contract/trials, tx,
// and CometBFT's types and ed25519. It reads a node's copy of the log
// through the Log interface (auditdb.Store satisfies it) and imports no
// storage; the state machine does not import it.
package trialreport

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// ProvenLeaf is a leaf with its inclusion proof in the report's checkpoint.
type ProvenLeaf struct {
	Index uint64   `json:"index"`
	Leaf  []byte   `json:"leaf"`
	Proof [][]byte `json:"proof"`
}

// Report is a trial's outcome-switching report, verifiable offline.
type Report struct {
	ChainID string `json:"chain_id"`
	Trial   string `json:"trial"`
	Sponsor string `json:"sponsor"`
	// Findings is what trials.Switched derives from the Leaves.
	Findings *trials.Switching `json:"findings"`
	// Leaves are the trial's events, in log order.
	Leaves []ProvenLeaf `json:"leaves"`
	// The checkpoint the leaves are proven in, as in an audit.Bundle.
	LogSize      uint64          `json:"log_size"`
	LogRoot      []byte          `json:"log_root"`
	StateRoot    []byte          `json:"state_root"`
	Height       int64           `json:"height"`
	SignedHeader json.RawMessage `json:"signed_header"`
	// Signer is the compiling node's service key; Signature is its Ed25519
	// signature over Digest.
	Signer    tx.PubKey `json:"signer"`
	Signature []byte    `json:"signature"`
}

const reportDomain = "careledger/trial-report/v1\n"

// Digest is what the node signs: the trial, every leaf by index and hash,
// the findings' JSON and the checkpoint.
func (r *Report) Digest() []byte {
	h := sha256.New()
	put := func(b []byte) { h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b)))); h.Write(b) }
	put([]byte(reportDomain))
	put([]byte(r.ChainID))
	put([]byte(r.Trial))
	put([]byte(r.Sponsor))
	for _, l := range r.Leaves {
		put(binary.BigEndian.AppendUint64(nil, l.Index))
		put(audit.LeafHash(l.Leaf))
	}
	findings, _ := json.Marshal(r.Findings) // plain structs: it cannot fail
	put(findings)
	put(binary.BigEndian.AppendUint64(nil, r.LogSize))
	put(r.LogRoot)
	put(binary.BigEndian.AppendUint64(nil, uint64(r.Height)))
	return h.Sum(nil)
}

// Sign signs the report with the node's service key.
func (r *Report) Sign(key ed25519.PrivKey) error {
	sig, err := key.Sign(r.Digest())
	r.Signer, r.Signature = key.PubKey().Bytes(), sig
	return err
}

// Verify checks the report offline: the compiling node's key is one of the
// trusted genesis's node keys and signed it; the checkpoint is certified by
// more than two thirds of the trusted validators; and CheckContent holds.
func (r *Report) Verify(chainID string, trusted *cmttypes.ValidatorSet, nodeKeys []tx.PubKey) error {
	if r.ChainID != chainID {
		return fmt.Errorf("the report is for chain %q, not %q", r.ChainID, chainID)
	}
	if !slices.ContainsFunc(nodeKeys, func(k tx.PubKey) bool { return bytes.Equal(k, r.Signer) }) {
		return errors.New("the report is signed by a key that is not a trusted node's")
	}
	if !ed25519.PubKey(r.Signer).VerifySignature(r.Digest(), r.Signature) {
		return errors.New("the report's signature does not verify: a leaf or finding was added, removed or changed")
	}
	b := audit.Bundle{ChainID: r.ChainID, LogSize: r.LogSize, LogRoot: r.LogRoot, StateRoot: r.StateRoot, Height: r.Height, SignedHeader: r.SignedHeader}
	if err := b.VerifyCheckpoint(chainID, trusted); err != nil {
		return err
	}
	return r.CheckContent()
}

// CheckContent checks what needs no trust: every leaf is in the log of the
// report's root, in log order, and is an event of the trial; and the
// findings are what those events give.
func (r *Report) CheckContent() error {
	entries := make([]trials.Entry, 0, len(r.Leaves))
	for i, l := range r.Leaves {
		if i > 0 && l.Index <= r.Leaves[i-1].Index {
			return fmt.Errorf("leaf %d is not after leaf %d in the log", l.Index, r.Leaves[i-1].Index)
		}
		if err := audit.VerifyInclusion(l.Leaf, l.Index, r.LogSize, l.Proof, r.LogRoot); err != nil {
			return fmt.Errorf("leaf %d is not in the log: %w", l.Index, err)
		}
		ev, err := audit.DecodeEvent(l.Leaf)
		if err != nil {
			return fmt.Errorf("leaf %d: %w", l.Index, err)
		}
		if !isTrialEvent(ev, r.Trial, r.Sponsor) {
			return fmt.Errorf("leaf %d is not an event of trial %s", l.Index, r.Trial)
		}
		entries = append(entries, trials.Entry{Event: ev.Event, Height: ev.Height, Time: ev.Time})
	}
	want, _ := json.Marshal(trials.Switched(r.Trial, entries))
	got, _ := json.Marshal(r.Findings)
	if !bytes.Equal(want, got) {
		return errors.New("the findings are not what the trial's events give")
	}
	return nil
}

func isTrialEvent(ev *audit.Event, trial, sponsor string) bool {
	return strings.HasPrefix(ev.Event.Type, "trials.") && ev.Event.Attr("trial") == trial && ev.Event.Attr("org") == sponsor
}

// Log is what Build reads of a node's copy of the audit log. auditdb.Store
// satisfies it; its Cached view is the one to pass.
type Log interface {
	// OrgEvents returns the indexes of the events that name organization
	// org, in log order, from index from on, at most limit of them.
	OrgEvents(org string, from uint64, limit int) ([]uint64, error)
	// Leaf returns the leaf at index i.
	Leaf(i uint64) ([]byte, error)
	// InclusionProof returns the proof that leaf index is in the log of
	// size leaves.
	InclusionProof(index, size uint64) ([][]byte, error)
}

// Build compiles the outcome-switching report of trial, sponsored by
// sponsor, from the log in s, proven in cp, which must hold every leaf it
// reads. The caller signs it.
func Build(s Log, chainID, trial, sponsor string, cp *audit.Certified) (*Report, error) {
	r := &Report{ChainID: chainID, Trial: trial, Sponsor: sponsor, Leaves: []ProvenLeaf{},
		LogSize: cp.Size, LogRoot: cp.Root, StateRoot: cp.StateRoot, Height: cp.Height, SignedHeader: cp.SignedHeader}
	var entries []trials.Entry
	const page = 4096
	for from := uint64(0); ; {
		idx, err := s.OrgEvents(sponsor, from, page)
		if err != nil {
			return nil, err
		}
		for _, i := range idx {
			if i >= cp.Size {
				break
			}
			leaf, err := s.Leaf(i)
			if err != nil {
				return nil, err
			}
			ev, err := audit.DecodeEvent(leaf)
			if err != nil {
				return nil, err
			}
			if !isTrialEvent(ev, trial, sponsor) {
				continue
			}
			p, err := s.InclusionProof(i, cp.Size)
			if err != nil {
				return nil, err
			}
			r.Leaves = append(r.Leaves, ProvenLeaf{Index: i, Leaf: leaf, Proof: p})
			entries = append(entries, trials.Entry{Event: ev.Event, Height: ev.Height, Time: ev.Time})
		}
		if len(idx) < page || idx[len(idx)-1] >= cp.Size {
			break
		}
		from = idx[len(idx)-1] + 1
	}
	r.Findings = trials.Switched(trial, entries)
	return r, nil
}
