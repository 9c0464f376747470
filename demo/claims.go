package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
	"github.com/careledger/careledger/keys"
	"github.com/careledger/careledger/tx"
)

// The demo's payer: Acme Health covers every demo patient under one plan,
// with a small policy and a funded account, so that the host hospital's
// billing agent can submit a claim and see it adjudicated and paid.
const (
	Payer = "acme-health"
	Plan  = "acme-gold"
	// Biller is the host hospital's claims agent.
	Biller = "billing"
	// PayerFunds is what the payer deposits, in minor units.
	PayerFunds = 100_000_000
)

// Policy is the demo payer's policy table (policycsv's format), in force
// from 2000-01-01: an office visit, a lab panel and a venipuncture that
// is bundled with the visit, and an MRI that needs a prior authorization.
const Policy = `fee,99213,,125.50
fee,99214,,180
fee,80053,,11
fee,36415,,3.25
fee,70551,,900
pair,99214,36415,0
units,80053,1
rule,mri-needs-auth,auth,,"code == ""70551"""
`

// Coverage returns the coverage ID the demo payer gives a patient: a
// pseudonym derived from the account, never a member number.
func Coverage(patient tx.Address) string { return "cov-" + patient.String()[:8] }

// seedClaims gives the payer its plan, policy and funds (once, with the
// first patients) and covers each new patient from 2000 on.
func seedClaims(ctx context.Context, c *client.Client, dir keys.Dir, patients []Account, first bool) error {
	if len(patients) == 0 {
		return nil
	}
	admin, err := dir.Load(adminKey(Payer), nil)
	if err != nil {
		return fmt.Errorf("demo admin key: %w", err)
	}
	var msgs []tx.Msg
	if first {
		loads, err := policycsv.Read(strings.NewReader(Policy), Payer, 1, 0)
		if err != nil {
			return err
		}
		msgs = append(msgs, contract.Encode(claims.RegisterPlan{Payer: Payer, Plan: Plan, Deductible: 10_000, Coinsurance: 2_000, Copay: 2_000, OOPMax: 400_000, YearStart: 101}))
		for _, l := range loads {
			msgs = append(msgs, contract.Encode(l))
		}
		msgs = append(msgs, contract.Encode(claims.PolicyPublish{Payer: Payer, Version: 1, Effective: 20000101}),
			contract.Encode(claims.Deposit{Payer: Payer, Amount: PayerFunds}))
	}
	for _, p := range patients {
		msgs = append(msgs, contract.Encode(claims.RegisterCoverage{Payer: Payer, Coverage: Coverage(p.Address), Plan: Plan, Patient: p.Address, Start: 20000101}))
	}
	if _, err := c.Send(ctx, admin, msgs...); err != nil {
		return fmt.Errorf("demo payer: %w", err)
	}
	return nil
}
