package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/tx"
)

func runSchedule(ctx context.Context, args []string) error {
	return runCommands(ctx, "schedule", scheduleCommands(), args)
}

func runRewards(ctx context.Context, args []string) error {
	return runCommands(ctx, "rewards", rewardsCommands(), args)
}

func runLedger(ctx context.Context, args []string) error {
	return runCommands(ctx, "ledger", ledgerCommands(), args)
}

// parseTime reads a time as RFC 3339 or Unix seconds.
func parseTime(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, usageError(fmt.Sprintf("%q is neither RFC 3339 (2026-03-02T09:00:00Z) nor Unix seconds", s))
	}
	return t.Unix(), nil
}

// slotArgs reads PROVIDER SCHEDULE START.
func slotArgs(a []string) (schedule.SlotRef, error) {
	start, err := parseTime(a[2])
	return schedule.SlotRef{Provider: a[0], Schedule: a[1], Start: start}, err
}

// read logs in as key, calls get and prints what it returns.
func read[T any](ctx context.Context, c *client.Client, key ed25519.PrivKey, get func(token string) (T, error)) error {
	tok, err := c.Token(ctx, key)
	if err != nil {
		return err
	}
	v, err := get(tok)
	if err != nil {
		return err
	}
	return printJSON(v)
}

func scheduleCommands() []supplyCommand {
	var category *string
	var virtual *bool
	var deposit, lateKeep, noShowKeep, minutes *uint64
	var cancelBefore *time.Duration
	var patient, attest *string
	const slot = "PROVIDER SCHEDULE START"
	return []supplyCommand{
		{name: "publish", argsUsage: "PROVIDER SCHEDULE", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				category = fs.String("category", "primary-care", "the coarse service category: "+strings.Join(schedule.Categories, ", "))
				virtual = fs.Bool("virtual", false, "telehealth appointments")
				deposit = fs.Uint64("deposit", 0, "minor units a booking moves into escrow")
				cancelBefore = fs.Duration("cancel-before", 24*time.Hour, "the cancellation deadline before the start")
				lateKeep = fs.Uint64("late-keep-bps", 0, "basis points of the deposit kept on a cancellation after the deadline")
				noShowKeep = fs.Uint64("no-show-keep-bps", 10_000, "basis points of the deposit kept on a no-show")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, schedule.Publish{Provider: a[0], Schedule: a[1], Category: *category, Virtual: *virtual,
					Deposit: *deposit, CancelBefore: uint64(cancelBefore.Seconds()), LateCancelKeep: *lateKeep, NoShowKeep: *noShowKeep})
			}},
		{name: "open", argsUsage: "PROVIDER SCHEDULE START[,START...]", nargs: 3,
			flags: func(fs *flag.FlagSet) { minutes = fs.Uint64("minutes", 20, "each slot's length") },
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				m := schedule.OpenSlots{Provider: a[0], Schedule: a[1]}
				for _, s := range strings.Split(a[2], ",") {
					start, err := parseTime(strings.TrimSpace(s))
					if err != nil {
						return err
					}
					m.Slots = append(m.Slots, schedule.SlotSpec{Start: start, Minutes: *minutes})
				}
				return send(ctx, c, key, m)
			}},
		{name: "book", argsUsage: slot, nargs: 3,
			flags: func(fs *flag.FlagSet) {
				patient = fs.String("patient", "", "the patient's address, for a delegate booking (default: --key's own)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				ref, err := slotArgs(a)
				if err != nil {
					return err
				}
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return err
				}
				return send(ctx, c, key, schedule.Book{Patient: p, SlotRef: ref})
			}},
		{name: "cancel", argsUsage: slot, nargs: 3,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				ref, err := slotArgs(a)
				if err != nil {
					return err
				}
				return send(ctx, c, key, schedule.Cancel{SlotRef: ref})
			}},
		{name: "reschedule", argsUsage: slot + " NEW_START", nargs: 4,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				ref, err := slotArgs(a)
				if err != nil {
					return err
				}
				to, err := parseTime(a[3])
				if err != nil {
					return err
				}
				return send(ctx, c, key, schedule.Reschedule{SlotRef: ref, NewStart: to})
			}},
		{name: "mark", argsUsage: slot + " attended|no-show", nargs: 4,
			flags: func(fs *flag.FlagSet) {
				attest = fs.String("attest", "", "with attended: attest it to this reward program in the same transaction")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				ref, err := slotArgs(a)
				if err != nil {
					return err
				}
				out := map[string]schedule.Outcome{"attended": schedule.Attended, "no-show": schedule.NoShow}[a[3]]
				if out == 0 {
					return usageError("the outcome is attended or no-show")
				}
				ms := []contract.Msg{schedule.Mark{SlotRef: ref, Outcome: out}}
				if *attest != "" {
					tok, err := c.Token(ctx, key)
					if err != nil {
						return err
					}
					slots, err := c.Slots(ctx, tok, ref.Provider, ref.Schedule)
					if err != nil {
						return err
					}
					var p tx.Address
					for _, s := range slots.Slots {
						if s.Start == ref.Start {
							p = s.Patient
						}
					}
					ms = append(ms, rewards.Attest{Program: *attest, Patient: p, Event: "attended",
						Ref: sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", ref.Provider, ref.Schedule, ref.Start))})
				}
				return send(ctx, c, key, ms...)
			}},
		{name: "list", argsUsage: "PROVIDER", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Schedules(ctx, tok, a[0]) })
			}},
		{name: "slots", argsUsage: "PROVIDER SCHEDULE", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Slots(ctx, tok, a[0], a[1]) })
			}},
	}
}

// ruleFlag collects --rule EVENT:AMOUNT:TYPE[+TYPE...][:CEL] values.
type ruleFlag []rewards.Rule

func (r *ruleFlag) String() string { return fmt.Sprint(len(*r)) }

func (r *ruleFlag) Set(s string) error {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) < 3 {
		return fmt.Errorf("a rule is EVENT:AMOUNT:TYPE[+TYPE...][:CEL]")
	}
	amount, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return fmt.Errorf("amount %q: %w", parts[1], err)
	}
	rule := rewards.Rule{Event: parts[0], Amount: amount, Attesters: strings.Split(parts[2], "+")}
	if len(parts) == 4 {
		rule.Expr = parts[3]
	}
	*r = append(*r, rule)
	return nil
}

func rewardsCommands() []supplyCommand {
	var funding, patientCap *uint64
	var end, ref, redeemTo *string
	var rules ruleFlag
	return []supplyCommand{
		{name: "create", argsUsage: "SPONSOR PROGRAM", nargs: 2,
			flags: func(fs *flag.FlagSet) {
				funding = fs.Uint64("funding", 0, "minor units moved from the sponsor's account into the program's pool (required)")
				patientCap = fs.Uint64("patient-cap", 0, "the most one patient receives (required)")
				end = fs.String("end", "", "when attestations stop: RFC 3339 or Unix seconds (required)")
				fs.Var(&rules, "rule", "EVENT:AMOUNT:TYPE[+TYPE...][:CEL], such as 'attended:1000:provider:count < 4'; repeat for each event")
				redeemTo = fs.String("redeem-to", "", "ORG[,ORG...]: hold the rewards for patients to redeem to these organizations' accounts (default: pay them to the patients' balances)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				e, err := parseTime(*end)
				if err != nil {
					return err
				}
				var to []string
				if *redeemTo != "" {
					to = strings.Split(*redeemTo, ",")
				}
				return send(ctx, c, key, rewards.Create{Sponsor: a[0], Program: a[1], Funding: *funding, PatientCap: *patientCap, End: e, Rules: rules, RedeemTo: to})
			}},
		{name: "attest", argsUsage: "PROGRAM PATIENT EVENT", nargs: 3,
			flags: func(fs *flag.FlagSet) {
				ref = fs.String("ref", "", "the attester's own reference for the event, hashed into the attestation (required; accepted once)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				p, err := tx.ParseAddress(a[1])
				if err != nil {
					return usageError(err.Error())
				}
				if *ref == "" {
					return usageError("--ref is required")
				}
				return send(ctx, c, key, rewards.Attest{Program: a[0], Patient: p, Event: a[2], Ref: sha256.Sum256([]byte(*ref))})
			}},
		{name: "close", argsUsage: "PROGRAM", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return send(ctx, c, key, rewards.Close{Program: a[0]})
			}},
		{name: "list", argsUsage: "", nargs: 0,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, _ []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Programs(ctx, tok) })
			}},
		{name: "redeem", argsUsage: "PROGRAM PATIENT ORG AMOUNT", nargs: 4,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				p, err := tx.ParseAddress(a[1])
				if err != nil {
					return usageError(err.Error())
				}
				n, err := strconv.ParseUint(a[3], 10, 64)
				if err != nil {
					return usageError(err.Error())
				}
				return send(ctx, c, key, rewards.Redeem{Program: a[0], Patient: p, To: a[2], Amount: n})
			}},
		{name: "rewarded", argsUsage: "PROGRAM PATIENT", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				p, err := tx.ParseAddress(a[1])
				if err != nil {
					return usageError(err.Error())
				}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Rewarded(ctx, tok, a[0], p) })
			}},
		{name: "program", argsUsage: "PROGRAM", nargs: 1,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				return read(ctx, c, key, func(tok string) (any, error) { return c.Program(ctx, tok, a[0]) })
			}},
	}
}

func ledgerCommands() []supplyCommand {
	var from, toOrg, toPatient, patient *string
	return []supplyCommand{
		{name: "deposit", argsUsage: "PAYER AMOUNT", nargs: 2,
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				n, err := strconv.ParseUint(a[1], 10, 64)
				if err != nil {
					return usageError(err.Error())
				}
				return send(ctx, c, key, claims.Deposit{Payer: a[0], Amount: n})
			}},
		{name: "send", argsUsage: "AMOUNT", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				from = fs.String("from", "", "the paying organization (default: --key's own patient account)")
				toOrg = fs.String("to-org", "", "the receiving organization")
				toPatient = fs.String("to-patient", "", "the receiving patient's address")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, a []string) error {
				n, err := strconv.ParseUint(a[0], 10, 64)
				if err != nil {
					return usageError(err.Error())
				}
				m := ledger.Send{From: *from, ToOrg: *toOrg, Amount: n}
				if *toPatient != "" {
					if m.ToPatient, err = tx.ParseAddress(*toPatient); err != nil {
						return usageError(err.Error())
					}
				}
				return send(ctx, c, key, m)
			}},
		{name: "balance", argsUsage: "", nargs: 0,
			flags: func(fs *flag.FlagSet) {
				patient = fs.String("patient", "", "the patient's address (default: --key's own)")
			},
			do: func(ctx context.Context, c *client.Client, key ed25519.PrivKey, _ *flag.FlagSet, _ []string) error {
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return err
				}
				return read(ctx, c, key, func(tok string) (any, error) { return c.Balance(ctx, tok, p) })
			}},
	}
}
