package ledger_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract/contracttest"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/tx"
)

type mapStore = contracttest.Store

func balance(t *testing.T, s mapStore, acct string) uint64 {
	t.Helper()
	v, err := ledger.Balance(s, acct)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTransfer(t *testing.T) {
	s := mapStore{}
	if err := ledger.Credit(s, "payer", 10_000, ledger.Memo{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ledger.Transfer(s, "payer", "clinic", 2_500, ledger.Memo{Height: 2, Ref: [32]byte{7}}); err != nil {
		t.Fatal(err)
	}
	if p, c := balance(t, s, "payer"), balance(t, s, "clinic"); p != 7_500 || c != 2_500 {
		t.Errorf("balances after transfer = %d, %d; want 7500, 2500", p, c)
	}
	err := ledger.Transfer(s, "payer", "clinic", 7_501, ledger.Memo{Height: 2, Ref: [32]byte{7}})
	if !errors.Is(err, ledger.ErrShort) {
		t.Errorf("Transfer beyond the balance = %v; want ErrShort", err)
	}
	if code, _ := tx.CodeOf(err); code != tx.CodeInvalid {
		t.Errorf("code of a short transfer = %v; want invalid", code)
	}
	if p := balance(t, s, "payer"); p != 7_500 {
		t.Errorf("payer balance after a refused transfer = %d; want 7500", p)
	}
	if err := ledger.Transfer(s, "payer", "clinic", 7_500, ledger.Memo{Height: 2, Ref: [32]byte{7}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s["L/b/payer"]; ok {
		t.Error("an emptied balance keeps its key; want it deleted")
	}
}

func TestCreditBounds(t *testing.T) {
	s := mapStore{}
	if err := ledger.Credit(s, "payer", ledger.MaxAmount+1, ledger.Memo{Height: 1}); err == nil {
		t.Error("Credit(MaxAmount+1) = nil; want a rejection")
	}
	if err := ledger.Credit(s, "payer", ledger.MaxAmount, ledger.Memo{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ledger.Credit(s, "payer", 1, ledger.Memo{Height: 1}); err == nil {
		t.Error("Credit past MaxAmount = nil; want a rejection")
	}
	if ok, _ := ledger.CanPay(s, "payer", ledger.MaxAmount); !ok {
		t.Error("CanPay(balance) = false; want true")
	}
}

func TestAccountsDoNotCollide(t *testing.T) {
	s := mapStore{}
	var a tx.Address
	copy(a[:], "patient-address-0001")
	org := a.String() // 40 hex characters is a valid organization ID
	if err := ledger.Credit(s, ledger.Patient(a), 500, ledger.Memo{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ledger.Credit(s, ledger.Held("schedule"), 700, ledger.Memo{Height: 1}); err != nil {
		t.Fatal(err)
	}
	if v := balance(t, s, org); v != 0 {
		t.Errorf("Balance of organization %s = %d after crediting the patient of that address; want 0", org, v)
	}
	if p, h := balance(t, s, ledger.Patient(a)), balance(t, s, ledger.Held("schedule")); p != 500 || h != 700 {
		t.Errorf("patient and held balances = %d, %d; want 500, 700", p, h)
	}
}

// TestHistory: every change of a balance is an entry of the account's
// history, read newest first a page at a time.
func TestHistory(t *testing.T) {
	s := mapStore{}
	claim := [32]byte{0xab}
	steps := []error{
		ledger.Credit(s, "payer", 10_000, ledger.Memo{Height: 3}),
		ledger.Transfer(s, "payer", "clinic", 2_500, ledger.Memo{Height: 4, Ref: claim}),
		ledger.Transfer(s, "payer", "clinic", 9_000, ledger.Memo{Height: 5, Ref: claim}), // short: no entry
		ledger.Credit(s, "payer", 500, ledger.Memo{Height: 6}),
	}
	for i, err := range steps {
		if err != nil && i != 2 {
			t.Fatalf("step %d = %v", i, err)
		}
	}
	want := []ledger.Entry{
		{Seq: 2, Height: 6, Kind: ledger.KindDeposit, Amount: 500, Balance: 8_000},
		{Seq: 1, Height: 4, Kind: ledger.KindPaid, Amount: 2_500, Counterparty: "clinic", Ref: "ab" + strings.Repeat("00", 31), Balance: 7_500},
		{Seq: 0, Height: 3, Kind: ledger.KindDeposit, Amount: 10_000, Balance: 10_000},
	}
	got, err := ledger.History(s, "payer", math.MaxUint64, 10)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("History(payer) = %+v, %v; want %+v", got, err, want)
	}
	if page, _ := ledger.History(s, "payer", 2, 1); !slices.Equal(page, want[1:2]) {
		t.Errorf("History(payer, before 2, limit 1) = %+v; want %+v", page, want[1:2])
	}
	got, _ = ledger.History(s, "clinic", math.MaxUint64, 10)
	if len(got) != 1 || got[0].Kind != ledger.KindReceived || got[0].Counterparty != "payer" || got[0].Balance != 2_500 {
		t.Errorf("History(clinic) = %+v; want one received entry from payer", got)
	}
}
