// Package ledger keeps the network's payment balances: one integer balance
// in minor units (cents) of one currency per account. An account is an
// organization ID, a patient's account (Patient: "@" and the address in
// hex) or money a contract holds (Held: "#" and a name, such as the
// scheduling escrow or a reward program's pool); organization IDs hold
// neither "@" nor "#", so the three never collide. Balances never go
// negative and change only by the functions here, which contracts call
// under their own rules: a payer's deposit mints (Credit), a claim's
// settlement, a booking's deposit or a reward moves money (Transfer).
//
// Each balance is one key, "L/b/ACCOUNT", holding its value as a uvarint,
// so a transfer reads and writes two keys whatever the ledger's size. Each
// change of a balance also appends an entry to the account's history
// ("L/h/ACCOUNT \0 SEQ", SEQ 8 bytes big-endian, counted in "L/n/ACCOUNT"),
// so that the history is state every node holds alike, read a page at a
// time by sequence number (see history.go).
//
// ledger imports contract, identity, tx and wire.
package ledger

import (
	"fmt"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// MaxAmount bounds any balance and any amount moved: 10^15 minor units,
// ten trillion of the currency, far below what overflows an int64 sum.
const MaxAmount = 1_000_000_000_000_000

// Patient returns the ledger account of the patient at addr.
func Patient(addr tx.Address) string { return "@" + addr.String() }

// Held returns the ledger account in which a contract holds money it does
// not own yet: name is the contract's name and, if the contract keeps one
// account per thing it holds for, "/" and that thing's ID.
func Held(name string) string { return "#" + name }

func balanceKey(account string) []byte { return append([]byte("L/b/"), account...) }

// Balance returns account's balance in minor units (0 for an account never
// credited).
func Balance(s identity.Reader, account string) (uint64, error) {
	b, err := s.Get(balanceKey(account))
	if err != nil || b == nil {
		return 0, err
	}
	r := wire.NewReader(b)
	v := r.Uint()
	if err := r.Done(); err != nil {
		return 0, fmt.Errorf("decode balance: %w", err)
	}
	return v, nil
}

func setBalance(s contract.Store, account string, v uint64) error {
	if v == 0 {
		return s.Delete(balanceKey(account))
	}
	w := wire.NewWriter(10)
	w.Uint(v)
	return s.Set(balanceKey(account), w.Bytes())
}

// Credit adds amount to account's balance: money entering the ledger, a
// deposit in its history. It rejects an amount or a resulting balance above
// MaxAmount.
func Credit(s contract.Store, account string, amount uint64, m Memo) error {
	if err := credit(s, account, amount); err != nil {
		return err
	}
	return record(s, account, Entry{Kind: KindDeposit, Amount: amount}, m)
}

func credit(s contract.Store, account string, amount uint64) error {
	if amount > MaxAmount {
		return tx.Rejectf(tx.CodeInvalid, "amount %d exceeds %d", amount, MaxAmount)
	}
	v, err := Balance(s, account)
	if err != nil {
		return err
	}
	if v+amount > MaxAmount {
		return tx.Rejectf(tx.CodeInvalid, "balance of %s would exceed %d", account, MaxAmount)
	}
	return setBalance(s, account, v+amount)
}

// ErrShort is the rejection's reason when a balance cannot cover a
// transfer; callers that queue a payment instead test for it with CanPay.
var ErrShort = tx.Rejectf(tx.CodeInvalid, "balance too low")

// CanPay reports whether account's balance covers amount.
func CanPay(s identity.Reader, account string, amount uint64) (bool, error) {
	v, err := Balance(s, account)
	return v >= amount, err
}

// Transfer moves amount from one account to another, rejecting a transfer
// the sender's balance does not cover: no balance goes negative. Each
// account's history gets an entry naming the other.
func Transfer(s contract.Store, from, to string, amount uint64, m Memo) error {
	if amount == 0 || from == to {
		return nil
	}
	if amount > MaxAmount {
		return tx.Rejectf(tx.CodeInvalid, "amount %d exceeds %d", amount, MaxAmount)
	}
	v, err := Balance(s, from)
	if err != nil {
		return err
	}
	if v < amount {
		return fmt.Errorf("transfer from %s: %w", from, ErrShort)
	}
	if err := setBalance(s, from, v-amount); err != nil {
		return err
	}
	if err := credit(s, to, amount); err != nil {
		return err
	}
	if err := record(s, from, Entry{Kind: KindPaid, Amount: amount, Counterparty: to}, m); err != nil {
		return err
	}
	return record(s, to, Entry{Kind: KindReceived, Amount: amount, Counterparty: from}, m)
}
