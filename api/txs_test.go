package api

import (
	"encoding/json"
	"testing"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// TestTxAnswerJSON checks that a transaction's answer, now of api/v1's
// types, encodes exactly as it did when it embedded tracker.Result and
// carried an app.TxResult: the client decodes it with the v1 types alone.
func TestTxAnswerJSON(t *testing.T) {
	type before struct {
		tracker.Result
		CodeName string        `json:"code_name"`
		Detail   *app.TxResult `json:"result,omitempty"`
	}
	committed := &app.TxResult{
		Hash: tx.Hash{1}, Height: 7, Index: 2, Signer: tx.Address{3}, Sequence: 4, Msgs: []string{"identity/register_patient"},
		Code: tx.CodeInvalid, Log: "no", Events: []contract.Event{{Type: "t", Attrs: []contract.Attr{{Key: "k", Value: "v"}}, Accounts: []tx.Address{{5}}}},
	}
	for _, tc := range []struct {
		name   string
		res    tracker.Result
		detail *app.TxResult
	}{
		{"pending", tracker.Result{Hash: tx.Hash{1}, Status: tracker.Pending}, nil},
		{"rejected", tracker.Result{Hash: tx.Hash{1}, Status: tracker.Rejected, Code: tx.CodeBadSignature, Log: "bad"}, nil},
		{"committed", tracker.Result{Hash: tx.Hash{1}, Status: tracker.Committed, Code: tx.CodeInvalid, Log: "no", Height: 7, Index: 2}, committed},
		{"committed, no events", tracker.Result{Hash: tx.Hash{1}, Status: tracker.Committed, Height: 7}, &app.TxResult{Hash: tx.Hash{1}, Height: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(before{Result: tc.res, CodeName: tc.res.Code.String(), Detail: tc.detail})
			if err != nil {
				t.Fatal(err)
			}
			a := txAnswer(tc.res)
			a.Detail = txResult(tc.detail)
			got, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("answer of %+v encodes as\n%s\nwant\n%s", tc.res, got, want)
			}
		})
	}
}
