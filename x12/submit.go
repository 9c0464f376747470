package x12

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/tx"
)

// Parties are what a claim's submission names that an 837 does not give in
// the chain's terms: the patient's pseudonymous account, the provider and
// payer organizations, the coverage ID the payer registered, and the
// patient's age on the first date of service.
type Parties struct {
	Patient         tx.Address
	Provider, Payer string
	Coverage        string
	Age             uint64
}

// Commitment returns the claim's ID on the chain: the SHA-256 of its JSON
// as this package writes it.
func (c *Claim) Commitment() ([32]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// Submit returns the claims/submit message of the claim: its commitment,
// the parties, the place of service of its first line, its diagnosis codes
// and each line's code, modifiers, whole units, charge in cents, first date
// of service and diagnosis pointers. The contract checks the rest.
func (c *Claim) Submit(p Parties) (claims.Submit, error) {
	id, err := c.Commitment()
	if err != nil {
		return claims.Submit{}, err
	}
	m := claims.Submit{Claim: id, Use: claims.UseClaim, Patient: p.Patient, Provider: p.Provider, Payer: p.Payer, Coverage: p.Coverage, Age: p.Age}
	for _, d := range c.Diagnosis {
		if len(d.Diagnosis.Coding) == 0 {
			return m, fmt.Errorf("diagnosis %d has no code", d.Sequence)
		}
		m.Diagnoses = append(m.Diagnoses, d.Diagnosis.Coding[0].Code)
	}
	lines, err := c.ServiceLines()
	if err != nil {
		return m, err
	}
	for i, sl := range lines {
		it := c.Item[i]
		charge, err := cents(string(it.Net.Value))
		if err != nil {
			return m, fmt.Errorf("item %d: %w", i+1, err)
		}
		l := claims.Line{Code: sl.Code, Modifiers: sl.Modifiers, Units: sl.Units, Charge: charge, Date: sl.Date}
		for _, p := range it.DiagnosisSequence {
			l.Pointers = append(l.Pointers, uint64(p))
		}
		m.Lines = append(m.Lines, l)
	}
	if len(c.Item) > 0 && c.Item[0].Location != nil && len(c.Item[0].Location.Coding) > 0 {
		m.Place = c.Item[0].Location.Coding[0].Code
	}
	return m, nil
}

// cents reads a decimal amount of at most two fraction digits as cents.
func cents(s string) (uint64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || !digits(whole) || !digits(frac) || whole == "" || len(whole) > 10 {
		return 0, fmt.Errorf("amount is not a decimal of at most two fraction digits")
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, err
	}
	f, _ := strconv.ParseUint((frac + "00")[:2], 10, 64)
	return w*100 + f, nil
}
