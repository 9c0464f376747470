package tx_test

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// keyFromSeed returns the CometBFT private key (seed and public key, 64
// bytes) whose Ed25519 seed is seed.
func keyFromSeed(seed []byte) ed25519.PrivKey {
	return ed25519.PrivKey(stded25519.NewKeyFromSeed(seed))
}

// testKey returns a fixed key derived from label.
func testKey(label string) ed25519.PrivKey {
	seed := sha256.Sum256([]byte(label))
	return keyFromSeed(seed[:])
}

// signedTx returns a valid transaction signed by testKey(label).
func signedTx(t testing.TB, label string, msgs ...tx.Msg) *tx.Tx {
	t.Helper()
	key := testKey(label)
	if len(msgs) == 0 {
		msgs = []tx.Msg{{Type: 1, Body: []byte{}}}
	}
	tr := &tx.Tx{ChainID: "careledger-test-1", Signer: key.PubKey().Bytes(), Sequence: 7, Msgs: msgs}
	if err := tr.Sign(key); err != nil {
		t.Fatalf("Sign() = %v; want nil", err)
	}
	return tr
}

// envelope writes an envelope field by field, so that tests can build
// encodings that Encode would never produce.
type envelope struct {
	version  uint64
	chainID  string
	signer   []byte
	sequence uint64
	count    uint64 // written as the message count
	msgs     []tx.Msg
	msgsRaw  []byte // if set, written instead of msgs
	sig      []byte
}

func validEnvelope() envelope {
	return envelope{
		version:  tx.Version,
		chainID:  "careledger-test-1",
		signer:   bytes.Repeat([]byte{0x11}, tx.PubKeySize),
		sequence: 3,
		count:    1,
		msgs:     []tx.Msg{{Type: 2, Body: []byte("body")}},
		sig:      bytes.Repeat([]byte{0x22}, tx.SignatureSize),
	}
}

func (e envelope) bytes() []byte {
	w := wire.NewWriter(0)
	w.Uint(e.version)
	w.String(e.chainID)
	w.Raw(e.signer)
	w.Uint(e.sequence)
	w.Uint(e.count)
	for _, m := range e.msgs {
		if e.msgsRaw != nil {
			break
		}
		w.Uint(m.Type)
		w.Blob(m.Body)
	}
	w.Raw(e.msgsRaw)
	w.Raw(e.sig)
	return w.Bytes()
}

func equalTx(a, b *tx.Tx) bool {
	return a.ChainID == b.ChainID && bytes.Equal(a.Signer, b.Signer) && a.Sequence == b.Sequence &&
		bytes.Equal(a.Signature, b.Signature) &&
		slices.EqualFunc(a.Msgs, b.Msgs, func(x, y tx.Msg) bool { return x.Type == y.Type && bytes.Equal(x.Body, y.Body) })
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	many := make([]tx.Msg, tx.MaxMessages)
	for i := range many {
		many[i] = tx.Msg{Type: uint64(i), Body: []byte{byte(i)}}
	}
	for _, tc := range []struct {
		name string
		tx   tx.Tx
	}{
		{"one empty message", tx.Tx{ChainID: "c", Sequence: 0, Msgs: []tx.Msg{{Type: 1, Body: []byte{}}}}},
		{"nil body", tx.Tx{ChainID: "careledger-1", Sequence: 1, Msgs: []tx.Msg{{Type: 1}}}},
		{"empty chain ID", tx.Tx{ChainID: "", Sequence: 1, Msgs: []tx.Msg{{Type: 5, Body: []byte("x")}}}},
		{"longest chain ID", tx.Tx{ChainID: strings.Repeat("c", tx.MaxChainIDLen), Msgs: []tx.Msg{{Type: 1}}}},
		{"UTF-8 chain ID", tx.Tx{ChainID: "réseau-santé", Msgs: []tx.Msg{{Type: 1}}}},
		{"big numbers", tx.Tx{ChainID: "c", Sequence: math.MaxUint64, Msgs: []tx.Msg{{Type: math.MaxUint64, Body: bytes.Repeat([]byte{1}, 300)}}}},
		{"most messages", tx.Tx{ChainID: "c", Sequence: 128, Msgs: many}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := testKey(tc.name)
			in := tc.tx
			in.Signer = key.PubKey().Bytes()
			if err := in.Sign(key); err != nil {
				t.Fatalf("Sign() = %v; want nil", err)
			}
			enc := in.Encode()
			got, err := tx.Decode(enc, tx.DefaultLimits)
			if err != nil {
				t.Fatalf("Decode(%x) = %v; want nil", enc, err)
			}
			want := in
			for i := range want.Msgs {
				if want.Msgs[i].Body == nil {
					want.Msgs = slices.Clone(want.Msgs)
					want.Msgs[i].Body = []byte{}
				}
			}
			if !equalTx(got, &want) {
				t.Errorf("Decode(Encode(%+v)) = %+v; want the same", want, *got)
			}
			if re := got.Encode(); !bytes.Equal(re, enc) {
				t.Errorf("Encode(Decode(%x)) = %x; want the input", enc, re)
			}
			if !got.VerifySignature() {
				t.Errorf("decoded %+v: VerifySignature() = false; want true", *got)
			}
		})
	}
}

// TestEncodeLayout pins the envelope bytes field by field, as
// docs/TRANSACTIONS.md describes them.
func TestEncodeLayout(t *testing.T) {
	signer := bytes.Repeat([]byte{0xaa}, tx.PubKeySize)
	sig := bytes.Repeat([]byte{0xbb}, tx.SignatureSize)
	in := &tx.Tx{
		ChainID:   "chain",
		Signer:    signer,
		Sequence:  300,
		Msgs:      []tx.Msg{{Type: 1, Body: []byte{}}, {Type: 2, Body: []byte{0xcc, 0xdd}}},
		Signature: sig,
	}
	body := "01" + // version
		"05" + hex.EncodeToString([]byte("chain")) + // chain ID
		hex.EncodeToString(signer) + // signer
		"ac02" + // sequence 300
		"02" + // two messages
		"01" + "00" + // type 1, empty body
		"02" + "02" + "ccdd" // type 2, two bytes
	wantEnc := body + hex.EncodeToString(sig)
	if got := hex.EncodeToString(in.Encode()); got != wantEnc {
		t.Errorf("Encode() = %s; want %s", got, wantEnc)
	}
	wantSign := hex.EncodeToString([]byte("careledger/tx/v1\n")) + body
	if got := hex.EncodeToString(in.SignBytes()); got != wantSign {
		t.Errorf("SignBytes() = %s; want %s", got, wantSign)
	}
	if tx.SignDomain != "careledger/tx/v1\n" {
		t.Errorf("SignDomain = %q; want %q", tx.SignDomain, "careledger/tx/v1\n")
	}
}

func TestSignBytesExcludeSignature(t *testing.T) {
	tr := signedTx(t, "sign bytes")
	enc := tr.Encode()
	want := append([]byte(tx.SignDomain), enc[:len(enc)-tx.SignatureSize]...)
	if got := tr.SignBytes(); !bytes.Equal(got, want) {
		t.Errorf("SignBytes() = %x; want SignDomain + encoding without signature %x", got, want)
	}
	before := tr.SignBytes()
	tr.Signature = bytes.Repeat([]byte{1}, tx.SignatureSize)
	if got := tr.SignBytes(); !bytes.Equal(got, before) {
		t.Errorf("SignBytes() changed with the signature: %x; want %x", got, before)
	}
}

func TestSignVerify(t *testing.T) {
	other := testKey("someone else")
	for _, tc := range []struct {
		name   string
		tamper func(*tx.Tx)
		want   bool
	}{
		{"untouched", func(*tx.Tx) {}, true},
		{"chain ID", func(t *tx.Tx) { t.ChainID += "x" }, false},
		{"sequence", func(t *tx.Tx) { t.Sequence++ }, false},
		{"message type", func(t *tx.Tx) { t.Msgs[0].Type++ }, false},
		{"message body", func(t *tx.Tx) { t.Msgs[0].Body = append(t.Msgs[0].Body, 0) }, false},
		{"extra message", func(t *tx.Tx) { t.Msgs = append(t.Msgs, tx.Msg{Type: 1}) }, false},
		{"signer", func(t *tx.Tx) { t.Signer = other.PubKey().Bytes() }, false},
		{"signature bit", func(t *tx.Tx) { t.Signature[10] ^= 1 }, false},
		{"signed by another key", func(t *tx.Tx) { t.Sign(other) }, false},
		{"short signature", func(t *tx.Tx) { t.Signature = t.Signature[:tx.SignatureSize-1] }, false},
		{"no signature", func(t *tx.Tx) { t.Signature = nil }, false},
		{"short signer", func(t *tx.Tx) { t.Signer = t.Signer[:tx.PubKeySize-1] }, false},
		{"no signer", func(t *tx.Tx) { t.Signer = nil }, false},
		{"signer not on the curve", func(t *tx.Tx) { t.Signer = bytes.Repeat([]byte{0xff}, tx.PubKeySize) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := signedTx(t, "sign verify", tx.Msg{Type: 2, Body: []byte("hello")})
			tc.tamper(tr)
			if got := tr.VerifySignature(); got != tc.want {
				t.Errorf("VerifySignature() after tampering with %s = %v; want %v", tc.name, got, tc.want)
			}
		})
	}
}

// TestSignIsDeterministic checks that Ed25519 signing gives the same bytes
// every time, which the vectors rely on.
func TestSignIsDeterministic(t *testing.T) {
	a, b := signedTx(t, "determinism"), signedTx(t, "determinism")
	if !bytes.Equal(a.Signature, b.Signature) {
		t.Errorf("two signatures of the same transaction: %x and %x; want equal", a.Signature, b.Signature)
	}
	want := stded25519.Sign(stded25519.PrivateKey(testKey("determinism")), a.SignBytes())
	if !bytes.Equal(a.Signature, want) {
		t.Errorf("Sign() = %x; want crypto/ed25519's %x", a.Signature, want)
	}
}

func wantRejection(t *testing.T, what string, err error, code tx.Code) {
	t.Helper()
	var rej *tx.Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("%s = %v (%T); want a *tx.Rejection with code %v", what, err, err, code)
	}
	if rej.Code != code {
		t.Errorf("%s = %v; want code %v", what, err, code)
	}
	if got, ok := tx.CodeOf(err); !ok || got != code {
		t.Errorf("CodeOf(%v) = %v, %v; want %v, true", err, got, ok, code)
	}
}

func TestDecodeRejections(t *testing.T) {
	mod := func(f func(*envelope)) []byte {
		e := validEnvelope()
		f(&e)
		return e.bytes()
	}
	valid := validEnvelope().bytes()
	// seqAt is the offset of the one-byte sequence number of valid: after
	// the version, the chain ID and its length, and the signer.
	seqAt := 1 + 1 + len(validEnvelope().chainID) + tx.PubKeySize
	if valid[seqAt] != byte(validEnvelope().sequence) {
		t.Fatalf("valid envelope %x has %02x at offset %d; want the sequence", valid, valid[seqAt], seqAt)
	}
	tooMany := make([]tx.Msg, tx.MaxMessages+1)
	for i := range tooMany {
		tooMany[i] = tx.Msg{Type: 1, Body: []byte{}}
	}
	for _, tc := range []struct {
		name string
		in   []byte
		lim  tx.Limits
		want tx.Code
	}{
		{"empty", nil, tx.DefaultLimits, tx.CodeMalformed},
		{"version 0", mod(func(e *envelope) { e.version = 0 }), tx.DefaultLimits, tx.CodeMalformed},
		{"version 2", mod(func(e *envelope) { e.version = 2 }), tx.DefaultLimits, tx.CodeMalformed},
		{"version 1 non-minimal", append([]byte{0x81, 0x00}, valid[1:]...), tx.DefaultLimits, tx.CodeMalformed},
		{"version truncated", []byte{0x81}, tx.DefaultLimits, tx.CodeMalformed},
		{"chain ID too long", mod(func(e *envelope) { e.chainID = strings.Repeat("c", tx.MaxChainIDLen+1) }), tx.DefaultLimits, tx.CodeMalformed},
		{"chain ID invalid UTF-8", mod(func(e *envelope) { e.chainID = "care\xffledger" }), tx.DefaultLimits, tx.CodeMalformed},
		{"chain ID past end", []byte{0x01, 0x40, 'c'}, tx.DefaultLimits, tx.CodeMalformed},
		{"signer truncated", valid[:1+1+len("careledger-test-1")+tx.PubKeySize-1], tx.DefaultLimits, tx.CodeMalformed},
		{"sequence 0", mod(func(e *envelope) { e.sequence = 0 }), tx.DefaultLimits, tx.CodeOK},
		{"sequence non-minimal", slices.Concat(valid[:seqAt], []byte{0x83, 0x00}, valid[seqAt+1:]), tx.DefaultLimits, tx.CodeMalformed},
		{"sequence overflow", slices.Concat(valid[:seqAt], bytes.Repeat([]byte{0xff}, 10), valid[seqAt+1:]), tx.DefaultLimits, tx.CodeMalformed},
		{"count non-minimal", slices.Concat(valid[:seqAt+1], []byte{0x81, 0x00}, valid[seqAt+2:]), tx.DefaultLimits, tx.CodeMalformed},
		{"message type non-minimal", mod(func(e *envelope) { e.msgsRaw = []byte{0x82, 0x00, 0x00} }), tx.DefaultLimits, tx.CodeMalformed},
		{"body length non-minimal", mod(func(e *envelope) { e.msgsRaw = []byte{0x02, 0x80, 0x00} }), tx.DefaultLimits, tx.CodeMalformed},
		{"no messages", mod(func(e *envelope) { e.count, e.msgs = 0, nil }), tx.DefaultLimits, tx.CodeMalformed},
		{"too many messages", mod(func(e *envelope) { e.count, e.msgs = uint64(len(tooMany)), tooMany }), tx.DefaultLimits, tx.CodeMalformed},
		{"huge message count", mod(func(e *envelope) { e.count = math.MaxUint64 }), tx.DefaultLimits, tx.CodeMalformed},
		{"count above messages", mod(func(e *envelope) { e.count = 2 }), tx.DefaultLimits, tx.CodeMalformed},
		{"count below messages", mod(func(e *envelope) { e.msgs = append(e.msgs, tx.Msg{Type: 1}) }), tx.DefaultLimits, tx.CodeMalformed},
		{"body length past end", mod(func(e *envelope) { e.msgsRaw = []byte{0x02, 0x7f, 'b', 'o', 'd', 'y'} }), tx.DefaultLimits, tx.CodeMalformed},
		{"body length over the tx limit", mod(func(e *envelope) { e.msgsRaw = []byte{0x02, 0x81, 0x80, 0x04} }), tx.DefaultLimits, tx.CodeMalformed},
		{"body length huge", mod(func(e *envelope) { e.msgsRaw = []byte{0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f} }), tx.DefaultLimits, tx.CodeMalformed},
		{"signature missing", mod(func(e *envelope) { e.sig = nil }), tx.DefaultLimits, tx.CodeMalformed},
		{"signature short", valid[:len(valid)-1], tx.DefaultLimits, tx.CodeMalformed},
		{"trailing byte", append(slices.Clone(valid), 0), tx.DefaultLimits, tx.CodeMalformed},
		{"over the limit", valid, tx.Limits{MaxTxBytes: len(valid) - 1}, tx.CodeOversized},
		{"at the limit", valid, tx.Limits{MaxTxBytes: len(valid)}, tx.CodeOK},
		{"over the default limit", make([]byte, tx.DefaultLimits.MaxTxBytes+1), tx.DefaultLimits, tx.CodeOversized},
		{"zero limits", valid, tx.Limits{}, tx.CodeOversized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tx.Decode(tc.in, tc.lim)
			what := fmt.Sprintf("Decode(%x, %+v)", tc.in, tc.lim)
			if tc.want == tx.CodeOK {
				if err != nil {
					t.Fatalf("%s = %v; want nil", what, err)
				}
				if re := got.Encode(); !bytes.Equal(re, tc.in) {
					t.Errorf("Encode(%s) = %x; want the input", what, re)
				}
				return
			}
			if got != nil {
				t.Errorf("%s = %+v; want nil", what, *got)
			}
			wantRejection(t, what, err, tc.want)
		})
	}
}

// TestDecodeRejectsEveryPrefix checks that no proper prefix of a valid
// transaction decodes.
func TestDecodeRejectsEveryPrefix(t *testing.T) {
	enc := signedTx(t, "prefix", tx.Msg{Type: 2, Body: []byte("abc")}, tx.Msg{Type: 300, Body: []byte{}}).Encode()
	for n := range len(enc) {
		_, err := tx.Decode(enc[:n], tx.DefaultLimits)
		wantRejection(t, fmt.Sprintf("Decode(first %d of %d bytes)", n, len(enc)), err, tx.CodeMalformed)
	}
}

// TestDecodeRejectionKeepsBodiesOut checks that a rejection's message does
// not quote the transaction's bytes, which may carry health data.
func TestDecodeRejectionKeepsBodiesOut(t *testing.T) {
	e := validEnvelope()
	e.msgs[0].Body = []byte("patient-secret")
	e.sig = e.sig[:10]
	_, err := tx.Decode(e.bytes(), tx.DefaultLimits)
	if err == nil || strings.Contains(err.Error(), "patient-secret") || strings.Contains(err.Error(), hex.EncodeToString([]byte("patient-secret"))) {
		t.Errorf("Decode() = %v; want a rejection that does not quote the body", err)
	}
}

func TestHash(t *testing.T) {
	enc := signedTx(t, "hash").Encode()
	h := tx.HashOf(enc)
	if want := sha256.Sum256(enc); h != want {
		t.Errorf("HashOf(%x) = %s; want SHA-256 %x", enc, h, want)
	}
	s := h.String()
	if len(s) != 2*tx.HashSize || strings.ToLower(s) != s {
		t.Errorf("Hash.String() = %q; want %d lowercase hex characters", s, 2*tx.HashSize)
	}
	for _, in := range []string{s, strings.ToUpper(s)} {
		if got, err := tx.ParseHash(in); err != nil || got != h {
			t.Errorf("ParseHash(%q) = %s, %v; want %s, nil", in, got, err, h)
		}
	}
	for _, bad := range []string{"", "00", s[:len(s)-1], s[:len(s)-2], s + "00", "zz" + s[2:], " " + s} {
		if got, err := tx.ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) = %s, nil; want an error", bad, got)
		}
	}

	type doc struct {
		Hash tx.Hash `json:"hash"`
	}
	b, err := json.Marshal(doc{h})
	if want := `{"hash":"` + s + `"}`; err != nil || string(b) != want {
		t.Errorf("json.Marshal(hash) = %s, %v; want %s, nil", b, err, want)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil || d.Hash != h {
		t.Errorf("json.Unmarshal(%s) = %s, %v; want %s, nil", b, d.Hash, err, h)
	}
	if err := json.Unmarshal([]byte(`{"hash":"abc"}`), &d); err == nil {
		t.Errorf(`json.Unmarshal({"hash":"abc"}) = nil; want an error`)
	}
}

func TestAddress(t *testing.T) {
	pub := testKey("address").PubKey().Bytes()
	sum := sha256.Sum256(append([]byte("careledger/account/v1"), pub...))
	var want tx.Address
	copy(want[:], sum[:tx.AddressSize])
	a := tx.AddressOf(pub)
	if a != want {
		t.Errorf("AddressOf(%x) = %s; want %x", pub, a, want)
	}
	if a == tx.AddressOf(testKey("another").PubKey().Bytes()) {
		t.Errorf("two keys have the same address %s", a)
	}
	s := a.String()
	if len(s) != 2*tx.AddressSize || strings.ToLower(s) != s {
		t.Errorf("Address.String() = %q; want %d lowercase hex characters", s, 2*tx.AddressSize)
	}
	if got, err := tx.ParseAddress(s); err != nil || got != a {
		t.Errorf("ParseAddress(%q) = %s, %v; want %s, nil", s, got, err, a)
	}
	for _, bad := range []string{"", s[:len(s)-2], s + "00", "0x" + s[2:], "g" + s[1:]} {
		if got, err := tx.ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) = %s, nil; want an error", bad, got)
		}
	}

	type doc struct {
		Address tx.Address `json:"address"`
	}
	b, err := json.Marshal(doc{a})
	if want := `{"address":"` + s + `"}`; err != nil || string(b) != want {
		t.Errorf("json.Marshal(address) = %s, %v; want %s, nil", b, err, want)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil || d.Address != a {
		t.Errorf("json.Unmarshal(%s) = %s, %v; want %s, nil", b, d.Address, err, a)
	}
	if err := json.Unmarshal([]byte(`{"address":"00"}`), &d); err == nil {
		t.Errorf(`json.Unmarshal({"address":"00"}) = nil; want an error`)
	}
}

func TestPubKeyText(t *testing.T) {
	pub := tx.PubKey(testKey("pubkey").PubKey().Bytes())
	s := pub.String()
	if s != hex.EncodeToString(pub) {
		t.Errorf("PubKey.String() = %q; want %q", s, hex.EncodeToString(pub))
	}
	if got, err := tx.ParsePubKey(s); err != nil || !bytes.Equal(got, pub) {
		t.Errorf("ParsePubKey(%q) = %s, %v; want %s, nil", s, got, err, pub)
	}
	for _, bad := range []string{"", s[:len(s)-2], s + "00", "xy" + s[2:]} {
		if got, err := tx.ParsePubKey(bad); err == nil {
			t.Errorf("ParsePubKey(%q) = %s, nil; want an error", bad, got)
		}
	}
	type doc struct {
		PubKey tx.PubKey `json:"pub_key"`
	}
	b, err := json.Marshal(doc{pub})
	if want := `{"pub_key":"` + s + `"}`; err != nil || string(b) != want {
		t.Errorf("json.Marshal(pub key) = %s, %v; want %s, nil", b, err, want)
	}
	var d doc
	if err := json.Unmarshal(b, &d); err != nil || !bytes.Equal(d.PubKey, pub) {
		t.Errorf("json.Unmarshal(%s) = %s, %v; want %s, nil", b, d.PubKey, err, pub)
	}
}

// TestCodeTable pins every code's number and name. The table is
// append-only: a failure here means a released code changed, which breaks
// every client and every stored result.
func TestCodeTable(t *testing.T) {
	want := []struct {
		code tx.Code
		num  uint32
		name string
	}{
		{tx.CodeOK, 0, "ok"},
		{tx.CodeMalformed, 1, "malformed"},
		{tx.CodeOversized, 2, "oversized"},
		{tx.CodeWrongChain, 3, "wrong_chain"},
		{tx.CodeBadSignature, 4, "bad_signature"},
		{tx.CodeSequenceReplayed, 5, "sequence_replayed"},
		{tx.CodeSequenceSkipped, 6, "sequence_skipped"},
		{tx.CodeUnknownMessage, 7, "unknown_message"},
		{tx.CodeUnknownSigner, 8, "unknown_signer"},
		{tx.CodeUnauthorized, 9, "unauthorized"},
		{tx.CodeWrongOrganization, 10, "wrong_organization"},
		{tx.CodeInvalid, 11, "invalid"},
		{tx.CodeNotFound, 12, "not_found"},
		{tx.CodeAlreadyExists, 13, "already_exists"},
		{tx.CodeSuspended, 14, "suspended"},
		{tx.CodeKeyInUse, 15, "key_in_use"},
		{tx.CodeBusy, 16, "busy"},
		{tx.CodeUnauthenticated, 17, "unauthenticated"},
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			if uint32(w.code) != w.num {
				t.Errorf("code %s = %d; want %d", w.name, uint32(w.code), w.num)
			}
			if got := w.code.String(); got != w.name {
				t.Errorf("Code(%d).String() = %q; want %q", w.num, got, w.name)
			}
		})
	}

	codes := tx.Codes()
	if len(codes) != len(want) {
		t.Errorf("len(Codes()) = %d; want %d (add new codes to this test)", len(codes), len(want))
	}
	seen := make(map[string]tx.Code)
	for i, c := range codes {
		if uint32(c) != uint32(i) {
			t.Errorf("Codes()[%d] = %d; want %d", i, uint32(c), i)
		}
		name := c.String()
		if name == "" || strings.HasPrefix(name, "code_") {
			t.Errorf("Code(%d).String() = %q; want a name", uint32(c), name)
		}
		if prev, dup := seen[name]; dup {
			t.Errorf("Code(%d).String() = %q; want unique, but Code(%d) has it too", uint32(c), name, uint32(prev))
		}
		seen[name] = c
	}
	unknown := tx.Code(len(codes))
	if got, want := unknown.String(), fmt.Sprintf("code_%d", len(codes)); got != want {
		t.Errorf("Code(%d).String() = %q; want %q", uint32(unknown), got, want)
	}
	if got := tx.Code(math.MaxUint32).String(); got != "code_4294967295" {
		t.Errorf("Code(MaxUint32).String() = %q; want %q", got, "code_4294967295")
	}
}

func TestRejection(t *testing.T) {
	rej := tx.Rejectf(tx.CodeSequenceSkipped, "sequence %d is ahead; next is %d", 5, 3)
	if got, want := rej.Error(), "sequence_skipped: sequence 5 is ahead; next is 3"; got != want {
		t.Errorf("Rejection.Error() = %q; want %q", got, want)
	}
	for _, tc := range []struct {
		name string
		err  error
		code tx.Code
		ok   bool
	}{
		{"nil", nil, tx.CodeOK, true},
		{"rejection", rej, tx.CodeSequenceSkipped, true},
		{"wrapped rejection", fmt.Errorf("deliver: %w", rej), tx.CodeSequenceSkipped, true},
		{"other error", errors.New("disk full"), 0, false},
		{"wrapped other error", fmt.Errorf("commit: %w", errors.New("disk full")), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, ok := tx.CodeOf(tc.err); code != tc.code || ok != tc.ok {
				t.Errorf("CodeOf(%v) = %v, %v; want %v, %v", tc.err, code, ok, tc.code, tc.ok)
			}
		})
	}
}

func TestLimitsConstants(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"DefaultLimits.MaxTxBytes", tx.DefaultLimits.MaxTxBytes, 65536},
		{"MaxChainIDLen", tx.MaxChainIDLen, 50},
		{"MaxMessages", tx.MaxMessages, 64},
		{"PubKeySize", tx.PubKeySize, 32},
		{"SignatureSize", tx.SignatureSize, 64},
		{"HashSize", tx.HashSize, 32},
		{"AddressSize", tx.AddressSize, 20},
		{"Version", tx.Version, 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d; want %d (docs/TRANSACTIONS.md documents it)", tc.name, tc.got, tc.want)
		}
	}
}
