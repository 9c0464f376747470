// Package policycsv reads a payer's coverage policy table in CSV into the
// claims/policy_load messages that load it: a pure function for the CLI and
// HTTP faces. It is kept out of package claims so that the state machine
// does not import encoding/csv.
//
// policycsv imports claims and the standard library.
package policycsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/careledger/careledger/contract/claims"
)

// Read turns a policy table in CSV into the policy_load messages
// that put it into payer's draft version, at most rowsPerLoad rows each
// (claims.MaxRows when 0 or more), in file order. Each record's first field says
// what it is:
//
//	fee,CODE,MODIFIER,ALLOWED          allowed per unit; MODIFIER may be empty
//	pair,COLUMN1,COLUMN2,INDICATOR     INDICATOR 0 or 1
//	units,CODE,MAX
//	rule,ID,deny|auth,REASON,EXPR      REASON empty for auth; EXPR quoted as CSV quotes
//
// Amounts are in the currency's units with up to two decimals ("125",
// "125.5", "125.50") and become integers in minor units; no float is
// involved. Blank lines and lines starting with '#' are skipped. The
// first malformed record fails the whole file, naming its line (never
// its content); rules are compiled when the messages are checked.
func Read(r io.Reader, payer string, version uint64, rowsPerLoad int) ([]claims.PolicyLoad, error) {
	if rowsPerLoad <= 0 || rowsPerLoad > claims.MaxRows {
		rowsPerLoad = claims.MaxRows
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.ReuseRecord = true
	var loads []claims.PolicyLoad
	cur := claims.PolicyLoad{Payer: payer, Version: version}
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("policy CSV line %d: %w", pe.Line, pe.Err)
		} else if err != nil {
			return nil, fmt.Errorf("read policy CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := addRecord(&cur, rec); err != nil {
			return nil, fmt.Errorf("policy CSV line %d: %w", line, err)
		}
		if rows++; rows == rowsPerLoad || len(cur.Rules) == claims.MaxRules {
			loads = append(loads, cur)
			cur, rows = claims.PolicyLoad{Payer: payer, Version: version}, 0
		}
	}
	if rows > 0 {
		loads = append(loads, cur)
	}
	return loads, nil
}

var (
	errFields = errors.New("wrong number of fields")
	errAmount = errors.New("an amount is digits with up to two decimals")
)

// addRecord adds one CSV record to m, checked as the message will be.
func addRecord(m *claims.PolicyLoad, rec []string) error {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	switch rec[0] {
	case "fee":
		if len(rec) != 4 {
			return errFields
		}
		allowed, err := parseAmount(rec[3])
		if err != nil {
			return err
		}
		f := claims.Fee{Code: rec[1], Modifier: rec[2], Allowed: allowed}
		m.Fees = append(m.Fees, f)
		return f.Validate()
	case "pair":
		if len(rec) != 4 || rec[3] != "0" && rec[3] != "1" {
			return fmt.Errorf("a pair is pair,COLUMN1,COLUMN2,0|1")
		}
		p := claims.CodePair{Column1: rec[1], Column2: rec[2], Modifier: rec[3][0] - '0'}
		m.Pairs = append(m.Pairs, p)
		return p.Validate()
	case "units":
		if len(rec) != 3 {
			return errFields
		}
		n, err := strconv.ParseUint(rec[2], 10, 64)
		if err != nil {
			return errors.New("a unit limit is a whole number")
		}
		u := claims.UnitLimit{Code: rec[1], Max: n}
		m.Units = append(m.Units, u)
		return u.Validate()
	case "rule":
		if len(rec) != 5 {
			return errFields
		}
		ru := claims.Rule{ID: rec[1], Reason: rec[3], Expr: rec[4]}
		switch rec[2] {
		case "deny":
			ru.Action = claims.Deny
		case "auth":
			ru.Action = claims.RequireAuth
		default:
			return fmt.Errorf("a rule's action is deny or auth")
		}
		m.Rules = append(m.Rules, ru)
		return ru.Validate()
	}
	return fmt.Errorf("a record starts with fee, pair, units or rule")
}

// parseAmount parses a decimal amount with up to two decimals into minor
// units, at most claims.MaxAmount.
func parseAmount(s string) (uint64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || dot && frac == "" || len(whole) > 10 {
		return 0, errAmount
	}
	for len(frac) < 2 {
		frac += "0"
	}
	v, err := strconv.ParseUint(whole+frac, 10, 64)
	if err != nil || strings.ContainsAny(whole+frac, "+-") {
		return 0, errAmount
	}
	if v > claims.MaxAmount {
		return 0, fmt.Errorf("an amount exceeds %d minor units", claims.MaxAmount)
	}
	return v, nil
}
