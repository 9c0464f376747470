package epcisapi

import (
	"time"

	"github.com/careledger/careledger/vault"
)

// Exported for the tests of package epcisapi_test, which start nodes (and
// so import node, which imports this package).
var ChainEPC = chainEPC

type Job = job

// PlantJob stores, in the stopped node's EPCIS store at dir, a capture job
// of the JSON document doc as running and never sent: what a node leaves
// when it stops between answering 202 and sending the transaction. It
// returns the job's ID.
func PlantJob(dir string, keys vault.KeyWrapper, org string, parties Parties, doc string) (string, error) {
	st, err := openStore(dir, keys)
	if err != nil {
		return "", err
	}
	defer st.close()
	s := &Server{opts: Options{Org: org, Parties: parties}}
	s.opts.ensureDefaults()
	d, err := s.parse([]byte(doc), false)
	if err != nil {
		return "", err
	}
	p, err := s.prepare(d, []byte(doc), false)
	if err != nil {
		return "", err
	}
	var num uint64
	err = st.eachJob(func(n uint64, _ *storedJob) error { num = n + 1; return nil })
	if err != nil {
		return "", err
	}
	j := job{ID: newJobID(), CreatedAt: time.Now().UTC(), Running: true, Behaviour: "rollback", Events: len(p.entries), Errors: []jobError{}}
	return j.ID, st.startJob(num, &storedJob{Job: j, Record: p.msg.Body}, p.entries, nil)
}
