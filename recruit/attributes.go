package recruit

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/vault"
)

// coding is the part of a FHIR CodeableConcept recruitment reads.
type coding struct {
	Coding []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"coding"`
}

func (c coding) codes() []string {
	var out []string
	for _, x := range c.Coding {
		if x.Code != "" && len(x.Code) <= trials.MaxCodeLen {
			out = append(out, x.Code)
		}
	}
	return out
}

// resource is the union of the fields recruitment reads of one record.
type resource struct {
	ResourceType string `json:"resourceType"`
	// Patient
	BirthDate string `json:"birthDate"`
	Gender    string `json:"gender"`
	// Condition, Observation
	Code coding `json:"code"`
	// MedicationRequest, MedicationStatement
	Medication coding `json:"medicationCodeableConcept"`
	// Observation
	Effective     string `json:"effectiveDateTime"`
	Issued        string `json:"issued"`
	ValueQuantity *struct {
		Value json.Number `json:"value"`
	} `json:"valueQuantity"`
}

// lab is one lab result's value and when it was taken.
type lab struct {
	value string
	at    time.Time
}

// Attributes computes a patient's coarse eligibility attributes from their
// records: the age band at now, the sex, the codes of conditions and
// medications, and the latest lab result per code taken within window
// before now. Records that do not parse are skipped: they say nothing the
// rule could use. Lists are sorted and cut at the bounds the chain checked
// rules against.
func Attributes(recs []vault.Record, now time.Time, window time.Duration) trials.Eligibility {
	var e trials.Eligibility
	labs := map[string]lab{}
	for _, rec := range recs {
		var r resource
		if rec.Deleted || json.Unmarshal(rec.Content, &r) != nil {
			continue
		}
		switch r.ResourceType {
		case "Patient":
			e.AgeBand, e.Sex = ageBand(r.BirthDate, now), sex(r.Gender)
		case "Condition":
			e.Conditions = append(e.Conditions, r.Code.codes()...)
		case "MedicationRequest", "MedicationStatement":
			e.Medications = append(e.Medications, r.Medication.codes()...)
		case "Observation":
			addLab(labs, r, now, window)
		}
	}
	e.Conditions, e.Medications = bounded(e.Conditions, trials.MaxCodes), bounded(e.Medications, trials.MaxCodes)
	for code, l := range labs {
		if entry := code + "=" + l.value; len(entry) <= trials.MaxCodeLen {
			e.Labs = append(e.Labs, entry)
		}
	}
	e.Labs = bounded(e.Labs, trials.MaxLabs)
	return e
}

// addLab keeps r's value under each of its codes if it is numeric, taken
// within window before now, and later than the one kept.
func addLab(labs map[string]lab, r resource, now time.Time, window time.Duration) {
	if r.ValueQuantity == nil {
		return
	}
	v := r.ValueQuantity.Value.String()
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return
	}
	when := r.Effective
	if when == "" {
		when = r.Issued
	}
	at, err := parseInstant(when)
	if err != nil || at.After(now) || now.Sub(at) > window {
		return
	}
	for _, code := range r.Code.codes() {
		if old, ok := labs[code]; !ok || at.After(old.at) {
			labs[code] = lab{value: v, at: at}
		}
	}
}

// parseInstant reads a FHIR dateTime: a full timestamp, or a date.
func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

// bounded sorts codes, drops duplicates and keeps at most n.
func bounded(codes []string, n int) []string {
	slices.Sort(codes)
	codes = slices.Compact(codes)
	return codes[:min(len(codes), n)]
}

// ageBand returns the band of trials.AgeBands that an age at now falls in,
// or "" for a birth date that does not parse (a rule on age then fails).
func ageBand(birthDate string, now time.Time) string {
	if len(birthDate) < 4 {
		return ""
	}
	born, err := time.Parse(time.DateOnly, birthDate)
	if err != nil {
		y, err := strconv.Atoi(birthDate[:4]) // a partial date: the year alone
		if err != nil {
			return ""
		}
		born = time.Date(y, 7, 1, 0, 0, 0, 0, time.UTC)
	}
	age := now.Year() - born.Year()
	if now.Month() < born.Month() || now.Month() == born.Month() && now.Day() < born.Day() {
		age--
	}
	switch {
	case age < 0:
		return ""
	case age < 18:
		return "0-17"
	case age < 30:
		return "18-29"
	case age >= 80:
		return "80+"
	}
	lo := age / 10 * 10
	return strconv.Itoa(lo) + "-" + strconv.Itoa(lo+9)
}

// sex maps FHIR's administrative gender to itself, anything else to
// "unknown".
func sex(gender string) string {
	switch gender {
	case "female", "male", "other":
		return gender
	}
	return "unknown"
}
