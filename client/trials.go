package client

import (
	"context"
	"encoding/json"
	"net/url"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/trials"
)

// Trial returns a trial with its protocol versions.
func (c *Client) Trial(ctx context.Context, token, trial string) (v1.TrialAnswer, error) {
	var a v1.TrialAnswer
	err := c.do(ctx, "GET", "/v1/trials/"+url.PathEscape(trial), nil, &a, bearer(token))
	return a, err
}

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
