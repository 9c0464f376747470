package dscsa

import (
	"encoding/base64"
	"net/http"
	"strconv"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/tx"
)

// Paging of a lot's units.
const (
	defaultLotPage = 100
	maxLotPage     = 1000
)

// lot serves GET /01/{gtin}/10/{lot}: what a recall lookup needs, the
// lot's recall, its current holders and its units with their holders, a
// page at a time (perPage, nextPageToken).
func (s *Server) lot(w http.ResponseWriter, r *http.Request) {
	if _, err := s.tradingPartner(r); err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	gtin, lot := r.PathValue("gtin"), r.PathValue("lot")
	for len(gtin) == 8 || len(gtin) == 12 || len(gtin) == 13 {
		gtin = "0" + gtin
	}
	if supply.SGTIN(gtin, "1").Validate() != nil || supply.ValidateLot(lot) != nil {
		writeError(w, tx.Rejectf(tx.CodeMalformed, "the lot is /01/{GTIN}/10/{lot}: a GTIN with its check digit and a lot of 1 to %d GS1 characters", supply.MaxLot))
		return
	}
	perPage := defaultLotPage
	if v := q.Get("perPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLotPage {
			writeError(w, tx.Rejectf(tx.CodeInvalid, "perPage is 1 to %d", maxLotPage))
			return
		}
		perPage = n
	}
	after := ""
	if v := q.Get("nextPageToken"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || supply.SGTIN(gtin, string(b)).Validate() != nil {
			writeError(w, tx.Rejectf(tx.CodeInvalid, "nextPageToken is not one this node gave"))
			return
		}
		after = string(b)
	}
	l, err := Lot(s.opts.State(), gtin, lot, after, perPage)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// Lot reads gtin's lot from view: its recall, holders, and up to perPage
// units whose serials sort after after ("" for the first page).
func Lot(view State, gtin, lot, after string, perPage int) (*v1.Lot, error) {
	l := &v1.Lot{GTIN: gtin, Lot: lot, Holders: []v1.LotHolder{}, Units: []v1.LotUnit{}, Height: view.Version()}
	rc, err := supply.LoadRecall(view, gtin, lot)
	if err != nil {
		return nil, err
	}
	if rc != nil {
		l.Recalled, l.RecalledAt = true, rc.Height
	}
	hs, err := supply.Holders(view, gtin, lot)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		l.Holders = append(l.Holders, v1.LotHolder{Org: h.Org, Items: h.Items})
	}
	var serials []string
	err = supply.LotUnits(view, gtin, lot, func(serial, _ string) bool {
		l.Known = true
		if serial <= after {
			return true
		}
		serials = append(serials, serial)
		return len(serials) <= perPage
	})
	if err != nil {
		return nil, err
	}
	if len(serials) > perPage {
		serials = serials[:perPage]
		l.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(serials[perPage-1]))
	}
	for _, serial := range serials {
		it, status, err := supply.ItemStatus(view, supply.SGTIN(gtin, serial))
		if err != nil {
			return nil, err
		}
		if it == nil {
			continue
		}
		u := v1.LotUnit{Serial: serial, Status: string(status)}
		if it.Status != supply.Dispensed && it.Status != supply.Decommissioned && it.Status != supply.Destroyed {
			u.Holder = it.Holder
		}
		l.Units = append(l.Units, u)
	}
	return l, nil
}
