package main

import (
	"context"
	"flag"
	"net/url"
	"os"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/tx"
)

func runAudit(ctx context.Context, args []string) error {
	return subcommand(ctx, "audit", args, map[string]func(context.Context, []string) error{
		"disclosures": auditDisclosures,
	})
}

// auditDisclosures prints a patient's accounting of disclosures, as the
// holder of --key (the patient, a delegate, an auditor or a privacy
// officer) may read it.
func auditDisclosures(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit disclosures", flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	format := fs.String("format", "json", "json (signed, for careledger verify report), csv or html")
	from := fs.String("from", "", "start of the period, RFC 3339 (default: six years before --to)")
	to := fs.String("to", "", "end of the period, RFC 3339 (default: now)")
	all := fs.Bool("all", false, "a full access report: include treatment, payment, operations and the patient's own reads")
	if err := parse(fs, args, 1, "PATIENT_ADDRESS"); err != nil {
		return err
	}
	patient, err := tx.ParseAddress(fs.Arg(0))
	if err != nil {
		return usageError(err.Error())
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	c := client.New(*nodeURL)
	tok, err := c.AuthToken(ctx, key)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"from": *from, "to": *to} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if *all {
		q.Set("all", "true")
	}
	out, err := c.Disclosures(ctx, tok.Token, patient, *format, q)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
