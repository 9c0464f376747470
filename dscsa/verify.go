package dscsa

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// Request is a parsed verification request.
type Request struct {
	GTIN, Serial, Lot string
	// Expiry is the date asked as YYYYMMDD, 0 for none. A GS1 date whose
	// day is 00 (the month's end) is the month's last day.
	Expiry   uint32
	CorrUUID string
}

const maxCorrUUID = 64

// ParseRequest reads a verification request from the path's GTIN and
// serial and the query's 10 (lot), 17 (expiry, YYMMDD) and corrUUID. A GTIN
// of 8, 12 or 13 digits is padded to 14. today is the date that places a
// two-digit year in its century (GS1 General Specifications 7.12).
func ParseRequest(gtin, serial, lot, expiry, corrUUID string, today time.Time) (Request, error) {
	for len(gtin) == 8 || len(gtin) == 12 || len(gtin) == 13 {
		gtin = "0" + gtin
	}
	r := Request{GTIN: gtin, Serial: serial, Lot: lot, CorrUUID: corrUUID}
	if err := supply.SGTIN(gtin, serial).Validate(); err != nil {
		return r, tx.Rejectf(tx.CodeMalformed, "the identifier is /01/{GTIN}/21/{serial}: a GTIN with its check digit and a serial of 1 to %d GS1 characters", supply.MaxSerial)
	}
	if lot != "" {
		if err := supply.ValidateLot(lot); err != nil {
			return r, tx.Rejectf(tx.CodeMalformed, "10 (lot) is 1 to %d GS1 characters", supply.MaxLot)
		}
	}
	if expiry != "" {
		d, ok := parseYYMMDD(expiry, today)
		if !ok {
			return r, tx.Rejectf(tx.CodeMalformed, "17 (expiry) is a date YYMMDD")
		}
		r.Expiry = d
	}
	if len(corrUUID) > maxCorrUUID || !printable(corrUUID) {
		return r, tx.Rejectf(tx.CodeMalformed, "corrUUID is at most %d printable ASCII characters", maxCorrUUID)
	}
	return r, nil
}

// parseYYMMDD reads a GS1 date (AI 17) as YYYYMMDD. The century is the one
// that puts the year within 49 years before or 50 after today's.
func parseYYMMDD(s string, today time.Time) (uint32, bool) {
	if len(s) != 6 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	yy, mm, dd := n/10000, n/100%100, n%100
	cur := today.UTC().Year()
	year := cur - cur%100 + yy
	switch diff := yy - cur%100; {
	case diff >= 51:
		year -= 100
	case diff <= -50:
		year += 100
	}
	if mm < 1 || mm > 12 {
		return 0, false
	}
	last := time.Date(year, time.Month(mm)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if dd == 0 {
		dd = last
	}
	if dd > last {
		return 0, false
	}
	return uint32(year*10000 + mm*100 + dd), true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Answer builds the standard's answer to r from v, read at height; now is
// the answer's timestamp and its date tells an expired product.
func Answer(r Request, v supply.Verification, height int64, responder string, now time.Time) v1.Verification {
	reason := v.Reason()
	a := v1.Verification{
		VerificationTimestamp: now.UTC().Format("2006-01-02T15:04:05.000Z"),
		Responder:             responder, CorrUUID: r.CorrUUID, GTIN: r.GTIN, Serial: r.Serial,
		Status: string(v.Status), BrandOwner: v.BrandOwner, Reason: reason, Height: height,
		Data: v1.VerificationData{Verified: reason == ""},
	}
	switch reason {
	case "":
		y, m, d := now.UTC().Date()
		if r.Expiry != 0 && r.Expiry < uint32(y*10000+int(m)*100+d) {
			a.Data.AdditionalInfo = "Expired"
		}
	case supply.ReasonUnknown:
		a.Data.VerificationFailureReason = "No_match_GTIN_Serial"
	case supply.ReasonLotMismatch:
		a.Data.VerificationFailureReason = "No_match_GTIN_Serial_Lot"
	case supply.ReasonExpiryMismatch:
		a.Data.VerificationFailureReason = "No_match_GTIN_Serial_Expiry"
	case supply.ReasonLotExpiry:
		a.Data.VerificationFailureReason = "No_match_GTIN_Serial_Lot_Expiry"
	case supply.ReasonRecalled:
		a.Data.VerificationFailureReason, a.Data.AdditionalInfo = "Not_for_re-distribution", "Recalled"
	case supply.ReasonQuarantined:
		a.Data.VerificationFailureReason = "Not_for_re-distribution"
	default: // out of the supply chain: a package bearing it is a possible clone
		a.Data.VerificationFailureReason, a.Data.AdditionalInfo = "Not_for_re-distribution", "Suspect"
	}
	return a
}

// verify serves GET /01/{gtin}/21/{serial} and GET
// /01/{gtin}/10/{lot}/21/{serial}: it answers from committed state at once
// and queues the answer's receipt; with the queue full and no room within
// QueueWait it answers busy rather than give an answer without a receipt.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	acct, err := s.tradingPartner(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	lot := q.Get("10")
	if p := r.PathValue("lot"); p != "" {
		lot = p
	}
	now := s.opts.Now()
	req, err := ParseRequest(r.PathValue("gtin"), r.PathValue("serial"), lot, q.Get("17"), q.Get("corrUUID"), now)
	if err != nil {
		writeError(w, err)
		return
	}
	view := s.opts.State()
	v, err := supply.Verify(view, req.GTIN, req.Serial, req.Lot, req.Expiry)
	if err != nil {
		writeError(w, err)
		return
	}
	a := Answer(req, v, view.Version(), s.opts.Org, now)
	rc := supply.Receipt{Requester: acct.Address, GTIN: req.GTIN, Serial: req.Serial, Lot: req.Lot, Expiry: req.Expiry, Height: a.Height, Reason: a.Reason}
	if !s.receipts.add(r.Context(), rc) {
		w.Header().Set("Retry-After", "1")
		writeError(w, tx.Rejectf(tx.CodeBusy, "verification receipts are queued to their limit; try again"))
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// tradingPartner returns the request's account if it is an active member
// of an organization of type pharma (manufacturers, repackagers,
// wholesalers, dispensers) or regulator.
func (s *Server) tradingPartner(r *http.Request) (*identity.Account, error) {
	acct, err := s.opts.Auth.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if acct.Org == "" {
		return nil, tx.Rejectf(tx.CodeUnauthorized, "verification is for members of trading partner organizations")
	}
	org, err := identity.LoadOrg(s.opts.State(), acct.Org)
	if err != nil {
		return nil, err
	}
	if org == nil || org.Type != identity.Pharma && org.Type != identity.Regulator {
		return nil, tx.Rejectf(tx.CodeUnauthorized, "verification is for members of pharma and regulator organizations")
	}
	return acct, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers as the JSON API does: the code's status and
// {"error":{code,name,message}}; an error that is not a rejection is a
// 500 whose details stay out of the answer.
func writeError(w http.ResponseWriter, err error) {
	var rej *tx.Rejection
	if !errors.As(err, &rej) {
		writeJSON(w, http.StatusInternalServerError, map[string]v1.Error{"error": {Name: "internal", Message: "internal error"}})
		return
	}
	if n := rej.Code.RetryAfter(); n > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(n))
	}
	writeJSON(w, rej.Code.HTTPStatus(), map[string]v1.Error{"error": {Code: rej.Code, Name: rej.Code.String(), Message: rej.Msg}})
}
