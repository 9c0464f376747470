package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/ledger"
)

// LedgerAccount returns an organization's ledger balance, the length of
// its history and the claims' benefits it owes or is owed that wait for a
// payer's funds.
func (c *Client) LedgerAccount(ctx context.Context, token, org string) (v1.LedgerAccount, error) {
	var a v1.LedgerAccount
	return a, c.do(ctx, http.MethodGet, "/v1/ledger/"+url.PathEscape(org), nil, &a, bearer(token))
}

// LedgerHistory returns up to limit (0: the node's default) of an
// organization's ledger entries with a seq below before (0: from the
// latest), newest first.
func (c *Client) LedgerHistory(ctx context.Context, token, org string, before uint64, limit int) ([]ledger.Entry, error) {
	q := url.Values{}
	if before > 0 {
		q.Set("before", fmt.Sprint(before))
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var h v1.LedgerHistory
	err := c.do(ctx, http.MethodGet, "/v1/ledger/"+url.PathEscape(org)+"/history?"+q.Encode(), nil, &h, bearer(token))
	return h.Entries, err
}

// Claim returns a claim's adjudication and appeals.
func (c *Client) Claim(ctx context.Context, token string, id [32]byte) (v1.ClaimAnswer, error) {
	var a v1.ClaimAnswer
	return a, c.do(ctx, http.MethodGet, "/v1/claims/"+hex.EncodeToString(id[:]), nil, &a, bearer(token))
}

// ClaimQuery selects a page of an organization's claims: by Status (one
// of claims.Statuses, "" any), by dates of service From and To (YYYYMMDD,
// 0: no bound), below seq Before (0: from the newest), at most Limit (0:
// the node's default).
type ClaimQuery struct {
	Status   string
	From, To uint32
	Before   uint64
	Limit    int
}

// Claims returns a page of the claims org is the payer or the provider of,
// newest first; the answer's Next, when not 0, is the next page's Before.
func (c *Client) Claims(ctx context.Context, token, org string, cq ClaimQuery) (v1.ClaimList, error) {
	q := url.Values{}
	if cq.Status != "" {
		q.Set("status", cq.Status)
	}
	if cq.From != 0 {
		q.Set("from", fmt.Sprint(cq.From))
	}
	if cq.To != 0 {
		q.Set("to", fmt.Sprint(cq.To))
	}
	if cq.Before > 0 {
		q.Set("before", fmt.Sprint(cq.Before))
	}
	if cq.Limit > 0 {
		q.Set("limit", fmt.Sprint(cq.Limit))
	}
	var l v1.ClaimList
	return l, c.do(ctx, http.MethodGet, "/v1/orgs/"+url.PathEscape(org)+"/claims?"+q.Encode(), nil, &l, bearer(token))
}

// Policies returns a payer's policy versions: published ones oldest
// first, then drafts still loading.
func (c *Client) Policies(ctx context.Context, token, payer string) ([]claims.PolicyVersion, error) {
	var l v1.PolicyList
	err := c.do(ctx, http.MethodGet, "/v1/orgs/"+url.PathEscape(payer)+"/policies", nil, &l, bearer(token))
	return l.Versions, err
}
