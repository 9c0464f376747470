package fhirapi

// The HTTP requests a node sends to its peers for Patient/$everything. The
// node does not import package client (a client of the API, which nothing
// in the node imports); the request and answer types and what a key signs
// to log in are api/v1's, which client shares.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/tx"
)

// login proves this node's service key to the peer whose API is at base
// and returns a bearer token: the peer's challenge, signed for the peer's
// chain, exchanged for a token.
func (p *Peers) login(ctx context.Context, base string) (v1.TokenAnswer, error) {
	var st v1.Status
	if err := peerJSON(ctx, "GET", base+"/v1/status", nil, &st); err != nil {
		return v1.TokenAnswer{}, err
	}
	pub := tx.PubKey(p.Key.PubKey().Bytes())
	var ch v1.ChallengeAnswer
	if err := peerJSON(ctx, "POST", base+"/v1/auth/challenge", v1.ChallengeRequest{PubKey: pub}, &ch); err != nil {
		return v1.TokenAnswer{}, err
	}
	sig, err := p.Key.Sign(v1.AuthSignBytes(st.ChainID, ch.Challenge))
	if err != nil {
		return v1.TokenAnswer{}, err
	}
	var tok v1.TokenAnswer
	err = peerJSON(ctx, "POST", base+"/v1/auth/token", v1.TokenRequest{
		PubKey: pub, Challenge: ch.Challenge, Signature: base64.StdEncoding.EncodeToString(sig),
	}, &tok)
	return tok, err
}

// peerJSON sends a request with a JSON body (none if body is nil) to a
// peer's JSON API and decodes the answer into out. An error answer becomes
// an error with its code and message.
func peerJSON(ctx context.Context, method, url string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var e struct {
		Error *v1.Error `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		return fmt.Errorf("%s %s: %s (code %d): %s", method, url, e.Error.Name, e.Error.Code, e.Error.Message)
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: HTTP %d", method, url, res.StatusCode)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, url, err)
	}
	return nil
}

// peerFHIR reads url from a peer's FHIR API with this node's bearer token,
// on behalf of who, with who's purpose of use and break-the-glass. It
// returns the HTTP status and the body.
func peerFHIR(ctx context.Context, url, token string, who custodian.Requester) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	if who.Purpose != "" {
		req.Header.Set("X-Purpose-Of-Use", who.Purpose)
	}
	if who.BreakGlass {
		req.Header.Set("X-Break-Glass", "true")
	}
	req.Header.Set(onBehalfOf, who.Account.Address.String())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
