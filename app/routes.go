package app

import (
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/condition"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

// contracts lists the state machine's contracts. Adding a contract is one
// line here and its own package.
func contracts(engine *condition.Engine) []contract.Contract {
	c := consent.New(engine)
	return []contract.Contract{
		identity.Describe(),
		records.Describe(),
		c.Describe(),
		(&governance.Contract{Policy: c}).Describe(),
		supply.New(engine).Describe(),
		claims.New(engine).Describe(),
		schedule.Describe(),
		rewards.New(engine).Describe(),
		ledger.Describe(),
		trials.New(engine).Describe(),
	}
}

// NewRouter returns the message table of the state machine's contracts,
// refusing two that claim one type number, message name or event type.
func NewRouter() (*contract.Router, error) {
	r, err := contract.NewRouter(contracts(condition.NewEngine(1024))...)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	return r, nil
}

// checkedTx is a transaction that passed every check needing no state: it
// decoded within the size limit, names this chain, its signature verifies,
// and each of its messages decodes and validates. It is decoded once, at
// submission or CheckTx, and reused by rechecks and FinalizeBlock.
type checkedTx struct {
	tx         *tx.Tx
	specs      []*contract.MsgSpec
	msgs       []contract.Msg
	open       bool // every message may come from an unregistered key
	maxTxBytes int  // the size limit it was decoded under
}

// checkMsgs decodes and validates every message of t.
func (a *App) checkMsgs(t *tx.Tx, maxTxBytes int) (*checkedTx, error) {
	c := &checkedTx{
		tx: t, open: true, maxTxBytes: maxTxBytes,
		specs: make([]*contract.MsgSpec, len(t.Msgs)), msgs: make([]contract.Msg, len(t.Msgs)),
	}
	for i, m := range t.Msgs {
		var err error
		if c.specs[i], c.msgs[i], err = a.router.Decode(i, m); err != nil {
			return nil, err
		}
		c.open = c.open && c.specs[i].Open
	}
	return c, nil
}

// Router returns the application's message table.
func (a *App) Router() *contract.Router { return a.router }
