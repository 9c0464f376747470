package ledger

import (
	"strconv"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// TypeSend is the ledger's one message type, ledger/send.
const TypeSend uint64 = 127

// EventSent is the event of a transfer between accounts.
const EventSent = "ledger.sent"

// Send moves Amount minor units from the signer's account to an
// organization (ToOrg) or a patient (ToPatient), exactly one of them. From
// is "" for the signer's own patient account, or the organization whose
// account pays, of which the signer is an admin or claims agent: a payer
// or an employer funding a patient's account, or a patient paying a
// provider or redeeming to a payer.
type Send struct {
	From      string     `json:"from,omitempty"`
	ToOrg     string     `json:"to_org,omitempty"`
	ToPatient tx.Address `json:"to_patient"`
	Amount    uint64     `json:"amount"`
}

func (Send) Type() uint64 { return TypeSend }

func (m Send) EncodeTo(w *wire.Writer) {
	w.String(m.From)
	w.String(m.ToOrg)
	w.Raw(m.ToPatient[:])
	w.Uint(m.Amount)
}

func readSend(r *wire.Reader) Send {
	m := Send{From: r.String(64), ToOrg: r.String(64)}
	copy(m.ToPatient[:], r.Raw(tx.AddressSize))
	m.Amount = r.Uint()
	return m
}

func (m Send) validate() error {
	if m.Amount == 0 || m.Amount > MaxAmount {
		return tx.Rejectf(tx.CodeInvalid, "amount must be 1 to %d", uint64(MaxAmount))
	}
	if m.From != "" {
		if err := identity.ValidateOrgID(m.From); err != nil {
			return err
		}
	}
	if (m.ToOrg == "") == (m.ToPatient == tx.Address{}) {
		return tx.Rejectf(tx.CodeInvalid, "name exactly one of to_org and to_patient")
	}
	if m.ToOrg != "" {
		return identity.ValidateOrgID(m.ToOrg)
	}
	return nil
}

// Describe returns the ledger's description as a contract: its send
// message. The other contracts move money by this package's functions.
func Describe() contract.Contract {
	return contract.Contract{
		Name:   "ledger",
		Msgs:   []contract.MsgSpec{contract.Message("ledger/send", readSend, Send.validate, send)},
		Events: []contract.EventSpec{{Type: EventSent, Action: "U"}},
	}
}

func send(ctx *contract.Context, m Send) error {
	from, err := payingAccount(ctx, m.From)
	if err != nil {
		return err
	}
	to := m.ToOrg
	accounts := []tx.Address{ctx.Signer}
	if to != "" {
		o, err := identity.LoadOrg(ctx.Store, to)
		if err != nil {
			return err
		}
		if o == nil || o.Removed {
			return tx.Rejectf(tx.CodeNotFound, "organization %s is not a member of the network", to)
		}
	} else {
		if _, err := identity.RequirePatient(ctx.Store, m.ToPatient); err != nil {
			return err
		}
		to = Patient(m.ToPatient)
		accounts = append(accounts, m.ToPatient)
	}
	if err := Transfer(ctx.Store, from, to, m.Amount, Memo{Height: ctx.Height}); err != nil {
		return err
	}
	ctx.Emit(contract.Event{
		Type:     EventSent,
		Attrs:    []contract.Attr{{Key: "from", Value: from}, {Key: "to", Value: to}, {Key: "amount", Value: strconv.FormatUint(m.Amount, 10)}},
		Accounts: accounts,
	})
	return nil
}

// payingAccount is the account a transfer signed by ctx.Signer pays from.
func payingAccount(ctx *contract.Context, org string) (string, error) {
	if org == "" {
		if _, err := identity.RequirePatient(ctx.Store, ctx.Signer); err != nil {
			return "", err
		}
		return Patient(ctx.Signer), nil
	}
	if _, err := identity.RequireRole(ctx, org, identity.Admin, identity.ClaimsAgent); err != nil {
		return "", err
	}
	return org, nil
}
