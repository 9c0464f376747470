package dscsa

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/tx"
)

// The subscription routes of the EPCIS 2.0 REST binding, for the named
// queries below.
const (
	subscriptionsRoot = "/epcis/queries/"
	subscriptionsPath = "/epcis/queries/{queryName}/subscriptions"
	// streamPath is where a WebSocket subscribes (stream.go).
	streamPath = "/epcis/queries/{queryName}/events"
)

// The named queries a trading partner subscribes to. Each matches
// committed supply events that concern the subscriber's organization.
const (
	// QueryShipments matches shipping events whose destination is the
	// subscriber's organization: what is coming to it.
	QueryShipments = "SupplyShipmentsToMe"
	// QueryRecalls matches recall notices naming the subscriber's
	// organization as a holder of a recalled lot.
	QueryRecalls = "SupplyRecallsOfMyStock"
)

// queries maps a named query to whether a committed event matches it for
// an organization.
var queries = map[string]func(e contract.Event, org string) bool{
	QueryShipments: func(e contract.Event, org string) bool {
		return e.Type == supply.EventRecorded && e.Attr("biz_step") == supply.StepShipping && e.Attr("destination") == org
	},
	QueryRecalls: func(e contract.Event, org string) bool {
		n, ok := supply.RecallNoticeOf(e)
		return ok && n.Holder == org
	},
}

const maxSignatureToken = 256

// subscribe creates a subscription of the caller's organization to a
// named query; the request's Accept header chooses the deliveries' format.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("queryName")
	if queries[name] == nil {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no named query %q; the queries are %s and %s", name, QueryShipments, QueryRecalls))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubscriptionBody))
	if err != nil {
		writeError(w, tx.Rejectf(tx.CodeOversized, "a subscription is at most %d bytes", maxSubscriptionBody))
		return
	}
	req, err := parseSubscription(body)
	if err != nil {
		writeError(w, err)
		return
	}
	format, err := deliveryFormat(r.Header.Get("Accept"))
	if err != nil {
		writeError(w, err)
		return
	}
	var from time.Time
	if req.InitialRecordTime != nil {
		from = *req.InitialRecordTime
	}
	cursor, err := s.subs.cursorAt(from)
	if err != nil {
		writeError(w, err)
		return
	}
	sb, err := s.subs.add(name, acct.Org, req, format, cursor)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/epcis/queries/"+name+"/subscriptions/"+sb.ID)
	writeJSON(w, http.StatusCreated, sb)
}

const maxSubscriptionBody = 16 << 10

// deliveryFormat reads the format of deliveries from a subscription
// request's Accept header, as GET /epcis/events reads its answer's.
func deliveryFormat(accept string) (string, error) {
	isXML, ok := epcis.PrefersXML(accept)
	switch {
	case !ok:
		return "", tx.Rejectf(tx.CodeInvalid, "Accept chooses the deliveries' format: application/ld+json, application/json or application/xml")
	case isXML:
		return FormatXML, nil
	}
	return FormatJSONLD, nil
}

// parseSubscription reads and checks a subscription request's body.
func parseSubscription(body []byte) (v1.SubscriptionRequest, error) {
	var q v1.SubscriptionRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return q, tx.Rejectf(tx.CodeMalformed, "the body is a subscription (dest, signatureToken, stream, reportIfEmpty, initialRecordTime): %v", err)
	}
	if dec.More() {
		return q, tx.Rejectf(tx.CodeMalformed, "data after the subscription")
	}
	return q, validateSubscription(q)
}

func validateSubscription(q v1.SubscriptionRequest) error {
	u, err := url.Parse(q.Dest)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return tx.Rejectf(tx.CodeInvalid, "dest is the http or https URL of a webhook")
	case q.Stream != nil && !*q.Stream:
		return tx.Rejectf(tx.CodeInvalid, "only streaming subscriptions (stream: true) are offered")
	case len(q.SignatureToken) > maxSignatureToken:
		return tx.Rejectf(tx.CodeInvalid, "signatureToken is at most %d bytes", maxSignatureToken)
	}
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.subs.list(r.PathValue("queryName"), acct.Org))
}

func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !s.subs.remove(r.PathValue("queryName"), r.PathValue("id"), acct.Org) {
		writeError(w, tx.Rejectf(tx.CodeNotFound, "no such subscription of %s", acct.Org))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
