package tx_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/claims"
	"github.com/careledger/careledger/contract/consent"
	"github.com/careledger/careledger/contract/governance"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/ledger"
	"github.com/careledger/careledger/contract/records"
	"github.com/careledger/careledger/contract/rewards"
	"github.com/careledger/careledger/contract/schedule"
	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
)

var update = flag.Bool("update", false, "rewrite ../testdata/vectors.json from the vector specs")

// vectorsPath is the vector file at the repository root, where clients in
// other languages find it.
var vectorsPath = filepath.Join("..", "testdata", "vectors.json")

const vectorChainID = "careledger-test-1"

// vectorFile is the layout of testdata/vectors.json. Every byte string is
// lowercase hex unless its name says base64.
type vectorFile struct {
	Comment []string `json:"comment"`
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Description string      `json:"description"`
	Seed        string      `json:"seed"`    // Ed25519 seed (RFC 8032 private key), 32 bytes
	PubKey      string      `json:"pub_key"` // the signer, 32 bytes
	Address     string      `json:"address"` // the signer's address if this is its first key
	ChainID     string      `json:"chain_id"`
	Sequence    uint64      `json:"sequence"`
	Messages    []vectorMsg `json:"messages"`
	SignBytes   string      `json:"sign_bytes"`
	Signature   string      `json:"signature"`
	Tx          string      `json:"tx"`
	TxBase64    string      `json:"tx_base64"` // as POST /v1/txs takes it
	Hash        string      `json:"hash"`      // SHA-256 of tx
}

type vectorMsg struct {
	Type   uint64          `json:"type"`
	Name   string          `json:"name"`
	Fields json.RawMessage `json:"fields"` // the body's fields, for reading (see fieldsOf); body is normative
	Body   string          `json:"body"`
}

// msgFields are the fields of the identity message bodies that the first
// vectors carry, written by hand. Other messages use the generic form of
// readableFields.
type msgFields struct {
	Org       string   `json:"org,omitempty"`
	PubKey    string   `json:"pub_key,omitempty"`
	Member    string   `json:"member,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	Suspended *bool    `json:"suspended,omitempty"`
	// RotateKey: the new key's seed, and the bytes it signs as proof.
	NewKeySeed        string `json:"new_key_seed,omitempty"`
	NewPubKey         string `json:"new_pub_key,omitempty"`
	RotationSignBytes string `json:"rotation_sign_bytes,omitempty"`
	Proof             string `json:"proof,omitempty"`
}

// vectorSeed returns the fixed seed of a vector key: SHA-256 of its label.
func vectorSeed(label string) []byte {
	s := sha256.Sum256([]byte("careledger test vector key: " + label))
	return s[:]
}

func vectorPub(label string) []byte { return keyFromSeed(vectorSeed(label)).PubKey().Bytes() }

// vectorRouter returns the table of every registered message type, which
// decodes the vectors' bodies.
func vectorRouter(t *testing.T) *contract.Router {
	t.Helper()
	r, err := app.NewRouter()
	if err != nil {
		t.Fatalf("app.NewRouter() = %v", err)
	}
	return r
}

// vectorSpec is what a vector is built from; everything else is computed.
type vectorSpec struct {
	description string
	signer      string // key label
	sequence    uint64
	msgs        func() []specMsg
}

// specMsg is a message or, for identity.RotateKey, the new key's label.
type specMsg struct {
	msg    contract.Msg
	newKey string
}

func vectorSpecs() []vectorSpec {
	physician := tx.AddressOf(vectorPub("physician"))
	child, parent := tx.AddressOf(vectorPub("child")), tx.AddressOf(vectorPub("parent"))
	return []vectorSpec{
		{
			description: "A patient registers their own key (identity/register_patient, empty body). " +
				"It is the key's first transaction, so the sequence is 0.",
			signer:   "patient",
			sequence: 0,
			msgs:     func() []specMsg { return []specMsg{{msg: identity.RegisterPatient{}}} },
		},
		{
			description: "An admin of general-hospital registers a physician's key with two roles " +
				"(identity/register_member).",
			signer:   "admin",
			sequence: 5,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.RegisterMember{
					Org:    "general-hospital",
					PubKey: vectorPub("physician"),
					Roles:  []identity.Role{identity.Nurse, identity.Physician},
				}}}
			},
		},
		{
			description: "Three messages in one transaction, applied in order and all or nothing: the admin " +
				"sets the physician's roles, suspends them, then reinstates them. Sequence 300 takes two bytes.",
			signer:   "admin",
			sequence: 300,
			msgs: func() []specMsg {
				return []specMsg{
					{msg: identity.SetMemberRoles{Member: physician, Roles: []identity.Role{identity.Physician}}},
					{msg: identity.SetMemberStatus{Member: physician, Suspended: true}},
					{msg: identity.SetMemberStatus{Member: physician, Suspended: false}},
				}
			},
		},
		{
			description: "The patient rotates to a new key (identity/rotate_key). The proof is the new key's " +
				"signature over rotation_sign_bytes; the account keeps its address and sequence.",
			signer:   "patient",
			sequence: 1,
			msgs:     func() []specMsg { return []specMsg{{newKey: "patient new"}} },
		},
		{
			description: "A child's account names a parent as a delegate who may act for it (identity/set_delegate). " +
				"The child's key registered itself with sequence 0.",
			signer:   "child",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.SetDelegate{Delegate: parent, Relation: identity.Parent}}}
			},
		},
		{
			description: "The child names two guardians, the parent and the physician, both of whom must approve a " +
				"recovery, which then takes effect 72 hours (259200 seconds) of block time later (identity/set_guardians).",
			signer:   "child",
			sequence: 2,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.SetGuardians{Guardians: []tx.Address{parent, physician}, Threshold: 2, Delay: 259200}}}
			},
		},
		{
			description: "The child lost their key; the parent, a guardian, proposes moving the child's account to a key " +
				"made on a new device (identity/propose_recovery). The proof is the new key's signature over the " +
				"rotation sign bytes of section 6.5 for the child's address; the proposal counts as the parent's approval.",
			signer:   "parent",
			sequence: 0,
			msgs: func() []specMsg {
				newKey := keyFromSeed(vectorSeed("child new"))
				newPub := newKey.PubKey().Bytes()
				proof, err := newKey.Sign(identity.RotationSignBytes(vectorChainID, child, newPub))
				if err != nil {
					panic(err)
				}
				return []specMsg{{msg: identity.ProposeRecovery{Patient: child, NewPubKey: newPub, Proof: proof}}}
			},
		},
		{
			description: "The physician, the other guardian, approves recovery 1 (identity/approve_recovery): with two " +
				"approvals of two, its delay starts at this block's time.",
			signer:   "physician",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.ApproveRecovery{Patient: child, Recovery: 1}}}
			},
		},
		{
			description: "Had the child still held their key, it (or a delegate) could cancel recovery 1 until it " +
				"completes (identity/cancel_recovery).",
			signer:   "child",
			sequence: 3,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.CancelRecovery{Patient: child, Recovery: 1}}}
			},
		},
		{
			description: "Once the block time reaches the recovery's effective time, the new key itself, not yet " +
				"registered and so at sequence 0, completes recovery 1 (identity/complete_recovery): it now signs " +
				"for the child's account, and the old key for none.",
			signer:   "child new",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.CompleteRecovery{Patient: child, Recovery: 1}}}
			},
		},
		{
			description: "A node of general-hospital (a member with role service) anchors three record versions it " +
				"holds about the child (records/anchor). The root stands for the RFC 6962 root over their leaves.",
			signer:   "node",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: records.Anchor{
					Custodian: "general-hospital", Patient: child, Root: sha256.Sum256([]byte("vector anchor root")), Count: 3,
				}}}
			},
		},
		{
			description: "The parent, as the child's delegate, erases one of the child's records at general-hospital " +
				"(records/erase); an empty record would erase all of them.",
			signer:   "parent",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: records.Erase{Custodian: "general-hospital", Patient: child, Record: "Observation/obs-1"}}}
			},
		},
		{
			description: "The child grants access in two messages (consent/grant): to the physicians of " +
				"general-hospital, for laboratory observations and conditions, in 2026, under a CEL condition; and " +
				"to one member, for one record, with no end and no condition.",
			signer:   "child",
			sequence: 2,
			msgs: func() []specMsg {
				return []specMsg{
					{msg: consent.Grant{
						Patient: child,
						Grantee: consent.Grantee{Org: "general-hospital", Role: identity.Physician},
						Scope: consent.Scope{
							Types: []string{"Observation", "Condition"}, Categories: []string{"laboratory"},
						},
						Purposes:  []string{"TREAT", "ETREAT"},
						NotBefore: 1767225600, // 2026-01-01T00:00:00Z
						NotAfter:  1798761600, // 2027-01-01T00:00:00Z
						Condition: `custodian == "general-hospital"`,
					}},
					{msg: consent.Grant{
						Patient:  child,
						Grantee:  consent.Grantee{Member: physician},
						Scope:    consent.Scope{Types: []string{"*"}, Records: []string{"Observation/obs-2"}},
						Purposes: []string{"COC"},
					}},
				}
			},
		},
		{
			description: "The child revokes grant 1 (consent/revoke).",
			signer:      "child",
			sequence:    3,
			msgs:        func() []specMsg { return []specMsg{{msg: consent.Revoke{Grant: 1}}} },
		},
		{
			description: "The physician asks the child for 30 days of access to medication statements for treatment, " +
				"on a referral (consent/request).",
			signer:   "physician",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: consent.Request{
					Patient: child, Scope: consent.Scope{Types: []string{"MedicationStatement"}},
					Purpose: "TREAT", Duration: 30 * 24 * 3600, Reason: "referral",
				}}}
			},
		},
		{
			description: "The parent, as the child's delegate, approves request 1 (consent/answer).",
			signer:      "parent",
			sequence:    2,
			msgs:        func() []specMsg { return []specMsg{{msg: consent.Answer{Request: 1, Approve: true}}} },
		},
		{
			description: "General-hospital's node asks for the decision on the physician reading one of the child's " +
				"observations and searching their conditions, for treatment (consent/access), before it releases them.",
			signer:   "node",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: consent.Access{
					Requester: physician, Patient: child, Purpose: "TREAT",
					Items: []consent.Item{
						{Type: "Observation", ID: "obs-1", Categories: []string{"laboratory"}},
						{Type: "Condition"},
					},
				}}}
			},
		},
		{
			description: "General-hospital's node asks for the decision on the physician breaking the glass to read the " +
				"child's conditions in an emergency, the child being unconscious (consent/access with a glass_reason).",
			signer:   "node",
			sequence: 2,
			msgs: func() []specMsg {
				return []specMsg{{msg: consent.Access{
					Requester: physician, Patient: child, Purpose: "ETREAT", BreakGlass: true, GlassReason: "unconscious",
					Items: []consent.Item{{Type: "Condition"}},
				}}}
			},
		},
		{
			description: "A privacy officer of general-hospital closes the review of break-the-glass access 2, " +
				"finding it justified (consent/review).",
			signer:   "privacy officer",
			sequence: 0,
			msgs:     func() []specMsg { return []specMsg{{msg: consent.Review{Access: 2, Justified: true}}} },
		},
		{
			description: "The parent, as the child's delegate, forms the child's care team of the physician and every member of " +
				"city-pharmacy (consent/set_team, team 0: a new team, numbered 1), then grants the team the child's " +
				"immunizations for treatment (consent/grant to grantee.team 1).",
			signer:   "parent",
			sequence: 3,
			msgs: func() []specMsg {
				return []specMsg{
					{msg: consent.SetTeam{Patient: child, Members: []tx.Address{physician}, Orgs: []string{"city-pharmacy"}}},
					{msg: consent.Grant{Patient: child, Grantee: consent.Grantee{Team: 1}, Scope: consent.Scope{Types: []string{"Immunization"}}, Purposes: []string{"TREAT"}}},
				}
			},
		},
		{
			description: "The admin of general-hospital, a validator organization, opens two proposals " +
				"(governance/propose): admit city-pharmacy with a validator, an admin and a node key; and raise " +
				"max_tx_bytes. Fields a kind does not use are zero.",
			signer:   "admin",
			sequence: 301,
			msgs: func() []specMsg {
				return []specMsg{
					{msg: governance.Propose{
						Kind: governance.AdmitOrg,
						Org: identity.GenesisOrg{
							ID: "city-pharmacy", Name: "City Pharmacy", Type: identity.Pharma,
							ValidatorKey: vectorPub("pharmacy validator"), Power: 10,
							Admins: []tx.PubKey{vectorPub("pharmacy admin")}, Nodes: []tx.PubKey{vectorPub("pharmacy node")},
						},
						Deadline: 100,
					}},
					{msg: governance.Propose{
						Kind: governance.SetParams, Params: governance.Params{MaxTxBytes: 131072}, Deadline: 100,
					}},
				}
			},
		},
		{
			description: "The admin of another validator organization votes yes on proposal 1 (governance/vote).",
			signer:      "clinic admin",
			sequence:    0,
			msgs:        func() []specMsg { return []specMsg{{msg: governance.Vote{Proposal: 1, Yes: true}}} },
		},
		{
			description: "A manufacturer's admin registers a product (supply/register_product): GTIN-14 with its check digit, " +
				"NDC, and a cold-chain rule over one reading in thousandths of a degree (2 to 8 °C).",
			signer:   "maker admin",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: supply.RegisterProduct{
					Owner: "acme-pharma", GTIN: "09521234543213", NDC: "12345-6789-01",
					Excursion: `type == "Temperature" && (value < 2000 || value > 8000)`,
				}}}
			},
		},
		{
			description: "The manufacturer's node records an EPCIS document of three events (supply/record): commissioning two packs " +
				"with lot and expiry (YYYYMMDD), packing them into a case with a temperature reading of -1.5 °C " +
				"(zigzag-encoded -1500), and an error declaration of the packing under the same hash (corrects).",
			signer:   "maker node",
			sequence: 7,
			msgs: func() []specMsg {
				packs := []supply.EPC{supply.SGTIN("09521234543213", "A1"), supply.SGTIN("09521234543213", "A2")}
				pack := supply.Event{
					Hash: sha256.Sum256([]byte("packing")), Kind: supply.AggregationEvent, Action: supply.Add,
					BizStep: "packing", Disposition: "in_progress", EPCs: packs, Parent: supply.SSCC("106141412345678908"),
					Readings: []supply.Reading{{Type: "Temperature", Value: -1500, UOM: "CEL"}},
				}
				declared := pack
				declared.Corrects = &pack.Hash
				return []specMsg{{msg: supply.Record{Events: []supply.Event{
					{
						Hash: sha256.Sum256([]byte("commissioning")), Kind: supply.ObjectEvent, Action: supply.Add,
						BizStep: "commissioning", Disposition: "active", EPCs: packs, Lot: "L2025A", Expiry: 20271231,
					},
					pack,
					declared,
				}}}}
			},
		},
		{
			description: "The brand owner releases a quarantined case and everything in it (supply/release).",
			signer:      "maker admin",
			sequence:    1,
			msgs: func() []specMsg {
				return []specMsg{{msg: supply.Release{EPCs: []supply.EPC{supply.SSCC("106141412345678908")}}}}
			},
		},
		{
			description: "The brand owner recalls a lot of its product (supply/recall).",
			signer:      "maker admin",
			sequence:    2,
			msgs:        func() []specMsg { return []specMsg{{msg: supply.Recall{GTIN: "09521234543213", Lot: "L2025A"}}} },
		},
		{
			description: "The manufacturer's node records the receipts of two DSCSA verifications it answered (supply/verifications): " +
				"one verified with lot and expiry as asked, one of an unknown serial, both answered from the state at height 9.",
			signer:   "maker node",
			sequence: 8,
			msgs: func() []specMsg {
				var pharmacist tx.Address
				copy(pharmacist[:], bytes.Repeat([]byte{0x42}, tx.AddressSize))
				return []specMsg{{msg: supply.Verifications{Receipts: []supply.Receipt{
					{Requester: pharmacist, GTIN: "09521234543213", Serial: "A1", Lot: "L2025A", Expiry: 20271231, Height: 9},
					{Requester: pharmacist, GTIN: "09521234543213", Serial: "Z9", Height: 9, Reason: supply.ReasonUnknown},
				}}}}
			},
		},
		{
			description: "The manufacturer's admin claims its party GLN and a warehouse's GLN in the party directory (supply/claim_parties).",
			signer:      "maker admin",
			sequence:    3,
			msgs: func() []specMsg {
				return []specMsg{{msg: supply.ClaimParties{Org: "acme-pharma", GLNs: []string{"0614141000005", "0614141000012"}}}}
			},
		},
		{
			description: "The manufacturer's admin gives the warehouse's GLN up, so that another organization may claim it (supply/release_parties).",
			signer:      "maker admin",
			sequence:    4,
			msgs: func() []specMsg {
				return []specMsg{{msg: supply.ReleaseParties{Org: "acme-pharma", GLNs: []string{"0614141000012"}}}}
			},
		},
		{
			description: "A payer's admin deposits 10,000.00 as 1,000,000 minor units into its ledger account (claims/deposit).",
			signer:      "payer admin",
			sequence:    0,
			msgs:        func() []specMsg { return []specMsg{{msg: claims.Deposit{Payer: "acme-health", Amount: 1_000_000}}} },
		},
		{
			description: "The payer registers a plan (claims/register_plan): deductible 500.00, co-insurance 2000 basis points (20%), " +
				"copay 25.00, out-of-pocket maximum 2,000.00, plan year from January 1 (MMDD 101).",
			signer:   "payer admin",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.RegisterPlan{Payer: "acme-health", Plan: "gold", Deductible: 50_000, Coinsurance: 2_000, Copay: 2_500, OOPMax: 200_000, YearStart: 101}}}
			},
		},
		{
			description: "The payer registers a patient's coverage under the plan for 2025 (claims/register_coverage), dates as YYYYMMDD.",
			signer:      "payer admin",
			sequence:    2,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.RegisterCoverage{Payer: "acme-health", Coverage: "cov-1", Plan: "gold",
					Patient: tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()), Start: 20250101, End: 20251231}}}
			},
		},
		{
			description: "The payer loads rows into the draft of policy version 1 (claims/policy_load): two fees (one for modifier 25), " +
				"a code pair with modifier indicator 1, a unit limit, a denial rule and a prior-authorization rule.",
			signer:   "payer admin",
			sequence: 3,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.PolicyLoad{Payer: "acme-health", Version: 1,
					Fees:  []claims.Fee{{Code: "99214", Allowed: 15_000}, {Code: "99214", Modifier: "25", Allowed: 16_000}},
					Pairs: []claims.CodePair{{Column1: "99214", Column2: "36415", Modifier: 1}},
					Units: []claims.UnitLimit{{Code: "36415", Max: 1}},
					Rules: []claims.Rule{
						{ID: "office-only", Action: claims.Deny, Reason: "58", Expr: `code == "99214" && place != "11"`},
						{ID: "mri-auth", Action: claims.RequireAuth, Expr: `code == "70553"`},
					},
				}}}
			},
		},
		{
			description: "The payer publishes policy version 1, in force for dates of service from 2025-01-01 (claims/policy_publish).",
			signer:      "payer admin",
			sequence:    4,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.PolicyPublish{Payer: "acme-health", Version: 1, Effective: 20250101}}}
			},
		},
		{
			description: "A clinic's node submits a claim of two lines (claims/submit): an office visit with modifier 25 and an MRI " +
				"that uses a preauthorization; amounts in minor units, diagnosis pointers 1-based.",
			signer:   "clinic node",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.Submit{
					Claim: sha256.Sum256([]byte("claim body")), Use: claims.UseClaim,
					Patient:  tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()),
					Provider: "city-clinic", Payer: "acme-health", Coverage: "cov-1", Age: 40, Place: "11",
					Diagnoses: []string{"E11.9", "I10"},
					Lines: []claims.Line{
						{Code: "99214", Modifiers: []string{"25"}, Units: 1, Charge: 18_000, Date: 20250301, Pointers: []uint64{1, 2}},
						{Code: "70553", Units: 1, Charge: 250_000, Date: 20250301, Pointers: []uint64{2}, Auth: sha256.Sum256([]byte("preauthorization body"))},
					},
				}}}
			},
		},
		{
			description: "The payer's claims agent authorizes line 0 of a preauthorization its rules denied (claims/authorize).",
			signer:      "payer agent",
			sequence:    0,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.Authorize{Claim: sha256.Sum256([]byte("preauthorization body")), Lines: []uint64{0}}}}
			},
		},
		{
			description: "A clinic's admin publishes a schedule (schedule/publish): primary care, a deposit of 20.00, free cancellation until " +
				"24 hours (86400 s) before the start, half the deposit kept on a later cancellation and all of it on a no-show.",
			signer:   "clinic admin",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.Publish{Provider: "city-clinic", Schedule: "gp", Category: "primary-care",
					Deposit: 2_000, CancelBefore: 86_400, LateCancelKeep: 5_000, NoShowKeep: 10_000}}}
			},
		},
		{
			description: "The clinic opens two 20-minute slots on it (schedule/open_slots), starts in Unix seconds.",
			signer:      "clinic admin",
			sequence:    1,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.OpenSlots{Provider: "city-clinic", Schedule: "gp",
					Slots: []schedule.SlotSpec{{Start: 1_772_438_400, Minutes: 20}, {Start: 1_772_439_600, Minutes: 20}}}}}
			},
		},
		{
			description: "A patient books the first slot with their own key (schedule/book); the deposit moves into escrow.",
			signer:      "patient",
			sequence:    3,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.Book{Patient: tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()),
					SlotRef: schedule.SlotRef{Provider: "city-clinic", Schedule: "gp", Start: 1_772_438_400}}}}
			},
		},
		{
			description: "The patient moves the booking to the second slot (schedule/reschedule).",
			signer:      "patient",
			sequence:    4,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.Reschedule{SlotRef: schedule.SlotRef{Provider: "city-clinic", Schedule: "gp", Start: 1_772_438_400}, NewStart: 1_772_439_600}}}
			},
		},
		{
			description: "The patient cancels the booking (schedule/cancel).",
			signer:      "patient",
			sequence:    5,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.Cancel{SlotRef: schedule.SlotRef{Provider: "city-clinic", Schedule: "gp", Start: 1_772_439_600}}}}
			},
		},
		{
			description: "The clinic's node marks a booked appointment attended (schedule/mark, outcome 1; 2 is a no-show).",
			signer:      "clinic node",
			sequence:    1,
			msgs: func() []specMsg {
				return []specMsg{{msg: schedule.Mark{SlotRef: schedule.SlotRef{Provider: "city-clinic", Schedule: "gp", Start: 1_772_438_400}, Outcome: schedule.Attended}}}
			},
		},
		{
			description: "A payer creates a reward program (rewards/create) funded with 1,000.00: 10.00 for an attended appointment attested by " +
				"a provider, 5.00 for each of a patient's first three dispensed prescriptions attested by a pharmacy, at most 50.00 a patient, " +
				"held for the patient to redeem to the payer's account (redeem_to).",
			signer:   "payer admin",
			sequence: 5,
			msgs: func() []specMsg {
				return []specMsg{{msg: rewards.Create{Sponsor: "acme-health", Program: "checkups-2026", Funding: 100_000, PatientCap: 5_000, End: 1_798_761_600,
					Rules: []rewards.Rule{
						{Event: "attended", Amount: 1_000, Attesters: []string{"provider"}},
						{Event: "dispensed", Amount: 500, Attesters: []string{"pharma"}, Expr: "count < 3"},
					}, RedeemTo: []string{"acme-health"}}}}
			},
		},
		{
			description: "The clinic's node attests an attended appointment to the program (rewards/attest); ref is its commitment to its own record.",
			signer:      "clinic node",
			sequence:    2,
			msgs: func() []specMsg {
				return []specMsg{{msg: rewards.Attest{Program: "checkups-2026", Patient: tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()),
					Event: "attended", Ref: sha256.Sum256([]byte("appointment record"))}}}
			},
		},
		{
			description: "The payer returns what is left of the program's pool once it has ended (rewards/close).",
			signer:      "payer admin",
			sequence:    6,
			msgs:        func() []specMsg { return []specMsg{{msg: rewards.Close{Program: "checkups-2026"}}} },
		},
		{
			description: "A patient redeems 5.00 of the rewards a program holds for them to the payer's account, against a co-pay (rewards/redeem).",
			signer:      "patient",
			sequence:    1,
			msgs: func() []specMsg {
				return []specMsg{{msg: rewards.Redeem{Program: "checkups-2026", Patient: tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()),
					To: "acme-health", Amount: 500}}}
			},
		},
		{
			description: "The payer sends 50.00 to a patient's ledger account (ledger/send); to_org empty.",
			signer:      "payer admin",
			sequence:    7,
			msgs: func() []specMsg {
				return []specMsg{{msg: ledger.Send{From: "acme-health", ToPatient: tx.AddressOf(keyFromSeed(vectorSeed("patient")).PubKey().Bytes()), Amount: 5_000}}}
			},
		},
		{
			description: "The clinic's node appeals the claim's denied line 1 (claims/appeal) with a reason code and the commitment " +
				"to its appeal letter, which stays at the clinic.",
			signer:   "clinic node",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.Appeal{Claim: sha256.Sum256([]byte("claim body")), Lines: []uint64{1},
					Reason: "auth-on-file", Letter: sha256.Sum256([]byte("appeal letter"))}}}
			},
		},
		{
			description: "The payer's claims agent overturns the appeal (claims/decide_appeal) with a reason code: the line is " +
				"re-priced and paid in the same block.",
			signer:   "payer agent",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.DecideAppeal{Claim: sha256.Sum256([]byte("claim body")), Overturn: true, Reason: "medical-necessity"}}}
			},
		},
		{
			description: "The clinic's node records, before it answers, that the payer's claims agent read the claim's decision " +
				"as a ClaimResponse for payment (claims/read).",
			signer:   "clinic node",
			sequence: 3,
			msgs: func() []specMsg {
				return []specMsg{{msg: claims.Read{Reader: tx.AddressOf(keyFromSeed(vectorSeed("payer agent")).PubKey().Bytes()),
					Purpose: "HPAYMT", View: "ClaimResponse", Claims: [][32]byte{sha256.Sum256([]byte("claim body"))}}}}
			},
		},
		{
			description: "A research sponsor's researcher registers a trial (trials/register): the commitments of its ResearchStudy, " +
				"protocol and statistical analysis plan, its ethics board, and its pre-specified outcomes, each list sorted.",
			signer:   "researcher",
			sequence: 0,
			msgs: func() []specMsg {
				return []specMsg{{msg: trials.Register{Trial: "NCT00000001", Sponsor: "acme-research", Board: "city-irb",
					Study: sha256.Sum256([]byte("study")), Protocol: sha256.Sum256([]byte("protocol v1")), SAP: sha256.Sum256([]byte("sap v1")),
					Primary: []string{"hba1c-26w", "weight-26w"}, Secondary: []string{"ae-rate"}}}}
			},
		},
		{
			description: "The sponsor amends the protocol (trials/amend): version 2 demotes an outcome to secondary and adds a primary one.",
			signer:      "researcher",
			sequence:    1,
			msgs: func() []specMsg {
				return []specMsg{{msg: trials.Amend{Trial: "NCT00000001", Protocol: sha256.Sum256([]byte("protocol v2")), SAP: sha256.Sum256([]byte("sap v2")),
					Primary: []string{"fasting-glucose-26w", "hba1c-26w"}, Secondary: []string{"ae-rate", "weight-26w"}}}}
			},
		},
		{
			description: "The ethics board's admin approves version 2, which comes into force (trials/approve).",
			signer:      "board admin",
			sequence:    0,
			msgs:        func() []specMsg { return []specMsg{{msg: trials.Approve{Trial: "NCT00000001", Version: 2}}} },
		},
		{
			description: "A participant consents to version 2 with their own key (trials/consent).",
			signer:      "patient",
			sequence:    0,
			msgs:        func() []specMsg { return []specMsg{{msg: trials.Consent{Trial: "NCT00000001", Version: 2}}} },
		},
		{
			description: "The sponsor enrolls the participant (trials/enroll), then a participant withdraws (trials/withdraw).",
			signer:      "researcher",
			sequence:    2,
			msgs: func() []specMsg {
				p := tx.AddressOf(vectorPub("patient"))
				return []specMsg{{msg: trials.Enroll{Trial: "NCT00000001", Participant: p}}, {msg: trials.Withdraw{Trial: "NCT00000001", Participant: p}}}
			},
		},
		{
			description: "The sponsor commits a dataset's RFC 6962 root of 120 rows captured under version 2 from two participants, " +
				"sorted (trials/commit_data), then reports results naming two outcomes (trials/report).",
			signer:   "researcher",
			sequence: 3,
			msgs: func() []specMsg {
				ps := []tx.Address{tx.AddressOf(vectorPub("patient")), tx.AddressOf(vectorPub("child"))}
				slices.SortFunc(ps, func(a, b tx.Address) int { return bytes.Compare(a[:], b[:]) })
				return []specMsg{
					{msg: trials.CommitData{Trial: "NCT00000001", Dataset: "visit-1", Root: sha256.Sum256([]byte("dataset")), Rows: 120, Version: 2, Participants: ps}},
					{msg: trials.Report{Trial: "NCT00000001", Result: sha256.Sum256([]byte("results")), Outcomes: []string{"fasting-glucose-26w", "hba1c-26w"}}},
				}
			},
		},
		{
			description: "The sponsor publishes the trial's eligibility criteria (trials/criteria): a CEL rule over the coarse " +
				"attributes custodians compute from their own records.",
			signer:   "researcher",
			sequence: 4,
			msgs: func() []specMsg {
				return []specMsg{{msg: trials.Criteria{Trial: "NCT00000001",
					Rule: `age_band in ["40-49", "50-59"] && "44054006" in conditions && lab_in_range(labs, "4548-4", 7.0, 10.0)`}}}
			},
		},
		{
			description: "A patient agrees, with their own key, to be contacted about research by the custodians holding their records (trials/contact).",
			signer:      "patient",
			sequence:    1,
			msgs:        func() []specMsg { return []specMsg{{msg: trials.Contact{OptIn: true}}} },
		},
		{
			description: "A hospital's node publishes how many of its opted-in patients match the criteria's revision 1 (trials/match_count), nothing else.",
			signer:      "hospital node",
			sequence:    0,
			msgs: func() []specMsg {
				return []specMsg{{msg: trials.MatchCount{Trial: "NCT00000001", Revision: 1, Custodian: "general-hospital", Matched: 3}}}
			},
		},
		{
			description: "The parent, the child's delegate, authorizes the child's glucose meter (identity/set_device): its key " +
				"becomes a device account that may write Observations of LOINC 2339-0 (glucose) and 8867-4 (heart rate) about the " +
				"child to general-hospital's FHIR API, and signs no transaction. The codes are their commitments under the device's " +
				"salt, the 16 bytes 00 to 0f, which the chain never sees. The same message with remove, and no " +
				"custodian or codes, revokes it.",
			signer:   "parent",
			sequence: 1,
			msgs: func() []specMsg {
				return []specMsg{{msg: identity.SetDevice{Patient: child, PubKey: vectorPub("glucose meter"),
					Custodian: "general-hospital", Codes: identity.CommitCodes(vectorDeviceSalt, []string{"2339-0", "8867-4"})}}}
			},
		},
	}
}

// vectorDeviceSalt is the glucose meter's salt: the bytes 00 to 0f.
var vectorDeviceSalt = []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// buildVector computes a vector from its spec.
func buildVector(t *testing.T, r *contract.Router, s vectorSpec) vector {
	t.Helper()
	seed := vectorSeed(s.signer)
	key := keyFromSeed(seed)
	pub := key.PubKey().Bytes()
	v := vector{
		Description: s.description,
		Seed:        hex.EncodeToString(seed),
		PubKey:      hex.EncodeToString(pub),
		Address:     tx.AddressOf(pub).String(),
		ChainID:     vectorChainID,
		Sequence:    s.sequence,
	}
	t1 := &tx.Tx{ChainID: vectorChainID, Signer: pub, Sequence: s.sequence}
	for _, sm := range s.msgs() {
		m, f := sm.msg, msgFields{}
		if sm.newKey != "" {
			newSeed := vectorSeed(sm.newKey)
			newKey := keyFromSeed(newSeed)
			newPub := newKey.PubKey().Bytes()
			rsb := identity.RotationSignBytes(vectorChainID, tx.AddressOf(pub), newPub)
			proof, err := newKey.Sign(rsb)
			if err != nil {
				t.Fatal(err)
			}
			m = identity.RotateKey{NewPubKey: newPub, Proof: proof}
			f.NewKeySeed = hex.EncodeToString(newSeed)
			f.RotationSignBytes = hex.EncodeToString(rsb)
		}
		tm := contract.Encode(m)
		t1.Msgs = append(t1.Msgs, tm)
		v.Messages = append(v.Messages, vectorMsg{
			Type: tm.Type, Name: r.Name(tm.Type), Fields: fieldsOf(t, m, f), Body: hex.EncodeToString(tm.Body),
		})
	}
	if err := t1.Sign(key); err != nil {
		t.Fatal(err)
	}
	enc := t1.Encode()
	v.SignBytes = hex.EncodeToString(t1.SignBytes())
	v.Signature = hex.EncodeToString(t1.Signature)
	v.Tx = hex.EncodeToString(enc)
	v.TxBase64 = base64.StdEncoding.EncodeToString(enc)
	v.Hash = tx.HashOf(enc).String()
	return v
}

// fieldsOf returns the readable fields of m as compact JSON. The identity
// messages of the first vectors keep their hand-written form, with extra
// (rotate_key's new key seed and rotation sign bytes); every other message
// gets the generic form of readableFields.
func fieldsOf(t *testing.T, m contract.Msg, extra msgFields) json.RawMessage {
	t.Helper()
	var b []byte
	var err error
	switch m.(type) {
	case identity.RegisterPatient, identity.RegisterMember, identity.SetMemberRoles, identity.SetMemberStatus, identity.RotateKey:
		fillFields(&extra, m)
		b, err = json.Marshal(extra)
	default:
		b, err = readableFields(nil, reflect.ValueOf(m))
	}
	if err != nil {
		t.Fatalf("fields of %T: %v", m, err)
	}
	return b
}

// readableFields appends v as JSON for reading: a struct as an object of its
// fields in declaration order (every message declares its fields in body
// order; were one not to, its fields would still check, only read oddly), each named
// by its json tag or else in snake_case, zero or not; byte arrays and byte
// slices as lowercase hex; other lists as arrays, [] when empty (the body
// does not tell an empty list from none).
func readableFields(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	switch v.Kind() {
	case reflect.Struct:
		b = append(b, '{')
		n := 0
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if n++; n > 1 {
				b = append(b, ',')
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = snakeCase(f.Name)
			}
			b = strconv.AppendQuote(b, name)
			b = append(b, ':')
			if b, err = readableFields(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case reflect.Array, reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			raw := make([]byte, v.Len())
			for i := range raw {
				raw[i] = byte(v.Index(i).Uint())
			}
			return strconv.AppendQuote(b, hex.EncodeToString(raw)), nil
		}
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = readableFields(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return readableFields(b, v.Elem())
	case reflect.String:
		s, err := json.Marshal(v.String())
		return append(b, s...), err
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10), nil
	}
	return nil, fmt.Errorf("no readable form for a %s", v.Type())
}

// snakeCase turns a Go field name into a JSON name: BreakGlass → break_glass,
// ID → id.
func snakeCase(s string) string {
	var out []rune
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rs[i-1]) {
			out = append(out, '_')
		}
		out = append(out, unicode.ToLower(r))
	}
	return string(out)
}

// fillFields sets the readable fields of identity message m.
func fillFields(f *msgFields, m contract.Msg) {
	roles := func(rs []identity.Role) []string {
		var out []string
		for _, r := range rs {
			out = append(out, string(r))
		}
		return out
	}
	switch m := m.(type) {
	case identity.RegisterMember:
		f.Org, f.PubKey, f.Roles = m.Org, hex.EncodeToString(m.PubKey), roles(m.Roles)
	case identity.SetMemberRoles:
		f.Member, f.Roles = m.Member.String(), roles(m.Roles)
	case identity.SetMemberStatus:
		f.Member, f.Suspended = m.Member.String(), &m.Suspended
	case identity.RotateKey:
		f.NewPubKey, f.Proof = hex.EncodeToString(m.NewPubKey), hex.EncodeToString(m.Proof)
	}
}

func buildVectorFile(t *testing.T) vectorFile {
	vf := vectorFile{Comment: []string{
		"CareLedger transaction test vectors; docs/TRANSACTIONS.md specifies the encoding.",
		"Byte strings are lowercase hex, except tx_base64 (standard base64 with padding).",
		"seed is the signer's 32-byte Ed25519 seed (RFC 8032 secret key); signatures are deterministic.",
		"Each message's body is normative; fields show what it encodes.",
		"fields of identity types 1 to 5 leave out empty values; other types list every field in body order.",
		"Generated by go test ./tx -run TestVectors -update; do not edit by hand.",
	}}
	r := vectorRouter(t)
	for _, s := range vectorSpecs() {
		vf.Vectors = append(vf.Vectors, buildVector(t, r, s))
	}
	return vf
}

func TestVectors(t *testing.T) {
	want := buildVectorFile(t)
	if *update {
		b, err := json.MarshalIndent(want, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsPath)
	}

	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var got vectorFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	for _, v := range got.Vectors {
		for j := range v.Messages {
			v.Messages[j].Fields = compactJSON(t, v.Messages[j].Fields)
		}
	}
	if !reflect.DeepEqual(got.Comment, want.Comment) {
		t.Errorf("%s comment = %q; want %q (run with -update)", vectorsPath, got.Comment, want.Comment)
	}
	if len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("%s has %d vectors; want %d (run with -update)", vectorsPath, len(got.Vectors), len(want.Vectors))
	}
	for i := range want.Vectors {
		if !reflect.DeepEqual(got.Vectors[i], want.Vectors[i]) {
			g, _ := json.MarshalIndent(got.Vectors[i], "", "  ")
			w, _ := json.MarshalIndent(want.Vectors[i], "", "  ")
			t.Errorf("vector %d in %s =\n%s\nwant\n%s\n(run with -update after reviewing the change)", i, vectorsPath, g, w)
		}
	}
	r := vectorRouter(t)
	for i, v := range got.Vectors {
		t.Run(v.Messages[0].Name, func(t *testing.T) { checkVector(t, r, i, v) })
	}
}

// compactJSON returns b without the insignificant spaces that indenting the
// file adds.
func compactJSON(t *testing.T, b json.RawMessage) json.RawMessage {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return buf.Bytes()
}

// checkVector recomputes a vector from its seed and bodies alone, as another
// implementation would: it decodes each body with the registered contract,
// re-encodes it, and checks every derived value in the file.
func checkVector(t *testing.T, r *contract.Router, i int, v vector) {
	h := func(name, s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatalf("vector %d: %s is not hex: %v", i, name, err)
		}
		return b
	}
	seed := h("seed", v.Seed)
	if len(seed) != 32 {
		t.Fatalf("vector %d: seed has %d bytes; want 32", i, len(seed))
	}
	key := keyFromSeed(seed)
	pub := key.PubKey().Bytes()
	if got := hex.EncodeToString(pub); got != v.PubKey {
		t.Errorf("vector %d: public key of seed %s = %s; want %s", i, v.Seed, got, v.PubKey)
	}
	if got := tx.AddressOf(pub).String(); got != v.Address {
		t.Errorf("vector %d: AddressOf(%s) = %s; want %s", i, v.PubKey, got, v.Address)
	}

	built := &tx.Tx{ChainID: v.ChainID, Signer: pub, Sequence: v.Sequence}
	for j, m := range v.Messages {
		body := h("body", m.Body)
		built.Msgs = append(built.Msgs, tx.Msg{Type: m.Type, Body: body})
		if got := r.Name(m.Type); got != m.Name {
			t.Errorf("vector %d message %d: Name(%d) = %q; want %q", i, j, m.Type, got, m.Name)
		}
		_, dm, err := r.Decode(j, tx.Msg{Type: m.Type, Body: body})
		if err != nil {
			t.Errorf("vector %d message %d: Decode(%d, %s) = %v; want nil", i, j, m.Type, m.Body, err)
			continue
		}
		if re := contract.Encode(dm); !bytes.Equal(re.Body, body) || re.Type != m.Type {
			t.Errorf("vector %d message %d: re-encoded body = %d %x; want %d %s", i, j, re.Type, re.Body, m.Type, m.Body)
		}
		// rotate_key's fields add the new key's seed and the bytes it signed,
		// which the body does not carry.
		var extra msgFields
		if _, ok := dm.(identity.RotateKey); ok {
			if err := json.Unmarshal(m.Fields, &extra); err != nil {
				t.Fatalf("vector %d message %d: fields %s: %v", i, j, m.Fields, err)
			}
			extra = msgFields{NewKeySeed: extra.NewKeySeed, RotationSignBytes: extra.RotationSignBytes}
		}
		if f := fieldsOf(t, dm, extra); !bytes.Equal(f, m.Fields) {
			t.Errorf("vector %d message %d: body %s decodes to fields %s; want %s", i, j, m.Body, f, m.Fields)
		}
		if rk, ok := dm.(identity.RotateKey); ok {
			newKey := keyFromSeed(h("new_key_seed", extra.NewKeySeed))
			if !bytes.Equal(newKey.PubKey().Bytes(), rk.NewPubKey) {
				t.Errorf("vector %d message %d: new_pub_key %x is not the key of new_key_seed", i, j, rk.NewPubKey)
			}
			rsb := identity.RotationSignBytes(v.ChainID, tx.AddressOf(pub), rk.NewPubKey)
			if got := hex.EncodeToString(rsb); got != extra.RotationSignBytes {
				t.Errorf("vector %d message %d: RotationSignBytes = %s; want %s", i, j, got, extra.RotationSignBytes)
			}
			if proof, _ := newKey.Sign(rsb); !bytes.Equal(proof, rk.Proof) {
				t.Errorf("vector %d message %d: proof = %x; want %x", i, j, rk.Proof, proof)
			}
		}
	}
	if got := hex.EncodeToString(built.SignBytes()); got != v.SignBytes {
		t.Errorf("vector %d: SignBytes() = %s; want %s", i, got, v.SignBytes)
	}
	if err := built.Sign(key); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(built.Signature); got != v.Signature {
		t.Errorf("vector %d: signature = %s; want %s", i, got, v.Signature)
	}
	enc := built.Encode()
	if got := hex.EncodeToString(enc); got != v.Tx {
		t.Errorf("vector %d: Encode() = %s; want %s", i, got, v.Tx)
	}
	if got := base64.StdEncoding.EncodeToString(enc); got != v.TxBase64 {
		t.Errorf("vector %d: base64 = %s; want %s", i, got, v.TxBase64)
	}
	if got := tx.HashOf(enc).String(); got != v.Hash {
		t.Errorf("vector %d: HashOf() = %s; want %s", i, got, v.Hash)
	}

	raw := h("tx", v.Tx)
	dec, err := tx.Decode(raw, tx.DefaultLimits)
	if err != nil {
		t.Fatalf("vector %d: Decode(%s) = %v; want nil", i, v.Tx, err)
	}
	if !equalTx(dec, built) {
		t.Errorf("vector %d: Decode(tx) = %+v; want %+v", i, *dec, *built)
	}
	if !dec.VerifySignature() {
		t.Errorf("vector %d: decoded VerifySignature() = false; want true", i)
	}
	if !slices.Equal(h("signature", v.Signature), dec.Signature) {
		t.Errorf("vector %d: decoded signature = %x; want %s", i, dec.Signature, v.Signature)
	}
}
