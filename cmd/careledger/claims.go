package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/claims/policycsv"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/x12"
)

// policyRowsPerLoad is how many CSV rows one policy_load message carries:
// well inside the default 64 KiB transaction.
const policyRowsPerLoad = 1000

func runClaims(ctx context.Context, args []string) error {
	subs := map[string]func(context.Context, []string) error{"x12": runClaimsX12}
	for _, sc := range claimsCommands() {
		subs[sc.name] = func(ctx context.Context, args []string) error { return sc.run(ctx, "claims", args) }
	}
	return subcommand(ctx, "claims", args, subs)
}

func parseClaimID(s string) ([32]byte, error) {
	var id [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return id, usageError("a claim ID is 64 hex characters")
	}
	copy(id[:], b)
	return id, nil
}

func claimsCommands() []supplyCommand {
	var payer, reason, lines, letter, status *string
	var version, before *uint64
	var effective *uint
	var limit *int
	var overturn, uphold *bool
	var plan, coverage, patient, provider *string
	var deductible, coinsurance, copay, oopMax, age *uint64
	var yearStart, start, end *uint
	return []supplyCommand{
		{name: "plan", argsUsage: "PLAN", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization whose admin or service member --key is (required)")
				deductible = fs.Uint64("deductible", 0, "the plan year's deductible, minor units")
				coinsurance = fs.Uint64("coinsurance-bps", 0, "the patient's share after the deductible, basis points (2000 is 20%)")
				copay = fs.Uint64("copay", 0, "the copay per claim, minor units")
				oopMax = fs.Uint64("oop-max", 0, "the plan year's out-of-pocket maximum, minor units (0: none)")
				yearStart = fs.Uint("year-start", 101, "the plan year's first day, MMDD")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, claims.RegisterPlan{Payer: *payer, Plan: a[0], Deductible: *deductible, Coinsurance: *coinsurance,
					Copay: *copay, OOPMax: *oopMax, YearStart: uint32(*yearStart)})
			}},
		{name: "coverage", argsUsage: "COVERAGE", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization (required)")
				plan = fs.String("plan", "", "the plan covering the patient (required)")
				patient = fs.String("patient", "", "the patient's account address (required)")
				start = fs.Uint("start", 0, "the first day covered, YYYYMMDD (required)")
				end = fs.Uint("end", 0, "the last day covered, YYYYMMDD (default: open)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				addr, err := tx.ParseAddress(*patient)
				if err != nil {
					return usageError("--patient: " + err.Error())
				}
				return send(ctx, c, key, claims.RegisterCoverage{Payer: *payer, Coverage: a[0], Plan: *plan, Patient: addr,
					Start: uint32(*start), End: uint32(*end)})
			}},
		{name: "submit", argsUsage: "CLAIM.json (a FHIR Claim, or an array of them as x12 import-837 prints)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				provider = fs.String("provider", "", "the provider organization whose claims agent or service member --key is (required)")
				payer = fs.String("payer", "", "the payer organization (required)")
				coverage = fs.String("coverage", "", "the patient's coverage ID with the payer (required)")
				patient = fs.String("patient", "", "the patient's account address (required)")
				age = fs.Uint64("age", 0, "the patient's age in years on the first date of service")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				addr, err := tx.ParseAddress(*patient)
				if err != nil {
					return usageError("--patient: " + err.Error())
				}
				return submitClaims(ctx, c, key, a[0], x12.Parties{Patient: addr, Provider: *provider, Payer: *payer, Coverage: *coverage, Age: *age})
			}},
		{name: "balance", argsUsage: "ORG", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.LedgerAccount(ctx, tok, a[0]) })
			}},
		{name: "history", argsUsage: "ORG", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				before = fs.Uint64("before", 0, "only entries with a seq below this one (default: from the latest)")
				limit = fs.Int("limit", 0, "at most this many entries (default: the node's, 50)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.LedgerHistory(ctx, tok, a[0], *before, *limit) })
			}},
		{name: "show", argsUsage: "CLAIM", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				id, err := parseClaimID(a[0])
				if err != nil {
					return err
				}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Claim(ctx, tok, id) })
			}},
		{name: "list", argsUsage: "ORG (a payer or a provider your --key is a member of)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				status = fs.String("status", "", "only claims with this status: "+strings.Join(claims.Statuses, ", "))
				start = fs.Uint("from", 0, "only claims with a date of service on or after this date, YYYYMMDD")
				end = fs.Uint("to", 0, "only claims with a date of service on or before this date, YYYYMMDD")
				before = fs.Uint64("before", 0, "only claims with a seq below this one: the next of the page before (default: from the newest)")
				limit = fs.Int("limit", 0, "at most this many claims (default: the node's, 50)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				q := client.ClaimQuery{Status: *status, From: uint32(*start), To: uint32(*end), Before: *before, Limit: *limit}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Claims(ctx, tok, a[0], q) })
			}},
		{name: "policies", argsUsage: "PAYER", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Policies(ctx, tok, a[0]) })
			}},
		{name: "deposit", argsUsage: "AMOUNT (minor units)", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization whose admin, service or claims agent member --key is (required)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				amount, err := strconv.ParseUint(a[0], 10, 64)
				if err != nil || *payer == "" {
					return usageError("deposit takes --payer and an amount in minor units (cents)")
				}
				return send(ctx, c, key, claims.Deposit{Payer: *payer, Amount: amount})
			}},
		{name: "policy", argsUsage: "load FILE.csv", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				payer = fs.String("payer", "", "the payer organization whose admin or service member --key is (required)")
				version = fs.Uint64("version", 0, "the policy version to load and publish, from 1 (required)")
				effective = fs.Uint("effective", 0, "the first date of service the version judges, YYYYMMDD (required)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				if a[0] != "load" || *payer == "" || *version == 0 || *effective == 0 {
					return usageError("usage: careledger claims policy load --payer P --version N --effective YYYYMMDD FILE.csv")
				}
				return loadPolicy(ctx, c, key, a[1], *payer, *version, uint32(*effective))
			}},
		{name: "appeal", argsUsage: "CLAIM", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				reason = fs.String("reason", "", "the appeal's reason code, such as auth-on-file or medical-necessity (required)")
				lines = fs.String("lines", "", "0-based indexes of the denied lines appealed, comma-separated (default: every denied line)")
				letter = fs.String("letter", "", "the appeal letter, kept here: the chain holds its SHA-256")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				m, err := appealMsg(a[0], *reason, *lines, *letter)
				if err != nil {
					return err
				}
				return send(ctx, c, key, m)
			}},
		{name: "decide-appeal", argsUsage: "CLAIM", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				reason = fs.String("reason", "", "the decision's reason code (required)")
				overturn = fs.Bool("overturn", false, "overturn the denial: the lines are priced and paid at once")
				uphold = fs.Bool("uphold", false, "uphold the denial")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				id, err := parseClaimID(a[0])
				if err != nil {
					return err
				}
				if *overturn == *uphold {
					return usageError("give one of --overturn and --uphold")
				}
				return send(ctx, c, key, claims.DecideAppeal{Claim: id, Overturn: *overturn, Reason: *reason})
			}},
	}
}

func appealMsg(claim, reason, lines, letter string) (claims.Appeal, error) {
	id, err := parseClaimID(claim)
	if err != nil {
		return claims.Appeal{}, err
	}
	m := claims.Appeal{Claim: id, Reason: reason}
	for _, f := range strings.Split(lines, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		i, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return m, usageError(fmt.Sprintf("--lines: %q is not a line index", f))
		}
		m.Lines = append(m.Lines, i)
	}
	if letter != "" {
		b, err := os.ReadFile(letter)
		if err != nil {
			return m, err
		}
		m.Letter = sha256.Sum256(b)
	}
	return m, nil
}

// loadPolicy sends a policy table's rows as policy_load messages, one
// transaction each, then publishes the version: it takes effect whole.
func loadPolicy(ctx context.Context, c *client.Client, key ed25519.PrivKey, file, payer string, version uint64, effective uint32) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	loads, err := policycsv.Read(f, payer, version, policyRowsPerLoad)
	if err != nil {
		return usageError(err.Error())
	}
	for _, m := range loads {
		if err := send(ctx, c, key, m); err != nil {
			return err
		}
	}
	return send(ctx, c, key, claims.PolicyPublish{Payer: payer, Version: version, Effective: effective})
}

// submitClaims submits the FHIR Claims of file through the contract's
// message directly, as the FHIR API does after storing the claim's body,
// and prints each claim's ID and its transaction's answer. The body stays
// in file: this path stores nothing at the node.
func submitClaims(ctx context.Context, c *client.Client, key ed25519.PrivKey, file string, p x12.Parties) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var cs []x12.Claim
	if err := json.Unmarshal(b, &cs); err != nil {
		var one x12.Claim
		if err := json.Unmarshal(b, &one); err != nil {
			return usageError(file + ": not a FHIR Claim or an array of them")
		}
		cs = []x12.Claim{one}
	}
	type submitted struct {
		Claim string      `json:"claim"`
		Tx    v1.TxAnswer `json:"tx"`
	}
	var out []submitted
	for i := range cs {
		m, err := cs[i].Submit(p)
		if err != nil {
			return usageError(fmt.Sprintf("%s: claim %d: %v", file, i+1, err))
		}
		res, err := c.Send(ctx, key, contract.Encode(m))
		if err != nil {
			return err
		}
		out = append(out, submitted{Claim: hex.EncodeToString(m.Claim[:]), Tx: res})
	}
	return printJSON(out)
}
