package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/smart"
	"github.com/careledger/careledger/tx"
)

// Lifetimes of challenges and tokens.
const (
	ChallengeTTL = 2 * time.Minute
	TokenTTL     = 15 * time.Minute
)

// Auth issues challenges and bearer tokens. Both are stateless: they carry
// their expiry and an HMAC under the node's secret, so they survive nothing
// but the secret and need no storage.
type Auth struct {
	secret  []byte
	chainID string
	app     *app.App
	now     func() time.Time // nil: time.Now
}

func (a *Auth) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// seal returns kind.expiry.payload.mac in base64url parts.
func (a *Auth) seal(kind string, payload []byte, exp time.Time) string {
	e := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	enc := base64.RawURLEncoding
	body := kind + "." + enc.EncodeToString(e) + "." + enc.EncodeToString(payload)
	return body + "." + enc.EncodeToString(a.mac(body))
}

func (a *Auth) mac(body string) []byte {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// open checks a sealed string of the given kind and returns its payload.
func (a *Auth) open(kind, s string) ([]byte, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != kind {
		return nil, false
	}
	// Compare the MAC as text, not decoded: the decoder ignores CR and LF
	// and the unused bits of the last character, so decoding would accept
	// altered copies of a sealed string. The other parts are under the MAC
	// as text already.
	enc := base64.RawURLEncoding
	want := enc.EncodeToString(a.mac(strings.Join(parts[:3], ".")))
	if !hmac.Equal([]byte(parts[3]), []byte(want)) {
		return nil, false
	}
	e, err1 := enc.DecodeString(parts[1])
	payload, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(e) != 8 {
		return nil, false
	}
	if a.clock().Unix() > int64(binary.BigEndian.Uint64(e)) {
		return nil, false
	}
	return payload, true
}

func (a *Auth) challenge(w http.ResponseWriter, r *http.Request) {
	var req v1.ChallengeRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.PubKey) != tx.PubKeySize {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "pub_key is required"))
		return
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	exp := a.clock().Add(ChallengeTTL).Truncate(time.Second)
	c := a.seal("c", append(nonce, req.PubKey...), exp)
	writeJSON(w, http.StatusOK, v1.ChallengeAnswer{Challenge: c, ExpiresAt: exp.UTC()})
}

func (a *Auth) token(w http.ResponseWriter, r *http.Request) {
	var req v1.TokenRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	scopes, err := smart.Parse(req.Scope)
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	payload, ok := a.open("c", req.Challenge)
	if !ok || len(payload) != 16+tx.PubKeySize || string(payload[16:]) != string(req.PubKey) {
		writeError(w, tx.Rejectf(tx.CodeUnauthenticated, "challenge is invalid, expired or for another key"))
		return
	}
	sig, err := base64.StdEncoding.DecodeString(req.Signature)
	if err != nil || !ed25519.PubKey(req.PubKey).VerifySignature(v1.AuthSignBytes(a.chainID, req.Challenge), sig) {
		writeError(w, tx.Rejectf(tx.CodeBadSignature, "challenge signature does not verify"))
		return
	}
	acct, err := a.active(func(v identity.Reader) (*identity.Account, error) { return identity.Resolve(v, req.PubKey) })
	if err != nil {
		writeError(w, err)
		return
	}
	if scopes.Has(smart.System) && acct.Kind != identity.Member {
		writeError(w, tx.Rejectf(tx.CodeUnauthorized, "system/ scopes are for the accounts of organizations' members and services"))
		return
	}
	exp := a.clock().Add(TokenTTL).Truncate(time.Second)
	// The scopes are sealed with the account: a client cannot widen them.
	payload = append(append(acct.Address[:], acct.PubKey...), scopes.String()...)
	writeJSON(w, http.StatusOK, v1.TokenAnswer{
		Token:     a.seal("t", payload, exp),
		Address:   acct.Address,
		ExpiresAt: exp.UTC(),
		Scope:     scopes.String(),
	})
}

// active loads an account from committed state and requires it to exist and
// not be suspended.
func (a *Auth) active(load func(identity.Reader) (*identity.Account, error)) (*identity.Account, error) {
	acct, err := load(a.app.State())
	if err != nil {
		return nil, err
	}
	if acct == nil {
		return nil, tx.Rejectf(tx.CodeUnknownSigner, "key is not registered")
	}
	if acct.Suspended {
		return nil, tx.Rejectf(tx.CodeSuspended, "account %s is suspended", acct.Address)
	}
	return acct, nil
}

// Authenticate returns the account that the request's bearer token names,
// whatever scopes the token is limited to: for callers that serve nothing
// a scope limits (AuthenticateScopes says which).
func (a *Auth) Authenticate(r *http.Request) (*identity.Account, error) {
	acct, _, err := a.AuthenticateScopes(r)
	return acct, err
}

// AuthenticateScopes returns the account that the request's bearer token
// names and the SMART scopes the token is limited to (nil: not limited).
// The account is read from committed state on every call, so a suspension
// or key rotation takes effect at once, whatever tokens are outstanding.
func (a *Auth) AuthenticateScopes(r *http.Request) (*identity.Account, smart.Scopes, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, nil, tx.Rejectf(tx.CodeUnauthenticated, "an Authorization: Bearer token is required")
	}
	payload, ok := a.open("t", tok)
	const keyed = tx.AddressSize + tx.PubKeySize
	if !ok || len(payload) < keyed {
		return nil, nil, tx.Rejectf(tx.CodeUnauthenticated, "token is invalid or expired")
	}
	// Sealed by token, so canonical: it parses unless the secret leaked.
	scopes, err := smart.Parse(string(payload[keyed:]))
	if err != nil {
		return nil, nil, tx.Rejectf(tx.CodeUnauthenticated, "token is invalid or expired")
	}
	var addr tx.Address
	copy(addr[:], payload)
	acct, err := a.active(func(v identity.Reader) (*identity.Account, error) { return identity.LoadAccount(v, addr) })
	if err != nil {
		return nil, nil, err
	}
	if string(acct.PubKey) != string(payload[tx.AddressSize:keyed]) {
		return nil, nil, tx.Rejectf(tx.CodeUnauthenticated, "token was issued to a key the account has rotated away from")
	}
	return acct, scopes, nil
}
