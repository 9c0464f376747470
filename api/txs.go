package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// SubmitRequest is the body of POST /v1/txs.
type SubmitRequest struct {
	// Tx is the encoded, signed transaction in standard base64.
	Tx string `json:"tx"`
	// Wait is "commit" to answer once the transaction is final (committed,
	// or dropped), or "" to answer once the mempool accepted it.
	Wait string `json:"wait,omitempty"`
	// TimeoutMS bounds the wait. Default 10000, at most 60000.
	TimeoutMS int `json:"timeout_ms,omitempty"`
}

// BatchRequest is the body of POST /v1/txs/batch.
type BatchRequest struct {
	// Txs are encoded, signed transactions in standard base64, submitted
	// in this order.
	Txs []string `json:"txs"`
}

// BatchAnswer is the answer of POST /v1/txs/batch: one answer for each
// transaction, in the order submitted.
type BatchAnswer struct {
	Results []TxAnswer `json:"results"`
}

// maxBatch is the most transactions POST /v1/txs/batch takes at once.
const maxBatch = 1000

// TxAnswer is the answer of POST /v1/txs and GET /v1/txs/{hash}.
type TxAnswer struct {
	tracker.Result
	CodeName string        `json:"code_name"`
	Detail   *app.TxResult `json:"result,omitempty"` // for committed transactions
}

func (s *Server) submitTx(w http.ResponseWriter, r *http.Request) {
	var req SubmitRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(req.Tx)
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "tx is not standard base64"))
		return
	}
	if req.Wait != "" && req.Wait != "commit" {
		writeError(w, tx.Rejectf(tx.CodeInvalid, `wait must be "" or "commit"`))
		return
	}
	res, err := s.b.Tracker.Submit(raw)
	if err != nil {
		writeError(w, err)
		return
	}
	if res.Status == tracker.Rejected {
		s.metrics.rejected(res.Code, "submit")
	}
	if res.Status == tracker.Pending && req.Wait == "commit" {
		timeout := time.Duration(min(max(req.TimeoutMS, 0), 60000)) * time.Millisecond
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		res, err = s.b.Tracker.Wait(ctx, res.Hash)
		cancel()
		if err != nil {
			writeError(w, err)
			return
		}
	}
	s.writeTx(w, res)
}

// submitBatch submits transactions together: their signatures are verified
// in batches and the accepted ones journaled in one write, which a client
// with many transactions at hand (an interface engine's backlog) can use.
// Each gets its own answer; the request fails as a whole only if it cannot
// be read.
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) {
	var req BatchRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Txs) == 0 || len(req.Txs) > maxBatch {
		writeError(w, tx.Rejectf(tx.CodeInvalid, "a batch holds 1 to %d transactions, not %d", maxBatch, len(req.Txs)))
		return
	}
	raws := make([][]byte, len(req.Txs))
	for i, t := range req.Txs {
		var err error
		if raws[i], err = base64.StdEncoding.DecodeString(t); err != nil {
			writeError(w, tx.Rejectf(tx.CodeMalformed, "txs[%d] is not standard base64", i))
			return
		}
	}
	results, err := s.b.Tracker.SubmitAll(raws...)
	if err != nil {
		writeError(w, err)
		return
	}
	answer := BatchAnswer{Results: make([]TxAnswer, len(results))}
	for i, res := range results {
		if res.Status == tracker.Rejected {
			s.metrics.rejected(res.Code, "submit")
		}
		answer.Results[i] = TxAnswer{Result: res, CodeName: res.Code.String()}
	}
	writeJSON(w, http.StatusOK, answer)
}

func (s *Server) getTx(w http.ResponseWriter, r *http.Request) {
	h, err := tx.ParseHash(r.PathValue("hash"))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	res, err := s.b.Tracker.Status(h)
	if err != nil {
		writeError(w, err)
		return
	}
	if res.Status == tracker.Unknown {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "transaction %s is unknown to this node", h))
		return
	}
	s.writeTx(w, res)
}

// writeTx answers with a transaction's status. A pending transaction gets
// 202; a final one the status of its code.
func (s *Server) writeTx(w http.ResponseWriter, res tracker.Result) {
	a := TxAnswer{Result: res, CodeName: res.Code.String()}
	if res.Status == tracker.Committed {
		full, err := s.b.Index.Tx(res.Hash)
		if err != nil {
			writeError(w, err)
			return
		}
		a.Detail = full
	}
	status := HTTPStatus(res.Code)
	if res.Status == tracker.Pending {
		status = http.StatusAccepted
	}
	writeJSON(w, status, a)
}

func (s *Server) accountTxs(w http.ResponseWriter, r *http.Request) {
	addr, err := tx.ParseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
		return
	}
	before, limit, err := pageParams(r)
	if err != nil {
		writeError(w, err)
		return
	}
	txs, err := s.b.Index.AccountTxs(addr, before, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	if txs == nil {
		txs = []*app.TxResult{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"txs": txs})
}

// pageParams reads ?before=HEIGHT&limit=N (default 50, at most 500).
func pageParams(r *http.Request) (before int64, limit int, err error) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, tx.Rejectf(tx.CodeInvalid, "limit must be 1-500")
		}
	}
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return 0, 0, tx.Rejectf(tx.CodeInvalid, "before must be a positive height")
		}
	}
	return before, limit, nil
}
