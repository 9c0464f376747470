package fhirapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/custodian"
	"github.com/careledger/careledger/fhir"
	"github.com/careledger/careledger/tx"
)

// Peers reaches the FHIR APIs of the other custodians, so that
// Patient/$everything gathers a patient's records from every custodian the
// chain names. A node authenticates to a peer with its service key (a
// registered key, like any client's) and names the requester in
// X-On-Behalf-Of; the peer has its own consent decision recorded for that
// requester, so each custodian's receipt is on the chain.
type Peers struct {
	// Key is this node's service key.
	Key ed25519.PrivKey
	// URLs maps organization IDs to their nodes' API base URLs (without
	// /fhir).
	URLs map[string]string
	// Holders returns the organizations that anchored records of patient
	// (a pseudonym), from the chain.
	Holders func(patient string) ([]string, error)

	mu     sync.Mutex
	tokens map[string]v1.TokenAnswer
}

const onBehalfOf = "X-On-Behalf-Of"

// token returns a bearer token of this node at org's peer, whose API is at
// base, reusing it until shortly before it expires.
func (p *Peers) token(ctx context.Context, base, org string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.tokens[org]; ok && time.Until(t.ExpiresAt) > time.Minute {
		return t.Token, nil
	}
	ans, err := p.login(ctx, base)
	if err != nil {
		return "", err
	}
	if p.tokens == nil {
		p.tokens = map[string]v1.TokenAnswer{}
	}
	p.tokens[org] = ans
	return ans.Token, nil
}

// remote is what one peer answered.
type remote struct {
	org     string
	entries []json.RawMessage
	err     error
}

// everything asks every other holder of patient's records for what who
// may see there, with who's delegation to this node when who is not one of
// its members (see requesterOf).
func (p *Peers) everything(ctx context.Context, self string, who custodian.Requester, patient, delegation string) []remote {
	if p == nil || p.Holders == nil {
		return nil
	}
	if a := who.Account; (a.Kind != identity.Member || a.Org != self) && delegation == "" {
		return nil // no peer would take this node's word for who
	}
	orgs, err := p.Holders(patient)
	if err != nil {
		return []remote{{org: self, err: err}}
	}
	var out []remote
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, org := range orgs {
		if org == self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.ask(ctx, org, who, patient, delegation)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func (p *Peers) ask(ctx context.Context, org string, who custodian.Requester, patient, delegation string) remote {
	base, ok := p.URLs[org]
	if !ok {
		return remote{org: org, err: fmt.Errorf("no URL configured for custodian %s", org)}
	}
	base = strings.TrimRight(base, "/")
	tok, err := p.token(ctx, base, org)
	if err != nil {
		return remote{org: org, err: err}
	}
	status, body, err := peerFHIR(ctx, base+"/fhir/Patient/$everything?identifier="+url.QueryEscape(custodian.PatientSystem+"|"+patient), tok, who, delegation)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("custodian %s answered %d", org, status)
	}
	if err != nil {
		return remote{org: org, err: err}
	}
	var b struct {
		Entry []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return remote{org: org, err: fmt.Errorf("custodian %s: %w", org, err)}
	}
	return remote{org: org, entries: b.Entry}
}

// delegationHeader carries an account's permission for one organization's
// node to ask other custodians for its records: "EXPIRES.SIGNATURE", the
// Unix time it ends and the standard base64 of the account's signature of
// v1.DelegationSignBytes(chain, org, EXPIRES). The account's client sends
// it with its request; the node forwards it to the custodians it asks.
const delegationHeader = "X-Delegation"

// maxDelegation bounds how far ahead a delegation may end.
const maxDelegation = time.Hour

// checkDelegation refuses the delegation h unless acct signed it for org's
// node and it has not ended.
func (s *Server) checkDelegation(h string, acct *identity.Account, org string) error {
	refuse := func(why string) error {
		return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "a custodian's service key acts for members of its own organization, or with the account's delegation (" + delegationHeader + "): " + why})
	}
	if h == "" {
		return refuse("none was given")
	}
	exp, sig, ok := strings.Cut(h, ".")
	expires, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil {
		return refuse("it does not parse")
	}
	now := time.Now().Unix()
	if expires <= now || expires > now+int64(maxDelegation/time.Second) {
		return refuse("it has ended, or ends more than an hour ahead")
	}
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.PubKey(acct.PubKey).VerifySignature(v1.DelegationSignBytes(s.chainID, org, expires), b) {
		return refuse("its signature is not the account's")
	}
	return nil
}

// requesterOf returns who reads: the token's account, or, for a peer
// custodian's service key, the account it names in X-On-Behalf-Of.
func (s *Server) requesterOf(r *http.Request, who *identity.Account) (custodian.Requester, error) {
	req, err := requester(r, who)
	if err != nil {
		return req, err
	}
	req.Limit = s.compartment(r)
	on := r.Header.Get(onBehalfOf)
	if on == "" {
		return req, nil
	}
	if !who.HasRole(identity.Service) {
		return req, fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: onBehalfOf + " is for custodian nodes' service keys"})
	}
	addr, err := tx.ParseAddress(on)
	if err != nil {
		return req, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: onBehalfOf + " must be an account address"})
	}
	acct, err := identity.LoadAccount(s.state(), addr)
	if err != nil {
		return req, err
	}
	if acct == nil || acct.Suspended {
		return req, fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: "the account " + onBehalfOf + " names is unknown or suspended"})
	}
	// A node speaks for its own organization's members: it authenticated
	// them, and could act as them anyway by registering a member. For
	// anyone else (a patient) it needs their signed delegation, or any node
	// could read what they may.
	if acct.Kind != identity.Member || acct.Org != who.Org {
		if err := s.checkDelegation(r.Header.Get(delegationHeader), acct, who.Org); err != nil {
			return req, err
		}
	}
	req.Account = acct
	return req, nil
}

// everything serves Patient/{id}/$everything: the patient's records held
// here and at every other custodian the chain names, each custodian
// deciding and receipting its part. A custodian that cannot be reached is
// reported in an OperationOutcome entry.
func (s *Server) everything(w http.ResponseWriter, r *http.Request, who *identity.Account, _ url.Values) error {
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	patient, err := s.c.PseudonymOf(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.patientInScope(r, patient, "*"); err != nil { // before asking peers
		return err
	}
	local, err := s.c.Everything(r.Context(), req, patient)
	if err != nil {
		return err
	}
	return s.writeEverything(w, r, local, s.peers.everything(r.Context(), s.c.Org(), req, patient, r.Header.Get(delegationHeader)))
}

// everythingByIdentifier serves Patient/$everything?identifier=
// urn:careledger:patient|ADDRESS: the records about a pseudonym, here and,
// as Patient/{id}/$everything gathers them, at the other custodians; the
// form a client uses that knows the patient's pseudonym, not the FHIR id
// the node files it under. A peer's request (X-On-Behalf-Of) is answered
// with the records held here only, so that gathering never loops.
func (s *Server) everythingByIdentifier(w http.ResponseWriter, r *http.Request, who *identity.Account, params url.Values) error {
	req, err := s.requesterOf(r, who)
	if err != nil {
		return err
	}
	system, patient, _ := strings.Cut(params.Get("identifier"), "|")
	if system != custodian.PatientSystem {
		return fhir.NewError(fhir.ErrUnsupported, fhir.Issue{Diagnostics: "Patient/$everything at the type level takes identifier=" + custodian.PatientSystem + "|ADDRESS"})
	}
	if _, err := tx.ParseAddress(patient); err != nil {
		return fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: "the identifier's value must be an address"})
	}
	if err := s.patientInScope(r, patient, "*"); err != nil {
		return err
	}
	local, err := s.c.Everything(r.Context(), req, patient)
	if err != nil {
		return err
	}
	var remotes []remote
	if r.Header.Get(onBehalfOf) == "" {
		remotes = s.peers.everything(r.Context(), s.c.Org(), req, patient, r.Header.Get(delegationHeader))
	}
	return s.writeEverything(w, r, local, remotes)
}

func (s *Server) writeEverything(w http.ResponseWriter, r *http.Request, local []*fhir.Resource, remotes []remote) error {
	base := fhirBase(r)
	var entries []any
	for _, res := range local {
		entries = append(entries, map[string]any{"fullUrl": base + "/" + res.Type() + "/" + res.ID(), "resource": res, "search": map[string]any{"mode": "match"}})
	}
	total := len(local)
	for _, rm := range remotes {
		if rm.err != nil {
			s.log.Warn("everything: custodian unreachable", "org", rm.org, "err", rm.err)
			entries = append(entries, map[string]any{
				"resource": json.RawMessage(fhir.OperationOutcome(fhir.Issue{Severity: "warning", Code: "incomplete", Diagnostics: "custodian " + rm.org + " could not be reached; its records are missing"})),
				"search":   map[string]any{"mode": "outcome"},
			})
			continue
		}
		for _, e := range rm.entries {
			entries = append(entries, e)
		}
		total += len(rm.entries)
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entries})
	if err != nil {
		return err
	}
	write(w, http.StatusOK, b)
	return nil
}
