package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/x12"
)

// runClaimsX12 is `careledger claims x12`: import-837 reads a file alone;
// 835 reads the claims' decisions from the node.
func runClaimsX12(ctx context.Context, args []string) error {
	return subcommand(ctx, "claims x12", args, map[string]func(context.Context, []string) error{
		"import-837": runImport837,
		"835":        runExport835,
	})
}

// runImport837 prints the FHIR Claims of an 837P file as a JSON array,
// ready for POST /fhir/Claim. It needs no node.
func runImport837(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("claims x12 import-837", flag.ContinueOnError)
	if err := parse(fs, args, 1, "FILE.837"); err != nil {
		return err
	}
	b, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	ic, err := x12.Parse(b)
	if err != nil {
		return usageError(err.Error())
	}
	cs, err := x12.Import837P(ic)
	if err != nil {
		return usageError(err.Error())
	}
	return printJSON(cs)
}

// runExport835 writes an 835 for settled claims: each --claim names a
// claim ID and the FHIR Claim file it was submitted from (its lines'
// codes and dates stay off the chain).
func runExport835(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("claims x12 835", flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	var pairs []string
	fs.Func("claim", "CLAIM_ID=FILE.json: a settled claim and the FHIR Claim it was submitted from (repeatable, required)", func(s string) error {
		pairs = append(pairs, s)
		return nil
	})
	payerName := fs.String("payer-name", "", "the payer's name (N1*PR)")
	payerID := fs.String("payer-id", "", "the payer's CMS plan ID (N1*PR, XV)")
	payeeName := fs.String("payee-name", "", "the payee's name (N1*PE)")
	payeeNPI := fs.String("payee-npi", "", "the payee's NPI (N1*PE, XX)")
	trace := fs.String("trace", "", "the payment's trace number (TRN02; default: the first claim's ID)")
	control := fs.Uint("control", 1, "the interchange and group control number")
	if err := parse(fs, args, 0, ""); err != nil {
		return err
	}
	if len(pairs) == 0 {
		return usageError("give at least one --claim CLAIM_ID=FILE.json")
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	c := client.New(*nodeURL)
	tok, err := c.Token(ctx, key)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	r := &x12.Remittance{
		Envelope: x12.Envelope{SenderQualifier: "ZZ", Sender: *payerID, ReceiverQualifier: "ZZ", Receiver: *payeeNPI,
			GroupSender: *payerID, GroupReceiver: *payeeNPI, Control: uint32(*control),
			Date: uint32(now.Year()*10000 + int(now.Month())*100 + now.Day()), Time: uint16(now.Hour()*100 + now.Minute())},
		Payer: x12.Party{Name: *payerName, IDQualifier: "XV", ID: *payerID}, Payee: x12.Party{Name: *payeeName, IDQualifier: "XX", ID: *payeeNPI},
		Trace: *trace, PayerID: "1" + *payerID,
	}
	for _, p := range pairs {
		rc, err := remitClaim(ctx, c, tok, p)
		if err != nil {
			return err
		}
		r.Claims = append(r.Claims, rc)
	}
	if r.Trace == "" {
		r.Trace = hex.EncodeToString(r.Claims[0].Decision.Claim[:8])
	}
	b, err := x12.Write835(r)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(b)
	return err
}

func remitClaim(ctx context.Context, c *client.Client, tok, pair string) (x12.RemitClaim, error) {
	idText, file, ok := strings.Cut(pair, "=")
	id, err := parseClaimID(idText)
	if err != nil || !ok {
		return x12.RemitClaim{}, usageError("--claim takes CLAIM_ID=FILE.json")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return x12.RemitClaim{}, err
	}
	var fc x12.Claim
	if err := json.Unmarshal(b, &fc); err != nil {
		var cs []x12.Claim // import-837's array of one
		if json.Unmarshal(b, &cs) != nil || len(cs) != 1 {
			return x12.RemitClaim{}, usageError(file + ": not a FHIR Claim (or an array of one)")
		}
		fc = cs[0]
	}
	lines, err := fc.ServiceLines()
	if err != nil {
		return x12.RemitClaim{}, fmt.Errorf("%s: %w", file, err)
	}
	a, err := c.Claim(ctx, tok, id)
	if err != nil {
		return x12.RemitClaim{}, err
	}
	rc := x12.RemitClaim{Decision: decisionOf(id, a), Lines: lines}
	if len(fc.Identifier) > 0 {
		rc.PatientControl = fc.Identifier[0].Value
	}
	return rc, nil
}

// decisionOf turns the API's answer back into the decision it reports.
func decisionOf(id [32]byte, a v1.ClaimAnswer) *claims.Decision {
	use := claims.UseClaim
	if a.Use == "preauthorization" {
		use = claims.UsePreauth
	}
	return &claims.Decision{Claim: id, Use: use, Patient: a.Patient, Provider: a.Provider, Payer: a.Payer, Coverage: a.Coverage,
		Height: a.Height, Lines: a.Lines, Benefit: a.Benefit, PatientOwes: a.PatientOwes, Paid: a.Paid, Settled: a.Settled}
}
