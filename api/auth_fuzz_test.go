package api

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/state"
	"github.com/careledger/careledger/tx"
)

// fuzzNow is the fixed clock of the fuzz target, so that the sealed seeds in
// testdata/fuzz/FuzzOpenToken stay unexpired: they were sealed with
// fuzzAuth's secret to expire at fuzzNow plus TokenTTL.
var fuzzNow = time.Unix(1_750_000_000, 0)

// fuzzAuth returns an authenticator with a fixed secret and clock over an
// empty state, in which no key is registered.
func fuzzAuth(t testing.TB, secret byte) *Auth {
	t.Helper()
	a, err := app.New(state.OpenMemory(), app.Config{ChainID: "careledger-fuzz"})
	if err != nil {
		t.Fatal(err)
	}
	return &Auth{
		secret:  bytes.Repeat([]byte{secret}, 32),
		chainID: a.ChainID(),
		app:     a,
		now:     func() time.Time { return fuzzNow },
	}
}

// resealed returns what seal makes of a string that open accepted, by
// reading its expiry back; ok is false if the expiry part does not decode.
func resealed(a *Auth, kind, s string, payload []byte) (string, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return "", false
	}
	e, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || len(e) != 8 {
		return "", false
	}
	return a.seal(kind, payload, time.Unix(int64(binary.BigEndian.Uint64(e)), 0)), true
}

// FuzzOpenToken feeds untrusted strings to the parsers of sealed challenges
// and tokens. None may panic, and only a string seal produced with the same
// secret (byte for byte) may open.
func FuzzOpenToken(f *testing.F) {
	a := fuzzAuth(f, 1)
	other := fuzzAuth(f, 2)
	key := ed25519.GenPrivKeyFromSecret([]byte("fuzz"))
	pub := tx.PubKey(key.PubKey().Bytes())
	var addr tx.Address
	f.Add(a.seal("t", append(addr[:], pub...), fuzzNow.Add(TokenTTL)))
	f.Add(a.seal("c", append(make([]byte, 16), pub...), fuzzNow.Add(ChallengeTTL)))
	f.Add(a.seal("t", append(append(addr[:], pub...), "patient/Observation.rs user/*.cruds"...), fuzzNow.Add(TokenTTL)))

	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []string{"c", "t"} {
			payload, ok := a.open(kind, s)
			if !ok {
				if payload != nil {
					t.Fatalf("open(%q, %q) refused but returned payload %x", kind, s, payload)
				}
				continue
			}
			if want, ok := resealed(a, kind, s, payload); !ok || want != s {
				t.Fatalf("open(%q, %q) accepted a string seal does not produce (seal gives %q)", kind, s, want)
			}
			if _, ok := other.open(kind, s); ok {
				t.Fatalf("open(%q, %q) accepted under another secret", kind, s)
			}
		}

		// Authenticate reads the bearer token from a header. Nobody is
		// registered, so nothing may authenticate.
		r := httptest.NewRequest("GET", "/v1/auth/whoami", nil)
		r.Header.Set("Authorization", "Bearer "+s)
		if acct, err := a.Authenticate(r); err == nil {
			t.Fatalf("Authenticate(Bearer %q) = %+v; want an error", s, acct)
		} else if code, _ := tx.CodeOf(err); code != tx.CodeUnauthenticated && code != tx.CodeUnknownSigner {
			t.Fatalf("Authenticate(Bearer %q) error = %v; want unauthenticated or unknown_signer", s, err)
		}

		// The token handler opens s as a challenge, signed properly, so that
		// a challenge that opens gets as far as the account lookup.
		sig, err := key.Sign(v1.AuthSignBytes(a.chainID, s))
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(v1.TokenRequest{PubKey: pub, Challenge: s, Signature: base64.StdEncoding.EncodeToString(sig)})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		a.token(w, httptest.NewRequest("POST", "/v1/auth/token", bytes.NewReader(body)))
		if w.Code == http.StatusOK {
			t.Fatalf("token(challenge %q) = 200 %s; want a refusal", s, w.Body)
		}
	})
}
