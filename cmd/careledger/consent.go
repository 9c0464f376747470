package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/tx"
)

// msgsFunc builds a transaction's messages from the command's flags.
type msgsFunc = func(ctx context.Context, c *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error)

// consentCommands are the `careledger tx` subcommands of patients'
// consent, access requests, reviews and erasure.
func consentCommands() []txCommand {
	var (
		scope                       scopeFlags
		patient, purpose, reason    *string
		grantee, purposes, relation *string
		condition, custodian        *string
		duration, validFor          *time.Duration
		justified                   *bool
		team                        *uint64
		orgs, codes, salt           *string
	)
	patientFlag := func(fs *flag.FlagSet) {
		patient = fs.String("patient", "", "the patient's address (default: the signer)")
	}
	return []txCommand{
		{name: "set-delegate", argsUsage: "ADDRESS", nargs: 1,
			flags: func(fs *flag.FlagSet) { relation = fs.String("relation", "caregiver", "parent, guardian or caregiver") },
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				addr, err := parseAddressArg(fs)
				if err != nil {
					return nil, err
				}
				rel, err := identity.ParseRelation(*relation)
				if err != nil {
					return nil, usageError(err.Error())
				}
				return []tx.Msg{contract.Encode(identity.SetDelegate{Delegate: addr, Relation: rel})}, nil
			}},
		{name: "remove-delegate", argsUsage: "ADDRESS", nargs: 1,
			msgs: func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				addr, err := parseAddressArg(fs)
				return []tx.Msg{contract.Encode(identity.SetDelegate{Delegate: addr, Relation: identity.Caregiver, Remove: true})}, err
			}},
		{name: "set-device", argsUsage: "PUBKEY", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				patientFlag(fs)
				custodian = fs.String("custodian", "", "the organization whose FHIR API stores its readings (required)")
				codes = fs.String("codes", "", "comma-separated LOINC codes of the Observations it may write (required); the chain gets only their commitments")
				salt = fs.String("salt", "", "the device's salt, at least 16 bytes in hex, such as from 'openssl rand -hex 16' (required): the device names it with each write (fhir --device-salt)")
			},
			msgs: func(_ context.Context, _ *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				s, err := hex.DecodeString(*salt)
				if err != nil || len(s) < identity.DeviceSaltSize {
					return nil, usageError(fmt.Sprintf("--salt must be at least %d bytes in hex", identity.DeviceSaltSize))
				}
				return deviceMsg(*patient, key, fs, identity.SetDevice{Custodian: *custodian, Codes: identity.CommitCodes(s, splitList(*codes))})
			}},
		{name: "remove-device", argsUsage: "PUBKEY", nargs: 1,
			flags: patientFlag,
			msgs: func(_ context.Context, _ *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				return deviceMsg(*patient, key, fs, identity.SetDevice{Remove: true})
			}},
		{name: "grant",
			flags: func(fs *flag.FlagSet) {
				patientFlag(fs)
				scope.register(fs)
				grantee = fs.String("to", "", "the grantee: ORG, ORG/ROLE, a member's ADDRESS or team:N, a care team (required)")
				purposes = fs.String("purposes", "TREAT", "comma-separated purposes of use: "+strings.Join(consent.Purposes, ", "))
				validFor = fs.Duration("for", 0, "how long the grant lasts from now (default: until revoked)")
				condition = fs.String("condition", "", "an optional CEL condition")
			},
			msgs: func(_ context.Context, _ *client.Client, key ed25519.PrivKey, _ *flag.FlagSet) ([]tx.Msg, error) {
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return nil, err
				}
				g, err := parseGrantee(*grantee)
				if err != nil {
					return nil, err
				}
				m := consent.Grant{Patient: p, Grantee: g, Scope: scope.scope(), Purposes: splitList(*purposes), Condition: *condition}
				if *validFor > 0 {
					// The block time decides; the local clock only sets the window.
					m.NotBefore = time.Now().Unix()
					m.NotAfter = time.Now().Add(*validFor).Unix()
				}
				return []tx.Msg{contract.Encode(m)}, nil
			}},
		{name: "revoke", argsUsage: "GRANT_ID", nargs: 1, msgs: idMsg(func(id uint64) tx.Msg { return contract.Encode(consent.Revoke{Grant: id}) })},
		{name: "set-team", argsUsage: "[ADDRESS...]", nargs: -1,
			flags: func(fs *flag.FlagSet) {
				patientFlag(fs)
				team = fs.Uint64("team", 0, "the care team to change (default: form a new one)")
				orgs = fs.String("orgs", "", "comma-separated organizations every member of which is on the team")
			},
			msgs: func(_ context.Context, _ *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return nil, err
				}
				m := consent.SetTeam{Patient: p, Team: *team, Orgs: splitList(*orgs)}
				for _, a := range fs.Args() {
					addr, err := tx.ParseAddress(a)
					if err != nil {
						return nil, usageError(err.Error())
					}
					m.Members = append(m.Members, addr)
				}
				return []tx.Msg{contract.Encode(m)}, nil
			}},
		{name: "request-access",
			flags: func(fs *flag.FlagSet) {
				scope.register(fs)
				patient = fs.String("patient", "", "the patient's address (required)")
				purpose = fs.String("purpose", "TREAT", "the purpose of use")
				duration = fs.Duration("for", 30*24*time.Hour, "how long the access would last once approved")
				reason = fs.String("reason", "referral", "one of "+strings.Join(consent.Reasons, ", "))
			},
			msgs: func(context.Context, *client.Client, ed25519.PrivKey, *flag.FlagSet) ([]tx.Msg, error) {
				p, err := tx.ParseAddress(*patient)
				if err != nil {
					return nil, usageError("--patient: " + err.Error())
				}
				return []tx.Msg{contract.Encode(consent.Request{
					Patient: p, Scope: scope.scope(), Purpose: *purpose, Duration: uint64(duration.Seconds()), Reason: *reason,
				})}, nil
			}},
		{name: "approve", argsUsage: "REQUEST_ID", nargs: 1, msgs: idMsg(func(id uint64) tx.Msg { return contract.Encode(consent.Answer{Request: id, Approve: true}) })},
		{name: "deny", argsUsage: "REQUEST_ID", nargs: 1, msgs: idMsg(func(id uint64) tx.Msg { return contract.Encode(consent.Answer{Request: id}) })},
		{name: "review", argsUsage: "ACCESS_ID", nargs: 1,
			flags: func(fs *flag.FlagSet) {
				justified = fs.Bool("justified", true, "whether the break-the-glass access was justified")
			},
			msgs: func(ctx context.Context, c *client.Client, k ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				return idMsg(func(id uint64) tx.Msg { return contract.Encode(consent.Review{Access: id, Justified: *justified}) })(ctx, c, k, fs)
			}},
		{name: "erase", argsUsage: "[Type/REF]", nargs: -1,
			flags: func(fs *flag.FlagSet) {
				patientFlag(fs)
				custodian = fs.String("custodian", "", "the organization holding the records (required)")
			},
			msgs: func(_ context.Context, _ *client.Client, key ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
				p, err := patientOrSigner(*patient, key)
				if err != nil {
					return nil, err
				}
				if fs.NArg() > 1 {
					return nil, usageError("erase takes at most one record, Type/REF (the ref in the record's meta.tag " +
						recordTag + "); none erases all the patient's records")
				}
				return []tx.Msg{contract.Encode(records.Erase{Custodian: *custodian, Patient: p, Record: fs.Arg(0)})}, nil
			}},
	}
}

// recordTag is the meta.tag system under which a record carries its ref,
// the name the chain knows it by.
const recordTag = custodian.RecordTagSystem

// scopeFlags are the flags of a grant's or request's scope.
type scopeFlags struct{ types, categories, records *string }

func (s *scopeFlags) register(fs *flag.FlagSet) {
	s.types = fs.String("types", "*", "comma-separated FHIR resource types, or *")
	s.categories = fs.String("categories", "", "comma-separated category codes (default: any)")
	s.records = fs.String("records", "", "comma-separated records, Type/REF: the chain names a record by the ref in its meta.tag "+
		recordTag+", not its FHIR id (default: any)")
}

func (s *scopeFlags) scope() consent.Scope {
	return consent.Scope{Types: splitList(*s.types), Categories: splitList(*s.categories), Records: splitList(*s.records)}
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func parseAddressArg(fs *flag.FlagSet) (tx.Address, error) {
	addr, err := tx.ParseAddress(fs.Arg(0))
	if err != nil {
		return addr, usageError(err.Error())
	}
	return addr, nil
}

func patientOrSigner(s string, key ed25519.PrivKey) (tx.Address, error) {
	if s == "" {
		return tx.AddressOf(key.PubKey().Bytes()), nil
	}
	addr, err := tx.ParseAddress(s)
	if err != nil {
		return addr, usageError("--patient: " + err.Error())
	}
	return addr, nil
}

// parseGrantee reads ORG, ORG/ROLE, a member's ADDRESS or team:N.
func parseGrantee(s string) (consent.Grantee, error) {
	if s == "" {
		return consent.Grantee{}, usageError("--to is required: ORG, ORG/ROLE, a member's ADDRESS or team:N")
	}
	if n, ok := strings.CutPrefix(s, "team:"); ok {
		id, err := parseID(n)
		return consent.Grantee{Team: id}, err
	}
	if addr, err := tx.ParseAddress(s); err == nil {
		return consent.Grantee{Member: addr}, nil
	}
	org, role, _ := strings.Cut(s, "/")
	return consent.Grantee{Org: org, Role: identity.Role(role)}, nil
}

func idMsg(build func(id uint64) tx.Msg) msgsFunc {
	return func(_ context.Context, _ *client.Client, _ ed25519.PrivKey, fs *flag.FlagSet) ([]tx.Msg, error) {
		id, err := parseID(fs.Arg(0))
		if err != nil {
			return nil, err
		}
		return []tx.Msg{build(id)}, nil
	}
}

func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usageError("want a positive number, got " + strconv.Quote(s))
	}
	return id, nil
}

// deviceMsg completes m, an identity.SetDevice, with the patient (default:
// the signer) and the device's key, the command's argument.
func deviceMsg(patient string, key ed25519.PrivKey, fs *flag.FlagSet, m identity.SetDevice) ([]tx.Msg, error) {
	p, err := patientOrSigner(patient, key)
	if err != nil {
		return nil, err
	}
	pub, err := tx.ParsePubKey(fs.Arg(0))
	if err != nil {
		return nil, usageError(err.Error())
	}
	m.Patient, m.PubKey = p, pub
	return []tx.Msg{contract.Encode(m)}, nil
}
