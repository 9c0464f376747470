package client

import (
	"context"
	"net/url"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/tx"
)

// Balance returns a patient's ledger account and balance.
func (c *Client) Balance(ctx context.Context, token string, patient tx.Address) (v1.BalanceAnswer, error) {
	var a v1.BalanceAnswer
	err := c.do(ctx, "GET", "/v1/patients/"+patient.String()+"/balance", nil, &a, bearer(token))
	return a, err
}

// Rewarded returns what reward program id rewarded patient in all, and
// what of it the program holds for them to redeem (rewards.Redeem).
func (c *Client) Rewarded(ctx context.Context, token, id string, patient tx.Address) (rewards.Received, error) {
	var a rewards.Received
	err := c.do(ctx, "GET", "/v1/programs/"+url.PathEscape(id)+"/patients/"+patient.String(), nil, &a, bearer(token))
	return a, err
}

// Slots returns a provider's schedule and its slots in time order.
func (c *Client) Slots(ctx context.Context, token, provider, schedule string) (v1.SlotList, error) {
	var a v1.SlotList
	err := c.do(ctx, "GET", "/v1/schedules/"+url.PathEscape(provider)+"/"+url.PathEscape(schedule)+"/slots", nil, &a, bearer(token))
	return a, err
}

// Program returns a reward program.
func (c *Client) Program(ctx context.Context, token, id string) (rewards.Program, error) {
	var a rewards.Program
	err := c.do(ctx, "GET", "/v1/programs/"+url.PathEscape(id), nil, &a, bearer(token))
	return a, err
}

// Schedules returns the schedules provider published.
func (c *Client) Schedules(ctx context.Context, token, provider string) (v1.ScheduleList, error) {
	var a v1.ScheduleList
	err := c.do(ctx, "GET", "/v1/orgs/"+url.PathEscape(provider)+"/schedules", nil, &a, bearer(token))
	return a, err
}

// Programs returns every reward program.
func (c *Client) Programs(ctx context.Context, token string) (v1.ProgramList, error) {
	var a v1.ProgramList
	err := c.do(ctx, "GET", "/v1/programs", nil, &a, bearer(token))
	return a, err
}
