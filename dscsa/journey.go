package dscsa

import (
	"net/http"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// Link types of GS1 Digital Link that select what an identifier's URL
// answers: verification (the default, as the Lightweight Messaging
// Standard asks for it) or the item's journey.
const (
	LinkVerification = "gs1:verificationService"
	LinkTraceability = "gs1:traceability"
)

// EventID returns the CBV 2.0 event hash URI of a hash.
func EventID(h tx.Hash) string { return "ni:///sha-256;" + h.String() + "?ver=CBV2.0" }

// identifier serves an SGTIN's URL: its verification or, with linkType
// gs1:traceability, its journey.
func (s *Server) identifier(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("linkType") {
	case "", LinkVerification, "verificationService":
		s.verify(w, r)
	case LinkTraceability, "traceability":
		gtin := r.PathValue("gtin")
		for len(gtin) == 8 || len(gtin) == 12 || len(gtin) == 13 {
			gtin = "0" + gtin
		}
		s.journey(w, r, supply.SGTIN(gtin, r.PathValue("serial")))
	default:
		writeError(w, tx.Rejectf(tx.CodeMalformed, "linkType is %s (the default) or %s", LinkVerification, LinkTraceability))
	}
}

// logisticUnit serves GET /00/{sscc}: a logistic unit's journey.
func (s *Server) logisticUnit(w http.ResponseWriter, r *http.Request) {
	s.journey(w, r, supply.SSCC(r.PathValue("sscc")))
}

func (s *Server) journey(w http.ResponseWriter, r *http.Request, e supply.EPC) {
	if _, err := s.tradingPartner(r); err != nil {
		writeError(w, err)
		return
	}
	if err := e.Validate(); err != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "the identifier is /01/{GTIN}/21/{serial} or /00/{SSCC}, with check digits"))
		return
	}
	view := s.opts.State()
	j, err := Journey(view, e)
	if err != nil {
		writeError(w, err)
		return
	}
	if j == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "%s is not on the ledger", e))
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// Journey reads e's state and journey from view; nil if e is not known.
func Journey(view State, e supply.EPC) (*v1.Journey, error) {
	it, status, err := supply.ItemStatus(view, e)
	if err != nil || it == nil {
		return nil, err
	}
	hashes, err := supply.Journey(view, e)
	if err != nil {
		return nil, err
	}
	j := &v1.Journey{
		EPC: string(e), Status: string(status), Holder: it.Holder, Destination: it.Destination,
		Lot: it.Lot, Expiry: it.Expiry, Parent: string(it.Parent), Events: []v1.JourneyEvent{}, Height: view.Version(),
	}
	for _, c := range it.Children {
		j.Children = append(j.Children, string(c))
	}
	for _, h := range hashes {
		ev, err := supply.LoadEvent(view, h)
		if err != nil {
			return nil, err
		}
		if ev == nil {
			continue
		}
		je := v1.JourneyEvent{EventID: EventID(ev.Hash), Type: ev.Kind.String(), BizStep: ev.BizStep, Disposition: ev.Disposition, Org: ev.Org, Height: ev.Height}
		if ev.Action != supply.NoAction {
			je.Action = ev.Action.String()
		}
		if ev.DeclaredBy != nil {
			je.DeclaredBy = EventID(*ev.DeclaredBy)
		}
		j.Events = append(j.Events, je)
	}
	return j, nil
}
