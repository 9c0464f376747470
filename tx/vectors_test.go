package tx_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"github.com/careledger/careledger/contract"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

var update = flag.Bool("update", false, "rewrite ../testdata/vectors.json from the vector specs")

// vectorsPath is the vector file at the repository root, where clients in
// other languages find it.
var vectorsPath = filepath.Join("..", "testdata", "vectors.json")

const vectorChainID = "careledger-test-1"

// vectorFile is the layout of testdata/vectors.json. Every byte string is
// lowercase hex unless its name says base64.
type vectorFile struct {
	Comment []string `json:"comment"`
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Description string      `json:"description"`
	Seed        string      `json:"seed"`    // Ed25519 seed (RFC 8032 private key), 32 bytes
	PubKey      string      `json:"pub_key"` // the signer, 32 bytes
	Address     string      `json:"address"` // the signer's address if this is its first key
	ChainID     string      `json:"chain_id"`
	Sequence    uint64      `json:"sequence"`
	Messages    []vectorMsg `json:"messages"`
	SignBytes   string      `json:"sign_bytes"`
	Signature   string      `json:"signature"`
	Tx          string      `json:"tx"`
	TxBase64    string      `json:"tx_base64"` // as POST /v1/txs takes it
	Hash        string      `json:"hash"`      // SHA-256 of tx
}

type vectorMsg struct {
	Type   uint64    `json:"type"`
	Name   string    `json:"name"`
	Fields msgFields `json:"fields"` // the body's fields, for reading; body is normative
	Body   string    `json:"body"`
}

// msgFields are the fields of an identity message body.
type msgFields struct {
	Org       string   `json:"org,omitempty"`
	PubKey    string   `json:"pub_key,omitempty"`
	Member    string   `json:"member,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	Suspended *bool    `json:"suspended,omitempty"`
	// RotateKey: the new key's seed, and the bytes it signs as proof.
	NewKeySeed        string `json:"new_key_seed,omitempty"`
	NewPubKey         string `json:"new_pub_key,omitempty"`
	RotationSignBytes string `json:"rotation_sign_bytes,omitempty"`
	Proof             string `json:"proof,omitempty"`
}

// vectorSeed returns the fixed seed of a vector key: SHA-256 of its label.
func vectorSeed(label string) []byte {
	s := sha256.Sum256([]byte("careledger test vector key: " + label))
	return s[:]
}

func vectorPub(label string) []byte { return keyFromSeed(vectorSeed(label)).PubKey().Bytes() }

// vectorSpec is what a vector is built from; everything else is computed.
var identityDesc = identity.Describe()

type vectorSpec struct {
	description string
	signer      string // key label
	sequence    uint64
	msgs        func() []specMsg
}

// specMsg is an identity message and, for RotateKey, the new key's label.
type specMsg struct {
	msg    contract.Msg
	newKey string
}

func vectorSpecs() []vectorSpec {
	physician := tx.AddressOf(vectorPub("physician"))
	return []vectorSpec{
		{
			description: "A patient registers their own key (identity/register_patient, empty body). " +
				"It is the key's first transaction, so the sequence is 0.",
			signer:   "patient",
			sequence: 0,
			msgs:     func() []specMsg { return []specMsg{{msg: identity.RegisterPatient{}}} },
		},
		{
			description: "An admin of general-hospital registers a physician's key with two roles " +
				"(identity/register_member).",
			signer:   "admin",
			sequence: 5,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.RegisterMember{
					Org:    "general-hospital",
					PubKey: vectorPub("physician"),
					Roles:  []identity.Role{identity.Nurse, identity.Physician},
				}}}
			},
		},
		{
			description: "Three messages in one transaction, applied in order and all or nothing: the admin " +
				"sets the physician's roles, suspends them, then reinstates them. Sequence 300 takes two bytes.",
			signer:   "admin",
			sequence: 300,
			msgs: func() []specMsg {
				return []specMsg{
					{msg: identity.SetMemberRoles{Member: physician, Roles: []identity.Role{identity.Physician}}},
					{msg: identity.SetMemberStatus{Member: physician, Suspended: true}},
					{msg: identity.SetMemberStatus{Member: physician, Suspended: false}},
				}
			},
		},
		{
			description: "The patient rotates to a new key (identity/rotate_key). The proof is the new key's " +
				"signature over rotation_sign_bytes; the account keeps its address and sequence.",
			signer:   "patient",
			sequence: 1,
			msgs:     func() []specMsg { return []specMsg{{newKey: "patient new"}} },
		},
	}
}

// buildVector computes a vector from its spec.
func buildVector(t *testing.T, s vectorSpec) vector {
	t.Helper()
	seed := vectorSeed(s.signer)
	key := keyFromSeed(seed)
	pub := key.PubKey().Bytes()
	v := vector{
		Description: s.description,
		Seed:        hex.EncodeToString(seed),
		PubKey:      hex.EncodeToString(pub),
		Address:     tx.AddressOf(pub).String(),
		ChainID:     vectorChainID,
		Sequence:    s.sequence,
	}
	t1 := &tx.Tx{ChainID: vectorChainID, Signer: pub, Sequence: s.sequence}
	for _, sm := range s.msgs() {
		m, f := sm.msg, msgFields{}
		if sm.newKey != "" {
			newSeed := vectorSeed(sm.newKey)
			newKey := keyFromSeed(newSeed)
			newPub := newKey.PubKey().Bytes()
			rsb := identity.RotationSignBytes(vectorChainID, tx.AddressOf(pub), newPub)
			proof, err := newKey.Sign(rsb)
			if err != nil {
				t.Fatal(err)
			}
			m = identity.RotateKey{NewPubKey: newPub, Proof: proof}
			f.NewKeySeed = hex.EncodeToString(newSeed)
			f.RotationSignBytes = hex.EncodeToString(rsb)
		}
		fillFields(&f, m)
		tm := identity.Encode(m)
		t1.Msgs = append(t1.Msgs, tm)
		v.Messages = append(v.Messages, vectorMsg{
			Type: tm.Type, Name: identityDesc.Msg(tm.Type).Name, Fields: f, Body: hex.EncodeToString(tm.Body),
		})
	}
	if err := t1.Sign(key); err != nil {
		t.Fatal(err)
	}
	enc := t1.Encode()
	v.SignBytes = hex.EncodeToString(t1.SignBytes())
	v.Signature = hex.EncodeToString(t1.Signature)
	v.Tx = hex.EncodeToString(enc)
	v.TxBase64 = base64.StdEncoding.EncodeToString(enc)
	v.Hash = tx.HashOf(enc).String()
	return v
}

// fillFields sets the readable fields of identity message m.
func fillFields(f *msgFields, m contract.Msg) {
	roles := func(rs []identity.Role) []string {
		var out []string
		for _, r := range rs {
			out = append(out, string(r))
		}
		return out
	}
	switch m := m.(type) {
	case identity.RegisterMember:
		f.Org, f.PubKey, f.Roles = m.Org, hex.EncodeToString(m.PubKey), roles(m.Roles)
	case identity.SetMemberRoles:
		f.Member, f.Roles = m.Member.String(), roles(m.Roles)
	case identity.SetMemberStatus:
		f.Member, f.Suspended = m.Member.String(), &m.Suspended
	case identity.RotateKey:
		f.NewPubKey, f.Proof = hex.EncodeToString(m.NewPubKey), hex.EncodeToString(m.Proof)
	}
}

func buildVectorFile(t *testing.T) vectorFile {
	vf := vectorFile{Comment: []string{
		"CareLedger transaction test vectors; docs/TRANSACTIONS.md specifies the encoding.",
		"Byte strings are lowercase hex, except tx_base64 (standard base64 with padding).",
		"seed is the signer's 32-byte Ed25519 seed (RFC 8032 secret key); signatures are deterministic.",
		"Each message's body is normative; fields show what it encodes.",
		"Generated by go test ./tx -run TestVectors -update; do not edit by hand.",
	}}
	for _, s := range vectorSpecs() {
		vf.Vectors = append(vf.Vectors, buildVector(t, s))
	}
	return vf
}

func TestVectors(t *testing.T) {
	want := buildVectorFile(t)
	if *update {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsPath)
	}

	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var got vectorFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	if !reflect.DeepEqual(got.Comment, want.Comment) {
		t.Errorf("%s comment = %q; want %q (run with -update)", vectorsPath, got.Comment, want.Comment)
	}
	if len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("%s has %d vectors; want %d (run with -update)", vectorsPath, len(got.Vectors), len(want.Vectors))
	}
	for i := range want.Vectors {
		if !reflect.DeepEqual(got.Vectors[i], want.Vectors[i]) {
			g, _ := json.MarshalIndent(got.Vectors[i], "", "  ")
			w, _ := json.MarshalIndent(want.Vectors[i], "", "  ")
			t.Errorf("vector %d in %s =\n%s\nwant\n%s\n(run with -update after reviewing the change)", i, vectorsPath, g, w)
		}
	}
	for i, v := range got.Vectors {
		t.Run(v.Messages[0].Name, func(t *testing.T) { checkVector(t, i, v) })
	}
}

// checkVector recomputes a vector from its seed and fields alone, as another
// implementation would, and checks every derived value in the file.
func checkVector(t *testing.T, i int, v vector) {
	h := func(name, s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("vector %d: %s is not hex: %v", i, name, err)
		}
		return b
	}
	seed := h("seed", v.Seed)
	if len(seed) != 32 {
		t.Fatalf("vector %d: seed has %d bytes; want 32", i, len(seed))
	}
	key := keyFromSeed(seed)
	pub := key.PubKey().Bytes()
	if got := hex.EncodeToString(pub); got != v.PubKey {
		t.Errorf("vector %d: public key of seed %s = %s; want %s", i, v.Seed, got, v.PubKey)
	}
	if got := tx.AddressOf(pub).String(); got != v.Address {
		t.Errorf("vector %d: AddressOf(%s) = %s; want %s", i, v.PubKey, got, v.Address)
	}

	built := &tx.Tx{ChainID: v.ChainID, Signer: pub, Sequence: v.Sequence}
	for j, m := range v.Messages {
		body := h("body", m.Body)
		built.Msgs = append(built.Msgs, tx.Msg{Type: m.Type, Body: body})
		if got := identityDesc.Msg(m.Type).Name; got != m.Name {
			t.Errorf("vector %d message %d: Name(%d) = %q; want %q", i, j, m.Type, got, m.Name)
		}
		dm, err := identityDesc.Decode(m.Type, body)
		if err != nil {
			t.Errorf("vector %d message %d: identity.Decode(%d, %s) = %v; want nil", i, j, m.Type, m.Body, err)
			continue
		}
		if re := identity.Encode(dm); !bytes.Equal(re.Body, body) || re.Type != m.Type {
			t.Errorf("vector %d message %d: re-encoded body = %d %x; want %d %s", i, j, re.Type, re.Body, m.Type, m.Body)
		}
		var f msgFields
		fillFields(&f, dm)
		f.NewKeySeed, f.RotationSignBytes = m.Fields.NewKeySeed, m.Fields.RotationSignBytes
		if !reflect.DeepEqual(f, m.Fields) {
			t.Errorf("vector %d message %d: body %s decodes to fields %+v; want %+v", i, j, m.Body, f, m.Fields)
		}
		if rk, ok := dm.(identity.RotateKey); ok {
			newKey := keyFromSeed(h("new_key_seed", m.Fields.NewKeySeed))
			if !bytes.Equal(newKey.PubKey().Bytes(), rk.NewPubKey) {
				t.Errorf("vector %d message %d: new_pub_key %x is not the key of new_key_seed", i, j, rk.NewPubKey)
			}
			rsb := identity.RotationSignBytes(v.ChainID, tx.AddressOf(pub), rk.NewPubKey)
			if got := hex.EncodeToString(rsb); got != m.Fields.RotationSignBytes {
				t.Errorf("vector %d message %d: RotationSignBytes = %s; want %s", i, j, got, m.Fields.RotationSignBytes)
			}
			if proof, _ := newKey.Sign(rsb); !bytes.Equal(proof, rk.Proof) {
				t.Errorf("vector %d message %d: proof = %x; want %x", i, j, rk.Proof, proof)
			}
		}
	}
	if got := hex.EncodeToString(built.SignBytes()); got != v.SignBytes {
		t.Errorf("vector %d: SignBytes() = %s; want %s", i, got, v.SignBytes)
	}
	if err := built.Sign(key); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(built.Signature); got != v.Signature {
		t.Errorf("vector %d: signature = %s; want %s", i, got, v.Signature)
	}
	enc := built.Encode()
	if got := hex.EncodeToString(enc); got != v.Tx {
		t.Errorf("vector %d: Encode() = %s; want %s", i, got, v.Tx)
	}
	if got := base64.StdEncoding.EncodeToString(enc); got != v.TxBase64 {
		t.Errorf("vector %d: base64 = %s; want %s", i, got, v.TxBase64)
	}
	if got := tx.HashOf(enc).String(); got != v.Hash {
		t.Errorf("vector %d: HashOf() = %s; want %s", i, got, v.Hash)
	}

	raw := h("tx", v.Tx)
	dec, err := tx.Decode(raw, tx.DefaultLimits)
	if err != nil {
		t.Fatalf("vector %d: Decode(%s) = %v; want nil", i, v.Tx, err)
	}
	if !equalTx(dec, built) {
		t.Errorf("vector %d: Decode(tx) = %+v; want %+v", i, *dec, *built)
	}
	if !dec.VerifySignature() {
		t.Errorf("vector %d: decoded VerifySignature() = false; want true", i)
	}
	if !slices.Equal(h("signature", v.Signature), dec.Signature) {
		t.Errorf("vector %d: decoded signature = %x; want %s", i, dec.Signature, v.Signature)
	}
}
