package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/tracker"
	"github.com/careledger/careledger/tx"
)

// maxBatch is the most transactions POST /v1/txs/batch takes at once.
const maxBatch = 1000

func (s *Server) submitTx(w http.ResponseWriter, r *http.Request) {
	var req v1.SubmitRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(req.Tx)
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "tx is not standard base64"))
		return
	}
	wait, err := waitFor(req.Wait, req.TimeoutMS)
	if err != nil {
		writeError(w, err)
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
	results := []tracker.Result{res}
	if err := s.await(r.Context(), results, wait); err != nil {
		writeError(w, err)
		return
	}
	s.writeTx(w, results[0])
}

// waitFor reads a submission's wait and timeout_ms: how long to wait for
// commits, 0 for not at all.
func waitFor(wait string, timeoutMS int) (time.Duration, error) {
	switch wait {
	case "":
		return 0, nil
	case "commit":
		if timeoutMS <= 0 {
			return 10 * time.Second, nil
		}
		return time.Duration(min(timeoutMS, 60000)) * time.Millisecond, nil
	}
	return 0, tx.Rejectf(tx.CodeInvalid, `wait must be "" or "commit"`)
}

// await replaces each pending result with what is known once it is final,
// or once timeout has passed for all of them.
func (s *Server) await(ctx context.Context, results []tracker.Result, timeout time.Duration) error {
	if timeout == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, res := range results {
		if res.Status != tracker.Pending {
			continue
		}
		var err error
		if results[i], err = s.b.Tracker.Wait(ctx, res.Hash); err != nil {
			return err
		}
	}
	return nil
}

// submitBatch submits transactions together: their signatures are verified
// in batches and the accepted ones journaled in one write, which a client
// with many transactions at hand (an interface engine's backlog) can use.
// Each gets its own answer; the request fails as a whole only if it cannot
// be read.
func (s *Server) submitBatch(w http.ResponseWriter, r *http.Request) {
	var req v1.BatchRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Txs) == 0 || len(req.Txs) > maxBatch {
		writeError(w, tx.Rejectf(tx.CodeInvalid, "a batch holds 1 to %d transactions, not %d", maxBatch, len(req.Txs)))
		return
	}
	wait, err := waitFor(req.Wait, req.TimeoutMS)
	if err != nil {
		writeError(w, err)
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
	for _, res := range results {
		if res.Status == tracker.Rejected {
			s.metrics.rejected(res.Code, "submit")
		}
	}
	if err := s.await(r.Context(), results, wait); err != nil {
		writeError(w, err)
		return
	}
	answer := v1.BatchAnswer{Results: make([]v1.TxAnswer, len(results))}
	for i, res := range results {
		if answer.Results[i], err = s.answer(res); err != nil {
			writeError(w, err)
			return
		}
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
	a, err := s.answer(res)
	if err != nil {
		writeError(w, err)
		return
	}
	status := HTTPStatus(res.Code)
	if res.Status == tracker.Pending {
		status = http.StatusAccepted
	} else {
		setRetryAfter(w, res.Code)
	}
	writeJSON(w, status, a)
}

// answer is a transaction's status, with its full result once committed.
func (s *Server) answer(res tracker.Result) (v1.TxAnswer, error) {
	a := txAnswer(res)
	if res.Status == tracker.Committed {
		full, err := s.b.Index.Tx(res.Hash)
		if err != nil {
			return a, err
		}
		a.Detail = txResult(full)
	}
	return a, nil
}

// txAnswer is what the tracker knows of a transaction, as the API answers
// it.
func txAnswer(res tracker.Result) v1.TxAnswer {
	return v1.TxAnswer{
		Hash: res.Hash, Status: string(res.Status), Code: res.Code, Log: res.Log, Height: res.Height, Index: res.Index,
		CodeName: res.Code.String(),
	}
}

// txResult is a committed transaction's result as the API answers it (the
// conversion keeps the two types' fields the same); nil for nil.
func txResult(r *app.TxResult) *v1.TxResult {
	if r == nil {
		return nil
	}
	d := v1.TxResult(*r)
	return &d
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
