package v1

import (
	"time"

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
}

// TokenAnswer is its answer.
type TokenAnswer struct {
	Token     string     `json:"token"`
	Address   tx.Address `json:"address"`
	ExpiresAt time.Time  `json:"expires_at"`
}
