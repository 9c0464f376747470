package epcisapi

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
)

// Peers fetches event bodies from the nodes of the organizations that
// captured them, as Patient/$everything gathers records: this node logs in
// there with its service key, so the capturing node applies its rule to
// this node's organization. Bodies are fetched only for members of this
// node's organization, whose rights those are.
type Peers struct {
	// Key is this node's service key; ChainID the network's.
	Key     ed25519.PrivKey
	ChainID string
	// URLs maps organization IDs to their nodes' API base URLs (the node's
	// custodians setting).
	URLs map[string]string

	mu     sync.Mutex
	tokens map[string]v1.TokenAnswer
}

// peerTimeout bounds one fetch; a peer that does not answer leaves the
// summary in place.
const peerTimeout = 5 * time.Second

// body returns the body of the event hashID from org's node, or false when
// there is no such node, it shows only a summary, or it fails.
func (p *Peers) body(ctx context.Context, org, hashID string) (json.RawMessage, bool) {
	if p == nil || p.URLs[org] == "" {
		return nil, false
	}
	base := p.URLs[org]
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	tok, err := p.token(ctx, base)
	if err != nil {
		return nil, false
	}
	var ev map[string]json.RawMessage
	var raw json.RawMessage
	if err := v1.Call(ctx, "GET", base+"/epcis/events/"+url.PathEscape(hashID), tok, nil, &raw); err != nil {
		p.forget(base)
		return nil, false
	}
	if json.Unmarshal(raw, &ev) != nil || ev["careledger:bodyWithheld"] != nil {
		return nil, false
	}
	return raw, true
}

func (p *Peers) token(ctx context.Context, base string) (string, error) {
	p.mu.Lock()
	t, ok := p.tokens[base]
	p.mu.Unlock()
	if ok && time.Until(t.ExpiresAt) > time.Minute {
		return t.Token, nil
	}
	login := func(ctx context.Context, method, path string, body, out any) error {
		return v1.Call(ctx, method, base+path, "", body, out)
	}
	t, err := v1.Login(ctx, login, p.ChainID, p.Key)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if p.tokens == nil {
		p.tokens = map[string]v1.TokenAnswer{}
	}
	p.tokens[base] = t
	p.mu.Unlock()
	return t.Token, nil
}

func (p *Peers) forget(base string) {
	p.mu.Lock()
	delete(p.tokens, base)
	p.mu.Unlock()
}
