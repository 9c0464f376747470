package node

import (
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
)

// openStore opens one of CometBFT's stores (block store, state, evidence)
// wrapped so that reads made after Close find nothing instead of failing.
//
// CometBFT v0.38 closes its stores before every reactor goroutine has
// returned: the consensus reactor's queryMaj23Routine sleeps between reads
// without looking whether the node still runs, and the block store panics on
// any read error. A node stopped while peers were connected could so die
// with "leveldb: closed" after a clean stop. The goroutines that read late
// only gossip, and treat "not found" as nothing to send.
func openStore(ctx *cfg.DBContext) (dbm.DB, error) {
	db, err := cfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	return &closableStore{DB: db}, nil
}

type closableStore struct {
	dbm.DB
	mu     sync.RWMutex // held for reading by reads, for writing by Close
	closed bool
}

func (s *closableStore) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil
	}
	return s.DB.Get(key)
}

func (s *closableStore) Has(key []byte) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false, nil
	}
	return s.DB.Has(key)
}

func (s *closableStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.DB.Close()
}
