package index_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/index"
	"github.com/careledger/careledger/tx"
)

func addr(n byte) tx.Address {
	var a tx.Address
	for i := range a {
		a[i] = n
	}
	return a
}

func hash(height int64, i int) tx.Hash {
	return tx.HashOf([]byte(fmt.Sprintf("tx %d/%d", height, i)))
}

var (
	alice, bob, carol, dave = addr(1), addr(2), addr(3), addr(4)
)

// result returns the result of transaction i of block height, signed by
// signer, with one event per group of accounts.
func result(height int64, i int, signer tx.Address, accounts ...[]tx.Address) app.TxResult {
	r := app.TxResult{
		Hash:     hash(height, i),
		Height:   height,
		Index:    i,
		Signer:   signer,
		Sequence: uint64(10*height) + uint64(i),
		Msgs:     []string{"identity.register_patient"},
	}
	for j, as := range accounts {
		r.Events = append(r.Events, contract.Event{
			Type:     "identity.patient_registered",
			Attrs:    []contract.Attr{{Key: "patient", Value: fmt.Sprintf("p-%d-%d-%d", height, i, j)}, {Key: "empty", Value: ""}},
			Accounts: as,
		})
	}
	return r
}

// testBlocks returns three blocks. Alice signs or is named in transactions
// (1,0), (1,2), (2,1) and (3,0); (1,2) names her twice.
func testBlocks() []*app.Block {
	return []*app.Block{
		{Height: 1, Txs: []app.TxResult{
			result(1, 0, alice, []tx.Address{bob}),
			result(1, 1, bob),
			result(1, 2, carol, []tx.Address{alice, carol}, []tx.Address{alice}),
		}},
		{Height: 2, Txs: []app.TxResult{
			// A transaction that did not decode: no signer, no messages.
			{Hash: hash(2, 0), Height: 2, Index: 0, Code: tx.CodeMalformed, Log: "decode transaction: truncated"},
			result(2, 1, bob, []tx.Address{alice}),
		}},
		{Height: 3, Txs: []app.TxResult{
			result(3, 0, alice),
		}},
	}
}

// open opens the index in dir and closes it at the end of the test.
func open(t *testing.T, dir string) *index.Index {
	t.Helper()
	x, err := index.Open(dir)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func indexBlocks(t *testing.T, x *index.Index, blocks []*app.Block) {
	t.Helper()
	for _, b := range blocks {
		if err := x.IndexBlock(b); err != nil {
			t.Fatalf("IndexBlock(height %d) = %v; want nil", b.Height, err)
		}
	}
}

// checkTxs requires that every transaction of blocks reads back unchanged.
func checkTxs(t *testing.T, x *index.Index, blocks []*app.Block) {
	t.Helper()
	for _, b := range blocks {
		for _, want := range b.Txs {
			got, err := x.Tx(want.Hash)
			if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
				t.Errorf("Tx(%s) = %+v, %v; want %+v", want.Hash, got, err, want)
			}
		}
	}
}

func TestTx(t *testing.T) {
	x := open(t, t.TempDir())
	blocks := testBlocks()
	indexBlocks(t, x, blocks)
	checkTxs(t, x, blocks)

	unknown := tx.HashOf([]byte("never committed"))
	if got, err := x.Tx(unknown); got != nil || err != nil {
		t.Errorf("Tx(unknown) = %+v, %v; want nil, nil", got, err)
	}
}

// hashesOf returns the (height, index) of each result.
func hashesOf(rs []*app.TxResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%d/%d", r.Height, r.Index))
	}
	return out
}

func TestAccountTxs(t *testing.T) {
	x := open(t, t.TempDir())
	indexBlocks(t, x, testBlocks())
	tests := []struct {
		account tx.Address
		before  int64
		limit   int
		want    []string
	}{
		{alice, 0, 10, []string{"3/0", "2/1", "1/2", "1/0"}},
		{alice, 0, 2, []string{"3/0", "2/1"}},
		{alice, 3, 10, []string{"2/1", "1/2", "1/0"}},
		{alice, 2, 1, []string{"1/2"}},
		{alice, 1, 10, nil},
		{alice, 0, 0, nil},
		{bob, 0, 10, []string{"2/1", "1/1", "1/0"}},
		{carol, 0, 10, []string{"1/2"}},
		{dave, 0, 10, nil},
	}
	for _, tc := range tests {
		got, err := x.AccountTxs(tc.account, tc.before, tc.limit)
		if err != nil || !reflect.DeepEqual(hashesOf(got), tc.want) {
			t.Errorf("AccountTxs(%s, %d, %d) = %v, %v; want %v", tc.account, tc.before, tc.limit, hashesOf(got), err, tc.want)
		}
	}
}

func TestHeight(t *testing.T) {
	x := open(t, t.TempDir())
	if h, err := x.Height(); h != 0 || err != nil {
		t.Errorf("Height() of an empty index = %d, %v; want 0, nil", h, err)
	}
	for _, b := range testBlocks() {
		indexBlocks(t, x, []*app.Block{b})
		if h, err := x.Height(); h != b.Height || err != nil {
			t.Errorf("Height() after block %d = %d, %v; want %d, nil", b.Height, h, err, b.Height)
		}
	}
	empty := &app.Block{Height: 4}
	indexBlocks(t, x, []*app.Block{empty})
	if h, err := x.Height(); h != 4 || err != nil {
		t.Errorf("Height() after an empty block 4 = %d, %v; want 4, nil", h, err)
	}
}

// snapshot is everything the index answers about testBlocks.
type snapshot struct {
	height int64
	txs    map[tx.Hash]app.TxResult
	byAcct map[tx.Address][]string
}

func read(t *testing.T, x *index.Index) snapshot {
	t.Helper()
	s := snapshot{txs: make(map[tx.Hash]app.TxResult), byAcct: make(map[tx.Address][]string)}
	var err error
	if s.height, err = x.Height(); err != nil {
		t.Fatalf("Height() = %v; want nil", err)
	}
	for _, b := range testBlocks() {
		for _, r := range b.Txs {
			got, err := x.Tx(r.Hash)
			if err != nil || got == nil {
				t.Fatalf("Tx(%s) = %v, %v; want a result", r.Hash, got, err)
			}
			s.txs[r.Hash] = *got
		}
	}
	for _, a := range []tx.Address{alice, bob, carol, dave} {
		got, err := x.AccountTxs(a, 0, 100)
		if err != nil {
			t.Fatalf("AccountTxs(%s) = %v; want nil", a, err)
		}
		s.byAcct[a] = hashesOf(got)
	}
	return s
}

// TestReopen checks that a closed index opens again with everything in it.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	x, err := index.Open(dir)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	blocks := testBlocks()
	indexBlocks(t, x, blocks)
	before := read(t, x)
	if err := x.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	x = open(t, dir)
	checkTxs(t, x, blocks)
	if after := read(t, x); !reflect.DeepEqual(after, before) {
		t.Errorf("reopened index answers %+v; want %+v", after, before)
	}
}

// TestReindex checks that indexing the last block again, as a node does
// when it replays the block after a crash, changes nothing.
func TestReindex(t *testing.T) {
	x := open(t, t.TempDir())
	blocks := testBlocks()
	indexBlocks(t, x, blocks)
	before := read(t, x)
	indexBlocks(t, x, blocks[len(blocks)-1:])
	if after := read(t, x); !reflect.DeepEqual(after, before) {
		t.Errorf("after indexing block %d again the index answers %+v; want %+v", len(blocks), after, before)
	}
}

// TestCorruptHeight checks that a damaged height record is an error, not a
// height.
func TestCorruptHeight(t *testing.T) {
	dir := t.TempDir()
	x, err := index.Open(dir)
	if err != nil {
		t.Fatalf("Open(%q) = %v; want nil", dir, err)
	}
	indexBlocks(t, x, testBlocks())
	if err := x.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	db, err := leveldb.OpenFile(filepath.Join(dir, "index.db"), nil)
	if err != nil {
		t.Fatalf("open index db: %v", err)
	}
	if err := db.Put([]byte("h"), binary.BigEndian.AppendUint32(nil, 3), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	x = open(t, dir)
	if h, err := x.Height(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Height() with a 4-byte record = %d, %v; want an error saying corrupt", h, err)
	}
}
