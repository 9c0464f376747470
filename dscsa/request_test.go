package dscsa_test

import (
	"testing"
	"time"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/dscsa"
)

var today = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

func TestParseRequestDates(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32 // 0: refused
	}{
		{"301231", 20301231},
		{"260200", 20260228}, // day 00 is the month's last
		{"280200", 20280229}, // a leap year's
		{"761231", 20761231}, // up to 50 years ahead stays in this century
		{"771231", 19771231}, // 51 ahead is the last
		{"260230", 0},
		{"261301", 0},
		{"26123", 0},
		{"2612311", 0},
		{"-12312", 0},
	} {
		r, err := dscsa.ParseRequest("09521234543213", "S1", "", c.in, "", today)
		if got := r.Expiry; (err == nil) != (c.want != 0) || got != c.want {
			t.Errorf("ParseRequest(17=%s) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseRequestPadsGTIN(t *testing.T) {
	r, err := dscsa.ParseRequest("9521234543213", "S1", "", "", "", today)
	if err != nil || r.GTIN != "09521234543213" {
		t.Errorf("ParseRequest(GTIN-13) = %+v, %v; want the GTIN-14 09521234543213", r, err)
	}
}

func TestAnswerExpired(t *testing.T) {
	r := dscsa.Request{GTIN: "09521234543213", Serial: "S1", Expiry: 20261130}
	a := dscsa.Answer(r, supply.Verification{Known: true, Verified: true, Status: supply.Active}, 5, "acme-pharma", today)
	if !a.Data.Verified || a.Data.AdditionalInfo != "Expired" {
		t.Errorf("Answer(expired %d on %s) = %+v; want verified, Expired", r.Expiry, today.Format(time.DateOnly), a.Data)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add("09521234543213", "S1", "LOT1", "301231", "c-1")
	f.Add("9521234543213", "ABC/%", "", "260200", "")
	f.Add("0952123454321x", "", "L\x00", "99", "\xff")
	f.Fuzz(func(t *testing.T, gtin, serial, lot, expiry, corr string) {
		r, err := dscsa.ParseRequest(gtin, serial, lot, expiry, corr, today)
		if err != nil {
			return
		}
		if supply.SGTIN(r.GTIN, r.Serial).Validate() != nil {
			t.Fatalf("ParseRequest(%q, %q) accepted an invalid SGTIN %+v", gtin, serial, r)
		}
		if r.Expiry != 0 && (r.Expiry < 19000101 || r.Expiry > 21991231) {
			t.Fatalf("ParseRequest(17=%q) = %d; want a date within a century of today", expiry, r.Expiry)
		}
	})
}
