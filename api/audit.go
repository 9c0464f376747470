package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/audit/auditdb"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/disclosure"
	"github.com/careledger/careledger/tx"
)

func auditError(w http.ResponseWriter, err error) {
	if errors.Is(err, auditdb.ErrNotFound) {
		err = tx.Rejectf(tx.CodeNotFound, "%v", err)
	}
	writeError(w, err)
}

func uintParam(name, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, tx.Rejectf(tx.CodeMalformed, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// certified returns the newest checkpoint whose app hash a committed
// header holds: the one after the block before the latest.
func (s *Server) certified() (*audit.Checkpoint, error) {
	return s.b.Audit.Checkpoint(s.b.Blocks.Height() - 1)
}

func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) {
	h, err := strconv.ParseInt(r.PathValue("height"), 10, 64)
	if err != nil || h < 1 {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "height must be a positive integer"))
		return
	}
	c, err := s.b.Audit.Checkpoint(h)
	if err != nil {
		auditError(w, err)
		return
	}
	a := v1.CheckpointAnswer{Checkpoint: *c}
	if a.SignedHeader, err = s.signedHeader(h + 1); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// signedHeader returns block h's header and commit, or nil if the node
// does not hold them yet.
func (s *Server) signedHeader(h int64) (json.RawMessage, error) {
	blk := s.b.Blocks.LoadBlock(h)
	commit := s.b.Blocks.LoadBlockCommit(h)
	if commit == nil {
		commit = s.b.Blocks.LoadSeenCommit(h)
	}
	if blk == nil || commit == nil {
		return nil, nil
	}
	return audit.NewSignedHeader(&blk.Header, commit)
}

func (s *Server) getAuditEvent(w http.ResponseWriter, r *http.Request) {
	i, err := uintParam("index", r.PathValue("index"))
	if err != nil {
		writeError(w, err)
		return
	}
	e, err := s.event(i)
	if err != nil {
		auditError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// event reads and decodes leaf i of the log.
func (s *Server) event(i uint64) (v1.EventAnswer, error) {
	leaf, err := s.b.Audit.Leaf(i)
	if err != nil {
		return v1.EventAnswer{}, err
	}
	ev, err := audit.DecodeEvent(leaf)
	return v1.EventAnswer{Index: i, Leaf: leaf, Event: ev}, err
}

// queryUints returns the named query parameters as integers.
func queryUints(r *http.Request, names ...string) ([]uint64, error) {
	q := r.URL.Query()
	out := make([]uint64, len(names))
	for i, name := range names {
		var err error
		if out[i], err = uintParam(name, q.Get(name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) {
	ns, err := queryUints(r, "index", "size")
	if err != nil {
		writeError(w, err)
		return
	}
	i, size := ns[0], ns[1]
	root, err := s.b.Audit.Root(size)
	if err != nil {
		auditError(w, err)
		return
	}
	p, err := s.b.Audit.InclusionProof(i, size)
	if err != nil {
		auditError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v1.InclusionAnswer{Index: i, Size: size, Root: root, Proof: p})
}

func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) {
	ns, err := queryUints(r, "from", "to")
	if err != nil {
		writeError(w, err)
		return
	}
	from, to := ns[0], ns[1]
	if from > to {
		writeError(w, tx.Rejectf(tx.CodeInvalid, "from must not exceed to"))
		return
	}
	a := v1.ConsistencyAnswer{From: from, To: to, Proof: [][]byte{}}
	if a.FromRoot, err = s.b.Audit.Root(from); err == nil {
		a.ToRoot, err = s.b.Audit.Root(to)
	}
	if err == nil && from > 0 && from < to {
		a.Proof, err = s.b.Audit.ConsistencyProof(from, to)
	}
	if err != nil {
		auditError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// getBundle serves a self-contained proof of event index, certified by the
// newest block whose commit the node holds.
func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) {
	i, err := uintParam("index", r.PathValue("index"))
	if err != nil {
		writeError(w, err)
		return
	}
	c, err := s.certifiedCheckpoint()
	if err != nil {
		auditError(w, err)
		return
	}
	if i >= c.Size {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "event %d is not certified yet (the certified log has %d events); ask again after the next block", i, c.Size))
		return
	}
	e, err := s.event(i)
	if err != nil {
		auditError(w, err)
		return
	}
	p, err := s.b.Audit.InclusionProof(i, c.Size)
	if err != nil {
		auditError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, audit.Bundle{
		ChainID: s.b.App.ChainID(), Index: i, Leaf: e.Leaf, Event: e.Event, LogSize: c.Size, LogRoot: c.Root,
		Inclusion: p, StateRoot: c.StateRoot, Height: c.Height, SignedHeader: c.SignedHeader,
	})
}

// certifiedCheckpoint returns the newest certified checkpoint with the
// signed header of the block that carries its app hash.
func (s *Server) certifiedCheckpoint() (*audit.Certified, error) {
	c, err := s.certified()
	if err != nil {
		return nil, err
	}
	sh, err := s.signedHeader(c.Height + 1)
	if err != nil {
		return nil, err
	}
	if sh == nil {
		return nil, tx.Rejectf(tx.CodeNotFound, "block %d or its commit is not at this node", c.Height+1)
	}
	return &audit.Certified{Checkpoint: *c, SignedHeader: sh}, nil
}

// disclosures serves the accounting of disclosures of a patient: JSON (the
// signed, verifiable report), CSV or a printable HTML page.
func (s *Server) disclosures(w http.ResponseWriter, r *http.Request) {
	// The route's rule, patient(address), lets only the patient, a
	// delegate, an auditor or a privacy officer this far.
	patient, err := pathAddress(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	to, from := time.Now().UTC(), time.Time{}
	for name, t := range map[string]*time.Time{"to": &to, "from": &from} {
		if v := q.Get(name); v != "" {
			if *t, err = time.Parse(time.RFC3339, v); err != nil {
				writeError(w, tx.Rejectf(tx.CodeMalformed, "%s must be an RFC 3339 time", name))
				return
			}
		}
	}
	if from.IsZero() {
		from = to.AddDate(-6, 0, 0) // 164.528(a): the six years before the request
	}
	cp, err := s.certifiedCheckpoint()
	if err != nil {
		auditError(w, err)
		return
	}
	orgOf := func(a tx.Address) string {
		acct, err := identity.LoadAccount(s.b.App.State(), a)
		if err != nil || acct == nil {
			return ""
		}
		return acct.Org
	}
	rep, err := disclosure.BuildReport(s.b.Audit.Cached(), s.b.App.ChainID(), patient, from, to, q.Get("all") == "true", cp, orgOf)
	if err == nil {
		err = rep.Sign(s.b.ReportKey)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	s.hub.Notify(v1.StreamEvent{Height: rep.Height, Time: time.Now().UTC(), Type: "audit.accounting_compiled",
		Attrs: []contract.Attr{{Key: "patient", Value: patient.String()}, {Key: "entries", Value: strconv.Itoa(len(rep.Entries))}}, Accounts: []tx.Address{patient}})
	switch q.Get("format") {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		disclosure.WriteCSV(w, rep)
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		disclosure.WriteHTML(w, rep)
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// listAuditEvents serves GET /v1/audit/events: the events that concern an
// account or name an organization, or all, within a time range, in log
// order, from index after on.
func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, tx.Rejectf(tx.CodeMalformed, "limit must be 1 to 1000"))
			return
		}
		limit = n
	}
	var from, to time.Time
	for name, t := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := q.Get(name); v != "" {
			var err error
			if *t, err = time.Parse(time.RFC3339, v); err != nil {
				writeError(w, tx.Rejectf(tx.CodeMalformed, "%s must be an RFC 3339 time", name))
				return
			}
		}
	}
	var start uint64
	var err error
	if !from.IsZero() {
		if start, err = s.b.Audit.FirstAt(from); err != nil {
			writeError(w, err)
			return
		}
	}
	end := uint64(1<<63 - 1)
	if !to.IsZero() {
		if end, err = s.b.Audit.FirstAt(to); err != nil {
			writeError(w, err)
			return
		}
	}
	if v := q.Get("after"); v != "" {
		n, err := uintParam("after", v)
		if err != nil {
			writeError(w, err)
			return
		}
		start = max(start, n+1)
	}
	var idx []uint64
	switch {
	case q.Get("account") != "":
		a, err := tx.ParseAddress(q.Get("account"))
		if err != nil {
			writeError(w, tx.Rejectf(tx.CodeMalformed, "%v", err))
			return
		}
		idx, err = s.b.Audit.AccountEvents(a, start, limit)
	case q.Get("org") != "":
		idx, err = s.b.Audit.OrgEvents(q.Get("org"), start, limit)
	default:
		for i := start; i < start+uint64(limit); i++ {
			idx = append(idx, i)
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := v1.EventList{Events: []v1.EventAnswer{}}
	for _, i := range idx {
		if i >= end {
			break
		}
		e, err := s.event(i)
		if errors.Is(err, auditdb.ErrNotFound) {
			break
		}
		if err != nil {
			writeError(w, err)
			return
		}
		out.Events = append(out.Events, e)
	}
	writeJSON(w, http.StatusOK, out)
}
