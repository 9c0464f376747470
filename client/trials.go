package client

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/careledger/careledger/contract/trials"
)

// TrialDataset returns a trial's data commitment.
func (c *Client) TrialDataset(ctx context.Context, token, trial, dataset string) (trials.Dataset, error) {
	var d trials.Dataset
	err := c.do(ctx, "GET", "/v1/trials/"+url.PathEscape(trial)+"/datasets/"+url.PathEscape(dataset), nil, &d, bearer(token))
	return d, err
}

// TrialReport returns a trial's outcome-switching report, signed by the
// node, as JSON (careledger verify trial-report checks it).
func (c *Client) TrialReport(ctx context.Context, token, trial string) (json.RawMessage, error) {
	var r json.RawMessage
	err := c.do(ctx, "GET", "/v1/trials/"+url.PathEscape(trial)+"/report", nil, &r, bearer(token))
	return r, err
}
