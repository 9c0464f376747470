package trialreport_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"

	"github.com/careledger/careledger/audit"
	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/contract/trials"
	"github.com/careledger/careledger/trialreport"
)

// memLog is an audit log in memory with its organization index.
type memLog struct {
	leaves [][]byte
	orgs   []string
	tree   *testonly.Tree
}

func (l *memLog) add(org string, e audit.Event) {
	if l.tree == nil {
		l.tree = testonly.New(rfc6962.DefaultHasher)
	}
	leaf := e.Encode()
	l.leaves, l.orgs = append(l.leaves, leaf), append(l.orgs, org)
	l.tree.AppendData(leaf)
}

func (l *memLog) OrgEvents(org string, from uint64, limit int) ([]uint64, error) {
	var out []uint64
	for i := from; i < uint64(len(l.leaves)) && len(out) < limit; i++ {
		if l.orgs[i] == org {
			out = append(out, i)
		}
	}
	return out, nil
}

func (l *memLog) Leaf(i uint64) ([]byte, error) { return l.leaves[i], nil }

func (l *memLog) InclusionProof(index, size uint64) ([][]byte, error) {
	return l.tree.InclusionProof(index, size)
}

func (l *memLog) checkpoint() *audit.Certified {
	return &audit.Certified{Checkpoint: audit.Checkpoint{Size: l.tree.Size(), Root: l.tree.Hash(), Height: 9}}
}

func ev(typ, trial string, attrs ...string) contract.Event {
	e := contract.Event{Type: typ, Attrs: []contract.Attr{{Key: "trial", Value: trial}, {Key: "org", Value: "acme-research"}}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attrs = append(e.Attrs, contract.Attr{Key: attrs[i], Value: attrs[i+1]})
	}
	return e
}

// switchedLog is the log of a trial that switched outcomes: data capture
// under version 1, then version 2 demotes weight and adds glucose, and the
// results report glucose and hba1c. Another trial's and another
// organization's events interleave.
func switchedLog() *memLog {
	l := &memLog{}
	at := func(h int64, org string, e contract.Event) {
		l.add(org, audit.Event{Height: h, Time: time.Date(2025, 1, 1, 0, 0, int(h), 0, time.UTC), Event: e})
	}
	at(1, "acme-research", ev(trials.EventRegistered, "T1", "board", "city-irb", "version", "1", "primary", "hba1c", "primary", "weight", "secondary", "ae"))
	at(1, "general-hospital", contract.Event{Type: "records.anchored", Attrs: []contract.Attr{{Key: "custodian", Value: "general-hospital"}}})
	at(2, "acme-research", ev(trials.EventApproved, "T1", "version", "1"))
	at(2, "acme-research", ev(trials.EventRegistered, "T2", "version", "1", "primary", "x"))
	at(3, "acme-research", ev(trials.EventData, "T1", "dataset", "visit-1", "version", "1"))
	at(4, "acme-research", ev(trials.EventAmended, "T1", "version", "2", "primary", "glucose", "primary", "hba1c", "secondary", "ae", "secondary", "weight"))
	at(5, "acme-research", ev(trials.EventApproved, "T1", "version", "2"))
	at(6, "acme-research", ev(trials.EventResults, "T1", "version", "2", "outcome", "glucose", "outcome", "hba1c"))
	return l
}

func TestBuildFindsTheSwitchAndVerifies(t *testing.T) {
	l := switchedLog()
	r, err := trialreport.Build(l, "test", "T1", "acme-research", l.checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Leaves) != 6 {
		t.Fatalf("Build found %d leaves; want the 6 events of T1", len(r.Leaves))
	}
	f := r.Findings
	if len(f.NotReported) != 2 || f.NotReported[0].Outcome != "weight" || len(f.NotPreSpecified) != 1 || f.NotPreSpecified[0].Outcome != "glucose" || len(f.Changed) != 2 {
		t.Fatalf("findings = %+v; want weight and ae not reported, glucose not pre-specified, two changes", f)
	}
	if err := r.CheckContent(); err != nil {
		t.Fatalf("CheckContent() = %v; want nil", err)
	}
	key := ed25519.GenPrivKey()
	if err := r.Sign(key); err != nil {
		t.Fatal(err)
	}
	if !key.PubKey().VerifySignature(r.Digest(), r.Signature) {
		t.Fatal("the signature does not verify over Digest")
	}
}

func TestCheckContentCatchesTampering(t *testing.T) {
	l := switchedLog()
	build := func() *trialreport.Report {
		r, err := trialreport.Build(l, "test", "T1", "acme-research", l.checkpoint())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		tamper func(r *trialreport.Report)
		want   string
	}{
		{"finding removed", func(r *trialreport.Report) { r.Findings.NotPreSpecified = r.Findings.NotPreSpecified[:0] }, "findings"},
		{"results leaf removed", func(r *trialreport.Report) { r.Leaves = r.Leaves[:len(r.Leaves)-1] }, "findings"},
		{"leaf altered", func(r *trialreport.Report) {
			r.Leaves[0].Leaf = bytes.Replace(r.Leaves[0].Leaf, []byte("weight"), []byte("weigh7"), 1)
		}, "not in the log"},
		{"leaves reordered", func(r *trialreport.Report) { r.Leaves[0], r.Leaves[1] = r.Leaves[1], r.Leaves[0] }, "not after"},
		{"claimed for another trial", func(r *trialreport.Report) { r.Trial = "T2" }, "not an event of trial"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := build()
			tc.tamper(r)
			if err := r.CheckContent(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckContent() = %v; want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestDigestCoversEveryLeafAndFinding(t *testing.T) {
	l := switchedLog()
	r, _ := trialreport.Build(l, "test", "T1", "acme-research", l.checkpoint())
	d := r.Digest()
	r.Findings.Baseline = 2
	if bytes.Equal(d, r.Digest()) {
		t.Error("Digest does not change with the findings")
	}
	r2, _ := trialreport.Build(l, "test", "T1", "acme-research", l.checkpoint())
	r2.Leaves = r2.Leaves[1:]
	if bytes.Equal(d, r2.Digest()) {
		t.Error("Digest does not change when a leaf is removed")
	}
}
