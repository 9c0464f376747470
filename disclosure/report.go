package disclosure

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// Excluded are the purposes of use the standard lets an accounting leave
// out (164.528(a)(1): treatment, payment, health care operations, and
// disclosures to the individual). A break-the-glass access is always listed.
var Excluded = []string{"TREAT", "ETREAT", "COC", "CAREMGT", "HPAYMT", "HOPERAT", "PATRQT"}

// ProvenLeaf is a leaf with its inclusion proof in the report's checkpoint.
type ProvenLeaf struct {
	Index uint64   `json:"index"`
	Leaf  []byte   `json:"leaf"`
	Proof [][]byte `json:"proof"`
}

// Disclosure is one entry of the accounting.
type Disclosure struct {
	Time         time.Time    `json:"time"`
	Recipient    tx.Address   `json:"recipient"`
	RecipientOrg string       `json:"recipient_org,omitempty"` // from the state when the report was made
	Custodian    string       `json:"custodian"`
	Purpose      string       `json:"purpose"`
	BreakGlass   bool         `json:"break_glass"`
	GlassReason  string       `json:"glass_reason,omitempty"` // with BreakGlass: one of consent.GlassReasons
	Description  string       `json:"description"`
	Access       uint64       `json:"access"` // the access's number on the chain
	Leaves       []ProvenLeaf `json:"leaves"` // the consent.access event, then its decisions
}

// Report is an accounting of disclosures, verifiable offline.
type Report struct {
	ChainID  string       `json:"chain_id"`
	Patient  tx.Address   `json:"patient"`
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	All      bool         `json:"all"` // a full access report: nothing excluded
	Excluded []string     `json:"excluded,omitempty"`
	Entries  []Disclosure `json:"entries"`
	// The checkpoint the leaves are proven in, as in a Bundle.
	LogSize      uint64          `json:"log_size"`
	LogRoot      []byte          `json:"log_root"`
	StateRoot    []byte          `json:"state_root"`
	Height       int64           `json:"height"`
	SignedHeader json.RawMessage `json:"signed_header"`
	// Signer is the compiling node's service key; Signature is its
	// Ed25519 signature over Digest.
	Signer    tx.PubKey `json:"signer"`
	Signature []byte    `json:"signature"`
}

const reportDomain = "careledger/disclosure-report/v1\n"

// Digest is what the node signs: the report's scope, every leaf of every
// entry by index and hash, and the checkpoint.
func (r *Report) Digest() []byte {
	h := sha256.New()
	put := func(b []byte) { h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b)))); h.Write(b) }
	put([]byte(reportDomain))
	put([]byte(r.ChainID))
	put(r.Patient[:])
	put([]byte(r.From.UTC().Format(time.RFC3339Nano)))
	put([]byte(r.To.UTC().Format(time.RFC3339Nano)))
	put([]byte(strconv.FormatBool(r.All) + strings.Join(r.Excluded, ",")))
	for _, e := range r.Entries {
		put([]byte(e.RecipientOrg))
		for _, l := range e.Leaves {
			put(binary.BigEndian.AppendUint64(nil, l.Index))
			put(audit.LeafHash(l.Leaf))
		}
	}
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

// disclosureOf builds an entry from the access event and its decisions,
// or reports that they disclosed nothing.
func disclosureOf(access *audit.Event, decisions []*audit.Event) (Disclosure, bool) {
	a, _ := consent.AccessOf(access.Event)
	d := Disclosure{
		Time: access.Time, Custodian: a.Custodian, Purpose: a.Purpose, BreakGlass: a.BreakGlass, GlassReason: a.GlassReason,
		Recipient: a.Requester, Access: a.Access,
	}
	var items []string
	for _, dec := range decisions {
		_, decision, _ := consent.DecisionOf(dec.Event)
		if !decision.Permit {
			continue
		}
		item := decision.Item.Ref()
		if decision.Item.ID == "" {
			item = "all " + item + " records"
		}
		if len(decision.Categories) > 0 {
			item += " (" + strings.Join(decision.Categories, ", ") + ")"
		}
		items = append(items, item)
	}
	d.Description = strings.Join(items, "; ")
	return d, len(items) > 0
}

// Included reports whether an entry belongs in an accounting that excludes
// the Excluded purposes.
func Included(d Disclosure, all bool) bool {
	return all || d.BreakGlass || !slices.Contains(Excluded, d.Purpose)
}

// Verify checks the report offline: the compiling node's key is one of the
// trusted genesis's node keys and signed it; every entry's leaves are in the
// log and say what the entry says; and the checkpoint is certified by more
// than two thirds of the trusted validators.
func (r *Report) Verify(chainID string, trusted *cmttypes.ValidatorSet, nodeKeys []tx.PubKey) error {
	if r.ChainID != chainID {
		return fmt.Errorf("the report is for chain %q, not %q", r.ChainID, chainID)
	}
	if !slices.ContainsFunc(nodeKeys, func(k tx.PubKey) bool { return bytes.Equal(k, r.Signer) }) {
		return errors.New("the report is signed by a key that is not a trusted node's")
	}
	if !ed25519.PubKey(r.Signer).VerifySignature(r.Digest(), r.Signature) {
		return errors.New("the report's signature does not verify: an entry was added, removed or changed")
	}
	b := audit.Bundle{ChainID: r.ChainID, LogSize: r.LogSize, LogRoot: r.LogRoot, StateRoot: r.StateRoot, Height: r.Height, SignedHeader: r.SignedHeader}
	if err := b.VerifyCheckpoint(chainID, trusted); err != nil {
		return err
	}
	for i, d := range r.Entries {
		if err := r.verifyEntry(d); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return nil
}

func (r *Report) verifyEntry(d Disclosure) error {
	var evs []*audit.Event
	for _, l := range d.Leaves {
		if err := audit.VerifyInclusion(l.Leaf, l.Index, r.LogSize, l.Proof, r.LogRoot); err != nil {
			return fmt.Errorf("leaf %d is not in the log: %w", l.Index, err)
		}
		ev, err := audit.DecodeEvent(l.Leaf)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return errors.New("it does not rest on a consent.access event")
	}
	access, ok := consent.AccessOf(evs[0].Event)
	if !ok {
		return errors.New("it does not rest on a consent.access event")
	}
	if access.Patient != r.Patient {
		return errors.New("its access is of another patient")
	}
	for _, ev := range evs[1:] {
		if id, _, ok := consent.DecisionOf(ev.Event); !ok || id != access.Access || ev.Tx != evs[0].Tx {
			return errors.New("its decisions are not its access's")
		}
	}
	want, ok := disclosureOf(evs[0], evs[1:])
	want.RecipientOrg, want.Leaves = d.RecipientOrg, d.Leaves
	if !ok || !want.Time.Equal(d.Time) || want.Recipient != d.Recipient || want.Custodian != d.Custodian ||
		want.Purpose != d.Purpose || want.BreakGlass != d.BreakGlass || want.GlassReason != d.GlassReason || want.Description != d.Description || want.Access != d.Access {
		return errors.New("it says something its log leaves do not")
	}
	if d.Time.Before(r.From) || !d.Time.Before(r.To) || !Included(d, r.All) {
		return errors.New("it is outside the report's period or purposes")
	}
	return nil
}

// Log is what BuildReport reads of a node's copy of the audit log.
// auditdb.Store satisfies it; its Cached view, which keeps the tree nodes
// that the proofs of neighbouring leaves share, is the one to pass.
type Log interface {
	// AccountEvents returns the indexes of the events that concern account
	// a, in log order, from index from on, at most limit of them.
	AccountEvents(a tx.Address, from uint64, limit int) ([]uint64, error)
	// Leaf returns the leaf at index i.
	Leaf(i uint64) ([]byte, error)
	// InclusionProof returns the proof that leaf index is in the log of
	// size leaves.
	InclusionProof(index, size uint64) ([][]byte, error)
}

// BuildReport compiles the accounting of disclosures of patient for
// [from, to) from the log in s, proven in cp, which must hold every leaf it
// reads. orgOf names an account's organization. The caller signs it.
func BuildReport(s Log, chainID string, patient tx.Address, from, to time.Time, all bool, cp *audit.Certified, orgOf func(tx.Address) string) (*Report, error) {
	r := &Report{
		ChainID: chainID, Patient: patient, From: from.UTC(), To: to.UTC(), All: all, Entries: []Disclosure{},
		LogSize: cp.Size, LogRoot: cp.Root, StateRoot: cp.StateRoot, Height: cp.Height, SignedHeader: cp.SignedHeader,
	}
	if !all {
		r.Excluded = Excluded
	}
	idx, err := s.AccountEvents(patient, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	prove := func(i uint64) (ProvenLeaf, *audit.Event, error) {
		leaf, err := s.Leaf(i)
		if err != nil {
			return ProvenLeaf{}, nil, err
		}
		p, err := s.InclusionProof(i, cp.Size)
		if err != nil {
			return ProvenLeaf{}, nil, err
		}
		ev, err := audit.DecodeEvent(leaf)
		return ProvenLeaf{Index: i, Leaf: leaf, Proof: p}, ev, err
	}
	for k := 0; k < len(idx) && idx[k] < cp.Size; k++ {
		access, ev, err := prove(idx[k])
		if err != nil {
			return nil, err
		}
		a, ok := consent.AccessOf(ev.Event)
		if !ok || a.Patient != patient || ev.Time.Before(r.From) || !ev.Time.Before(r.To) {
			continue
		}
		leaves, decisions := []ProvenLeaf{access}, []*audit.Event{}
		for k+1 < len(idx) && idx[k+1] < cp.Size {
			l, dec, err := prove(idx[k+1])
			if err != nil {
				return nil, err
			}
			if id, _, ok := consent.DecisionOf(dec.Event); !ok || dec.Tx != ev.Tx || id != a.Access {
				break
			}
			leaves, decisions = append(leaves, l), append(decisions, dec)
			k++
		}
		d, disclosed := disclosureOf(ev, decisions)
		if !disclosed || !Included(d, all) {
			continue
		}
		d.RecipientOrg, d.Leaves = orgOf(d.Recipient), leaves
		r.Entries = append(r.Entries, d)
	}
	return r, nil
}

// MayRead reports whether who may read patient's audit trail and
// accounting: the patient, a delegate they named, or an auditor or privacy
// officer.
func MayRead(s identity.Reader, who *identity.Account, patient tx.Address) (bool, error) {
	if who.Kind == identity.Member && (who.HasRole(identity.Auditor) || who.HasRole(identity.PrivacyOfficer)) {
		return true, nil
	}
	return identity.ActsFor(s, who.Address, patient)
}
