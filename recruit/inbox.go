package recruit

import (
	"encoding/json"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	v1 "github.com/careledger/careledger/api/v1"
	"github.com/careledger/careledger/tx"
)

// Invitation tells a patient that they match a trial's eligibility
// criteria at a custodian. It exists only at that custodian's node, which
// serves it to the patient (or a delegate) alone.
type Invitation = v1.Invitation

// Inbox keeps the invitations of this node's patients, one per patient and
// trial (the latest revision matched), in LevelDB.
type Inbox struct{ db *leveldb.DB }

// OpenInbox opens (creating if needed) the inbox at path.
func OpenInbox(path string) (*Inbox, error) {
	db, err := leveldb.OpenFile(path, nil)
	if err != nil {
		return nil, fmt.Errorf("open invitations: %w", err)
	}
	return &Inbox{db: db}, nil
}

// Close closes the inbox.
func (in *Inbox) Close() error { return in.db.Close() }

func inboxKey(p tx.Address, trial string) []byte { return append(append(p[:0:0], p[:]...), trial...) }

// Put keeps inv for patient p. It reports whether the patient had no
// invitation to this trial's revision yet: only then are they notified
// again.
func (in *Inbox) Put(p tx.Address, inv Invitation) (fresh bool, err error) {
	k := inboxKey(p, inv.Trial)
	if b, err := in.db.Get(k, nil); err == nil {
		var old Invitation
		if json.Unmarshal(b, &old) == nil && old.Revision >= inv.Revision {
			return false, nil
		}
	} else if err != leveldb.ErrNotFound {
		return false, err
	}
	b, err := json.Marshal(inv)
	if err != nil {
		return false, err
	}
	return true, in.db.Put(k, b, nil)
}

// Of returns patient p's invitations, ordered by trial.
func (in *Inbox) Of(p tx.Address) ([]Invitation, error) {
	it := in.db.NewIterator(util.BytesPrefix(p[:]), nil)
	defer it.Release()
	out := []Invitation{}
	for it.Next() {
		var inv Invitation
		if err := json.Unmarshal(it.Value(), &inv); err != nil {
			return nil, fmt.Errorf("invitation: %w", err)
		}
		out = append(out, inv)
	}
	return out, it.Error()
}
