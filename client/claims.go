package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"

	v1 "github.com/careledger/careledger/api/v1"
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
