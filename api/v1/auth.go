package v1

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// AuthDomain prefixes what a key signs to log in, so that a login signature
// can never be a transaction signature.
const AuthDomain = "careledger/auth/v1\n"

// AuthSignBytes returns what a key signs to answer challenge on chainID.
func AuthSignBytes(chainID, challenge string) []byte {
	w := wire.NewWriter(len(AuthDomain) + len(chainID) + len(challenge) + 4)
	w.Raw([]byte(AuthDomain))
	w.String(chainID)
	w.String(challenge)
	return w.Bytes()
}

// DelegationDomain prefixes what an account signs to let one organization's
// node ask other custodians for its records on its behalf.
const DelegationDomain = "careledger/delegate/v1\n"

// DelegationSignBytes returns what an account signs to let org's node act
// for it at other custodians on chainID until expiresAt (Unix seconds).
// The signature travels in the X-Delegation header (fhirapi).
func DelegationSignBytes(chainID, org string, expiresAt int64) []byte {
	w := wire.NewWriter(len(DelegationDomain) + len(chainID) + len(org) + 16)
	w.Raw([]byte(DelegationDomain))
	w.String(chainID)
	w.String(org)
	w.Uint(uint64(expiresAt))
	return w.Bytes()
}

// ChallengeRequest is the body of POST /v1/auth/challenge.
type ChallengeRequest struct {
	PubKey tx.PubKey `json:"pub_key"`
}

// ChallengeAnswer is its answer: the challenge to sign with AuthSignBytes.
type ChallengeAnswer struct {
	Challenge string    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TokenRequest is the body of POST /v1/auth/token.
type TokenRequest struct {
	PubKey    tx.PubKey `json:"pub_key"`
	Challenge string    `json:"challenge"`
	Signature string    `json:"signature"` // base64 Ed25519 over AuthSignBytes
	// Scope optionally limits the token to SMART v2 resource scopes,
	// space-separated (package smart); "" asks for a token not limited.
	Scope string `json:"scope,omitempty"`
}

// TokenAnswer is its answer.
type TokenAnswer struct {
	Token     string     `json:"token"`
	Address   tx.Address `json:"address"`
	ExpiresAt time.Time  `json:"expires_at"`
	// Scope is the scopes granted, in canonical form; "" when not limited.
	Scope string `json:"scope,omitempty"`
}

// Caller sends a request with a JSON body (none if body is nil) to a node's
// API at path, such as "/v1/auth/token", and decodes the answer into out.
type Caller func(ctx context.Context, method, path string, body, out any) error

// Login proves that the caller holds key to a node of chain chainID and
// returns a bearer token: the node's challenge, signed with AuthSignBytes,
// exchanged for a token. The Go client and a node reaching its peers both
// log in so.
func Login(ctx context.Context, call Caller, chainID string, key ed25519.PrivKey) (TokenAnswer, error) {
	return LoginScoped(ctx, call, chainID, key, "")
}

// LoginScoped is Login for a token limited to scope (TokenRequest.Scope).
func LoginScoped(ctx context.Context, call Caller, chainID string, key ed25519.PrivKey, scope string) (TokenAnswer, error) {
	pub := tx.PubKey(key.PubKey().Bytes())
	var ch ChallengeAnswer
	if err := call(ctx, "POST", "/v1/auth/challenge", ChallengeRequest{PubKey: pub}, &ch); err != nil {
		return TokenAnswer{}, err
	}
	sig, err := key.Sign(AuthSignBytes(chainID, ch.Challenge))
	if err != nil {
		return TokenAnswer{}, err
	}
	var tok TokenAnswer
	err = call(ctx, "POST", "/v1/auth/token", TokenRequest{
		PubKey: pub, Challenge: ch.Challenge, Signature: base64.StdEncoding.EncodeToString(sig), Scope: scope,
	}, &tok)
	return tok, err
}
