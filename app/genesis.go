package app

import (
	"encoding/json"
	"fmt"

	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// Genesis is the application state in CometBFT's genesis.json (app_state).
type Genesis struct {
	Params Params `json:"params"`
	identity.Genesis
	// Consent is the network's default access policy and CEL cost limit.
	Consent consent.Policy `json:"consent"`
}

// Params are network parameters held in state.
type Params struct {
	// MaxTxBytes is the largest transaction accepted. Default 65536.
	MaxTxBytes int `json:"max_tx_bytes"`
}

// DefaultParams are the parameters of a genesis that sets none.
func DefaultParams() Params { return Params{MaxTxBytes: tx.DefaultLimits.MaxTxBytes} }

// Validate checks the parameters.
func (p Params) Validate() error {
	if p.MaxTxBytes < 1024 || p.MaxTxBytes > 4<<20 {
		return fmt.Errorf("max_tx_bytes %d outside 1024..4194304", p.MaxTxBytes)
	}
	return nil
}

func (p Params) limits() tx.Limits { return tx.Limits{MaxTxBytes: p.MaxTxBytes} }

var paramsKey = []byte("p/params")

func (p Params) encode() []byte {
	w := wire.NewWriter(8)
	w.Uint(uint64(p.MaxTxBytes))
	return w.Bytes()
}

func decodeParams(b []byte) (Params, error) {
	r := wire.NewReader(b)
	p := Params{MaxTxBytes: int(r.Uint())}
	if err := r.Done(); err != nil {
		return p, fmt.Errorf("decode params: %w", err)
	}
	return p, nil
}

// ParseGenesis decodes and validates the application genesis state.
func ParseGenesis(b []byte) (*Genesis, error) {
	g := &Genesis{Params: DefaultParams()}
	if err := json.Unmarshal(b, g); err != nil {
		return nil, fmt.Errorf("parse app genesis: %w", err)
	}
	if err := g.Params.Validate(); err != nil {
		return nil, fmt.Errorf("app genesis params: %w", err)
	}
	if err := g.Genesis.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}
