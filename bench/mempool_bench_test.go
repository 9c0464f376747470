package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/tx"
)

// BenchmarkMempool measures a transaction's whole path through the
// application with a full mempool, as CometBFT drives it: CheckTx of every
// transaction, then blocks of 1,000, each followed by the recheck of every
// transaction still waiting. It is the path on which a transaction's
// message is decoded and validated once (at CheckTx) and reused by every
// recheck and by FinalizeBlock. CareLedger's transactions are patient
// registrations (an empty body) and consent grants (a body of about 200
// bytes with a CEL condition, from patients registered beforehand, not
// timed); the baseline in the same run is CometBFT's kvstore. One op is one
// transaction.
//
//	go test -run=^$ -bench=BenchmarkMempool -benchtime=5000x ./bench
func BenchmarkMempool(b *testing.B) {
	b.Run("app=kvstore", func(b *testing.B) {
		kv := kvstore.NewPersistentApplication(b.TempDir())
		txs := (&kvTxs{}).make(b.N)
		b.ResetTimer()
		runMempool(b, kv, txs, 1)
	})
	b.Run("app=careledger/msg=register_patient", func(b *testing.B) {
		a := newApp(b)
		txs := registrations(apptest.ChainID, b.N)
		b.ResetTimer()
		runMempool(b, a, txs, 2)
	})
	b.Run("app=careledger/msg=grant", func(b *testing.B) {
		a := newApp(b)
		txs := grants(b, a, b.N)
		b.ResetTimer()
		runMempool(b, a, txs, 2+int64(b.N+999)/1000)
	})
}

// runMempool checks every transaction, then executes them in blocks of
// 1,000 from height, rechecking those still waiting after each block, and
// requires every one to succeed.
func runMempool(b *testing.B, a abci.Application, txs [][]byte, height int64) {
	ctx := context.Background()
	check := func(raw []byte, typ abci.CheckTxType) {
		if res, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw, Type: typ}); err != nil || res.Code != 0 {
			b.Fatalf("CheckTx = %v, %v", res, err)
		}
	}
	for _, raw := range txs {
		check(raw, abci.CheckTxType_New)
	}
	for start := 0; start < len(txs); start += 1000 {
		end := min(start+1000, len(txs))
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: height, Time: apptest.BlockTime(height), Txs: txs[start:end]})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("tx failed: %v", r)
			}
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		height++
		for _, raw := range txs[end:] {
			check(raw, abci.CheckTxType_Recheck)
		}
	}
}

// grants registers n patients in blocks from height 2 and returns one
// signed grant of each, to an organization's physicians for treatment under
// a condition.
func grants(b *testing.B, a abci.Application, n int) [][]byte {
	keys := make([]ed25519.PrivKey, n)
	regs := make([][]byte, n)
	out := make([][]byte, n)
	parallel(n, func(i int) {
		keys[i] = ed25519.GenPrivKey()
		regs[i] = sign(keys[i], 0, contract.Encode(identity.RegisterPatient{}))
		g := consent.Grant{
			Patient: tx.AddressOf(keys[i].PubKey().Bytes()), Grantee: consent.Grantee{Org: apptest.OrgA, Role: identity.Physician},
			Scope:    consent.Scope{Types: []string{"Observation", "Condition"}, Categories: []string{"laboratory"}},
			Purposes: []string{"TREAT", "ETREAT"}, NotAfter: 4102444800, // 2100-01-01
			Condition: fmt.Sprintf(`purpose == "TREAT" || break_glass || now.getFullYear() < %d`, 2100),
		}
		out[i] = sign(keys[i], 1, contract.Encode(g))
	})
	runMempool(b, a, regs, 2)
	return out
}

func sign(key ed25519.PrivKey, seq uint64, m tx.Msg) []byte {
	t := &tx.Tx{ChainID: apptest.ChainID, Signer: key.PubKey().Bytes(), Sequence: seq, Msgs: []tx.Msg{m}}
	if err := t.Sign(key); err != nil {
		panic(err) // signing with a well-formed key cannot fail
	}
	return t.Encode()
}
