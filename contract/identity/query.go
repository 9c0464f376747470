package identity

import (
	"github.com/careledger/careledger/tx"
)

// Iterator reads state in key order; state.View satisfies it.
type Iterator interface {
	Reader
	Iterate(prefix []byte, fn func(key, value []byte) bool) error
}

// Organizations returns every organization, ordered by ID.
func Organizations(s Iterator) ([]*Organization, error) {
	var out []*Organization
	var derr error
	err := s.Iterate([]byte("o/"), func(_, v []byte) bool {
		o, err := decodeOrganization(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, o)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// Members returns the members of org, ordered by address.
func Members(s Iterator, org string) ([]*Account, error) {
	prefix := memberPrefix(org)
	var addrs []tx.Address
	err := s.Iterate(prefix, func(k, _ []byte) bool {
		var a tx.Address
		copy(a[:], k[len(prefix):])
		addrs = append(addrs, a)
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]*Account, 0, len(addrs))
	for _, a := range addrs {
		acct, err := LoadAccount(s, a)
		if err != nil {
			return nil, err
		}
		if acct != nil {
			out = append(out, acct)
		}
	}
	return out, nil
}
