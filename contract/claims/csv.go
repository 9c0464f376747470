package claims

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadPolicyCSV turns a policy table in CSV into the policy_load messages
// that put it into payer's draft version, at most rowsPerLoad rows each
// (MaxRows when 0 or more), in file order. Each record's first field says
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
// first malformed record fails the whole file, naming its line; rules
// are compiled when the messages are checked, not here.
func ReadPolicyCSV(r io.Reader, payer string, version uint64, rowsPerLoad int) ([]PolicyLoad, error) {
	if rowsPerLoad <= 0 || rowsPerLoad > MaxRows {
		rowsPerLoad = MaxRows
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.ReuseRecord = true
	var loads []PolicyLoad
	cur := PolicyLoad{Payer: payer, Version: version}
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
		if rows++; rows == rowsPerLoad || len(cur.Rules) == MaxRules {
			loads = append(loads, cur)
			cur, rows = PolicyLoad{Payer: payer, Version: version}, 0
		}
	}
	if rows > 0 {
		loads = append(loads, cur)
	}
	return loads, nil
}

var errFields = errors.New("wrong number of fields")

// addRecord adds one CSV record to m, checked as the message will be.
func addRecord(m *PolicyLoad, rec []string) error {
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
		f := Fee{Code: rec[1], Modifier: rec[2], Allowed: allowed}
		m.Fees = append(m.Fees, f)
		return f.validate()
	case "pair":
		if len(rec) != 4 || rec[3] != "0" && rec[3] != "1" {
			return fmt.Errorf("a pair is pair,COLUMN1,COLUMN2,0|1")
		}
		p := CodePair{Column1: rec[1], Column2: rec[2], Modifier: rec[3][0] - '0'}
		m.Pairs = append(m.Pairs, p)
		return p.validate()
	case "units":
		if len(rec) != 3 {
			return errFields
		}
		n, err := strconv.ParseUint(rec[2], 10, 64)
		if err != nil || n == 0 || n > MaxUnits {
			return invalid("a unit limit is 1 to %d", MaxUnits)
		}
		m.Units = append(m.Units, UnitLimit{Code: rec[1], Max: n})
		return validCode("procedure code", rec[1], maxCode)
	case "rule":
		if len(rec) != 5 {
			return errFields
		}
		ru := Rule{ID: rec[1], Reason: rec[3], Expr: rec[4]}
		switch rec[2] {
		case "deny":
			ru.Action = Deny
		case "auth":
			ru.Action = RequireAuth
		default:
			return fmt.Errorf("a rule's action is deny or auth")
		}
		if err := validID("rule id", ru.ID); err != nil {
			return err
		}
		if len(ru.Expr) > exprMax || len(ru.Reason) > maxReason {
			return invalid("a rule's reason or expression is too long")
		}
		m.Rules = append(m.Rules, ru)
		return nil
	}
	return fmt.Errorf("a record starts with fee, pair, units or rule")
}

// parseAmount parses a decimal amount with up to two decimals into minor
// units, at most MaxAmount.
func parseAmount(s string) (uint64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || dot && frac == "" || len(whole) > 10 {
		return 0, invalid("an amount is digits with up to two decimals")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	v, err := strconv.ParseUint(whole+frac, 10, 64)
	if err != nil || strings.ContainsAny(whole+frac, "+-") {
		return 0, invalid("an amount is digits with up to two decimals")
	}
	if v > MaxAmount {
		return 0, invalid("an amount exceeds %d minor units", MaxAmount)
	}
	return v, nil
}
