package tx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/wire"
)

// Version is the first byte of every encoded transaction.
const Version = 1

// SignDomain prefixes the sign bytes so that a transaction signature can never
// be mistaken for a signature over anything else (a vote, a login challenge).
const SignDomain = "careledger/tx/v1\n"

// Sizes of the fixed-length fields.
const (
	PubKeySize    = ed25519.PubKeySize
	SignatureSize = ed25519.SignatureSize
	HashSize      = sha256.Size
)

// Limits that hold on every network. The transaction size limit itself is a
// network parameter (see Limits).
const (
	MaxChainIDLen = 50
	MaxMessages   = 64
)

// Limits are the size limits a node enforces when decoding.
type Limits struct {
	// MaxTxBytes is the largest encoded transaction accepted. Default 65536.
	MaxTxBytes int
}

// DefaultLimits are the limits of a network whose genesis sets none.
var DefaultLimits = Limits{MaxTxBytes: 64 << 10}

// MaxTxBytesCeiling is the largest MaxTxBytes a network may set.
const MaxTxBytesCeiling = 4 << 20

// Msg is one message of a transaction: a type number and a body that the
// contract owning the type decodes.
type Msg struct {
	Type uint64
	Body []byte
}

// Tx is a signed transaction envelope.
type Tx struct {
	ChainID   string
	Signer    []byte // Ed25519 public key, PubKeySize bytes
	Sequence  uint64
	Msgs      []Msg
	Signature []byte // SignatureSize bytes
}

// appendBody writes everything the signature covers.
func (t *Tx) appendBody(w *wire.Writer) {
	w.Uint(Version)
	w.String(t.ChainID)
	w.Raw(t.Signer)
	w.Uint(t.Sequence)
	w.Uint(uint64(len(t.Msgs)))
	for _, m := range t.Msgs {
		w.Uint(m.Type)
		w.Blob(m.Body)
	}
}

// SignBytes returns the bytes the signer signs: SignDomain followed by the
// encoding of every field but the signature.
func (t *Tx) SignBytes() []byte {
	w := wire.NewWriter(t.size())
	w.Raw([]byte(SignDomain))
	t.appendBody(w)
	return w.Bytes()
}

// Encode returns the transaction's canonical bytes.
func (t *Tx) Encode() []byte {
	w := wire.NewWriter(t.size())
	t.appendBody(w)
	w.Raw(t.Signature)
	return w.Bytes()
}

func (t *Tx) size() int {
	n := len(SignDomain) + 16 + len(t.ChainID) + PubKeySize + SignatureSize
	for _, m := range t.Msgs {
		n += 20 + len(m.Body)
	}
	return n
}

// Sign sets the signature with key, which must match Signer.
func (t *Tx) Sign(key ed25519.PrivKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign transaction: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	sig, err := key.Sign(t.SignBytes())
	if err != nil {
		return fmt.Errorf("sign transaction: %w", err)
	}
	t.Signature = sig
	return nil
}

// VerifySignature reports whether the signature is valid for Signer.
func (t *Tx) VerifySignature() bool {
	return ed25519.PubKey(t.Signer).VerifySignature(t.SignBytes(), t.Signature)
}

// Decode parses a transaction, enforcing the canonical form and limits. Its
// error is a *Rejection with CodeOversized or CodeMalformed.
func Decode(b []byte, lim Limits) (*Tx, error) {
	if len(b) > lim.MaxTxBytes {
		return nil, Rejectf(CodeOversized, "transaction is %d bytes, limit %d", len(b), lim.MaxTxBytes)
	}
	r := wire.NewReader(b)
	if v := r.Uint(); r.Err() == nil && v != Version {
		return nil, Rejectf(CodeMalformed, "unsupported transaction version %d", v)
	}
	t := &Tx{
		ChainID:  r.String(MaxChainIDLen),
		Signer:   r.Raw(PubKeySize),
		Sequence: r.Uint(),
	}
	n := r.Count(MaxMessages)
	if r.Err() == nil && n == 0 {
		return nil, Rejectf(CodeMalformed, "transaction has no messages")
	}
	t.Msgs = make([]Msg, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		t.Msgs = append(t.Msgs, Msg{Type: r.Uint(), Body: r.Blob(lim.MaxTxBytes)})
	}
	t.Signature = r.Raw(SignatureSize)
	if err := r.Done(); err != nil {
		return nil, Rejectf(CodeMalformed, "decode transaction: %v", err)
	}
	return t, nil
}

// Hash is a transaction's identifier: the SHA-256 of its encoding, the same
// hash CometBFT uses for the transaction in blocks and the mempool.
type Hash [HashSize]byte

// HashOf returns the hash of encoded transaction bytes.
func HashOf(b []byte) Hash { return sha256.Sum256(b) }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash parses a hash written in hex.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("transaction hash must be %d hex characters", 2*HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// MarshalText and UnmarshalText let hashes appear in JSON as hex strings.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *Hash) UnmarshalText(b []byte) error {
	p, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = p
	return nil
}
