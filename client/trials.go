package client

import (
	"context"
	"encoding/json"
	"net/url"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
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

// Recruitment returns a trial's published eligibility criteria and each
// custodian's count of matching patients: no patient is named.
func (c *Client) Recruitment(ctx context.Context, token, trial string) (v1.RecruitmentAnswer, error) {
	var a v1.RecruitmentAnswer
	err := c.do(ctx, "GET", "/v1/trials/"+url.PathEscape(trial)+"/recruitment", nil, &a, bearer(token))
	return a, err
}

// Recruit has the node's custodian evaluate the trial's current criteria
// over its opted-in patients now, invite the matching ones and publish
// their count. The token is an admin's or service member's of the node's
// organization.
func (c *Client) Recruit(ctx context.Context, token, trial string) (v1.RecruitAnswer, error) {
	var a v1.RecruitAnswer
	err := c.do(ctx, "POST", "/v1/trials/"+url.PathEscape(trial)+"/recruit", nil, &a, bearer(token))
	return a, err
}

// Invitations returns the patient's invitations to trials kept at this
// node (a custodian's: ask each node holding the patient's records). The
// token is the patient's or a delegate's.
func (c *Client) Invitations(ctx context.Context, token string, patient tx.Address) (v1.InvitationList, error) {
	var a v1.InvitationList
	err := c.do(ctx, "GET", "/v1/patients/"+patient.String()+"/invitations", nil, &a, bearer(token))
	return a, err
}
