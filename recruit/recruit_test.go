package recruit

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/app"
	"github.com/careledger/careledger/apptest"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/vault"
)

// chainSender delivers the recruiter's messages to an in-process chain,
// signed by the custodian's admin.
type chainSender struct {
	t   *testing.T
	a   *app.App
	key ed25519.PrivKey
}

func (s chainSender) Send(_ context.Context, msgs ...tx.Msg) (*app.TxResult, error) {
	res := apptest.Deliver(s.t, s.a, apptest.SignTx(s.t, apptest.ChainID, s.key, apptest.Sequence(s.t, s.a, apptest.Addr(s.key)), msgs...))
	if res[0].Code != uint32(tx.CodeOK) {
		return nil, &tx.Rejection{Code: tx.Code(res[0].Code), Msg: res[0].Log}
	}
	return &app.TxResult{Height: apptest.Height(s.t, s.a)}, nil
}

// records is a custodian's vault as recruitment reads it, which notes whose
// records were read.
type records struct {
	held map[string][]vault.Record
	read []string
}

func (r *records) Patients() ([]string, error) {
	var ps []string
	for p := range r.held {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps, nil
}

func (r *records) List(patient, _ string) ([]vault.Record, error) {
	r.read = append(r.read, patient)
	return r.held[patient], nil
}

func diabetic(birth, hba1c string) []vault.Record {
	return []vault.Record{
		rec("Patient", `{"resourceType":"Patient","birthDate":"`+birth+`","gender":"male"}`),
		rec("Condition", `{"resourceType":"Condition","code":{"coding":[{"code":"44054006"}]}}`),
		rec("Observation", `{"resourceType":"Observation","code":{"coding":[{"code":"4548-4"}]},"effectiveDateTime":"2026-11-20","valueQuantity":{"value":`+hba1c+`}}`),
	}
}

const testRule = `"44054006" in conditions && lab_in_range(labs, "4548-4", 7.0, 10.0)`

// TestRecruit: over an in-process chain, the custodian (apptest.OrgA)
// evaluates the criteria over its opted-in patients only, never reading
// the records of one who did not opt in, invites and notifies the matching
// one, publishes the count, and on replay queues only a revision it has
// not counted.
func TestRecruit(t *testing.T) {
	a := apptest.NewChain(t)
	apptest.Deliver(t, a)
	send := func(k ed25519.PrivKey, m contract.Msg) {
		t.Helper()
		apptest.RequireOK(t, "send", apptest.Deliver(t, a, apptest.SignTx(t, apptest.ChainID, k, apptest.Sequence(t, a, apptest.Addr(k)), contract.Encode(m))))
	}
	sponsor, board := apptest.Key("admin-d"), apptest.Key("admin-a")
	match, high, shy := apptest.Key("match"), apptest.Key("high"), apptest.Key("shy")
	for _, k := range []ed25519.PrivKey{match, high, shy} {
		send(k, identity.RegisterPatient{})
	}
	send(match, trials.Contact{OptIn: true})
	send(high, trials.Contact{OptIn: true})
	const trial = "NCT00000777"
	send(sponsor, trials.Register{Trial: trial, Sponsor: apptest.OrgD, Board: apptest.OrgA, Primary: []string{"hba1c-26w"}})
	send(board, trials.Approve{Trial: trial, Version: 1})

	held := &records{held: map[string][]vault.Record{
		apptest.Addr(match).String(): diabetic("1970-05-05", "8.2"),
		apptest.Addr(high).String():  diabetic("1971-05-05", "11.5"), // opted in, HbA1c out of range
		apptest.Addr(shy).String():   diabetic("1972-05-05", "8.0"),  // would match, never opted in
	}}
	inbox, err := OpenInbox(filepath.Join(t.TempDir(), "inbox"))
	if err != nil {
		t.Fatal(err)
	}
	defer inbox.Close()
	var told []tx.Address
	r, err := New(Options{Org: apptest.OrgA, Records: held, State: func() identity.Reader { return a.State() },
		Sender: chainSender{t, a, board}, Inbox: inbox, Notify: func(to tx.Address, _ Invitation) { told = append(told, to) },
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Recruit(context.Background(), trial); err == nil {
		t.Fatal("Recruit before any criteria: nil error; want not_found")
	}
	send(sponsor, trials.Criteria{Trial: trial, Rule: testRule})
	res, err := r.Recruit(context.Background(), trial)
	if err != nil || res.Matched != 1 || res.Revision != 1 || res.Custodian != apptest.OrgA {
		t.Fatalf("Recruit = %+v, %v; want 1 matched of revision 1", res, err)
	}
	if !slices.Equal(told, []tx.Address{apptest.Addr(match)}) {
		t.Errorf("notified %v; want the matching patient alone", told)
	}
	if slices.Contains(held.read, apptest.Addr(shy).String()) {
		t.Errorf("records read of %v; want none of the patient who did not opt in", held.read)
	}
	if c, _ := trials.LoadCount(a.State(), trial, apptest.OrgA); c == nil || c.Matched != 1 || c.Revision != 1 {
		t.Errorf("count on the chain = %+v; want 1 for revision 1", c)
	}

	event := func(rev uint64) contract.Event {
		return contract.Event{Type: trials.EventCriteria, Attrs: []contract.Attr{{Key: "trial", Value: trial}, {Key: "revision", Value: strconv.FormatUint(rev, 10)}}}
	}
	r.Replay(event(1))
	if len(r.jobs) != 0 {
		t.Errorf("replay of a counted revision queued %d; want none", len(r.jobs))
	}
	send(sponsor, trials.Criteria{Trial: trial, Rule: `sex == "male"`})
	r.Replay(event(1)) // superseded
	r.Replay(event(2))
	if len(r.jobs) != 1 || <-r.jobs != trial {
		t.Errorf("replay of an uncounted revision: want the trial queued once")
	}

	// A node whose organization is not a provider recruits nobody.
	other, _ := New(Options{Org: apptest.OrgD, Records: held, State: func() identity.Reader { return a.State() }, Sender: chainSender{t, a, sponsor}, Inbox: inbox})
	if _, err := other.Recruit(context.Background(), trial); err != ErrNotCustodian {
		t.Errorf("Recruit at a research organization = %v; want ErrNotCustodian", err)
	}
}
