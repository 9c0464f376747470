package fhirapi

// The HTTP requests a node sends to its peers for Patient/$everything. The
// node does not import package client (a client of the API, which nothing
// in the node imports); the request and answer types and what a key signs
// to log in are api/v1's, which client shares.

import (
	"context"
	"io"
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/custodian"
)

// login proves this node's service key to the peer whose API is at base
// and returns a bearer token: the peer's challenge, signed for the peer's
// chain, exchanged for a token.
func (p *Peers) login(ctx context.Context, base string) (v1.TokenAnswer, error) {
	var st v1.Status
	if err := v1.Call(ctx, "GET", base+"/v1/status", "", nil, &st); err != nil {
		return v1.TokenAnswer{}, err
	}
	call := func(ctx context.Context, method, path string, body, out any) error {
		return v1.Call(ctx, method, base+path, "", body, out)
	}
	return v1.Login(ctx, call, st.ChainID, p.Key)
}

// peerFHIR reads url from a peer's FHIR API with this node's bearer token,
// on behalf of who, with who's purpose of use and break-the-glass. It
// returns the HTTP status and the body.
func peerFHIR(ctx context.Context, url, token string, who custodian.Requester, delegation string) (int, []byte, error) {
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
		req.Header.Set(GlassReasonHeader, who.GlassReason)
	}
	req.Header.Set(onBehalfOf, who.Account.Address.String())
	if delegation != "" {
		req.Header.Set(delegationHeader, delegation)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
