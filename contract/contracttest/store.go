// Package contracttest holds what the contracts' tests share: an in-memory
// state to run messages against without a node.
package contracttest

import (
	"maps"
	"slices"
	"strings"
)

// Store is an in-memory state: contract.Store, with prefix iteration in key
// order as state.View offers.
type Store map[string][]byte

func (m Store) Get(k []byte) ([]byte, error) { return m[string(k)], nil }
func (m Store) Set(k, v []byte) error        { m[string(k)] = v; return nil }
func (m Store) Delete(k []byte) error        { delete(m, string(k)); return nil }

// Iterate calls fn for each key with prefix, in order, until fn returns
// false.
func (m Store) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(k, string(prefix)) && !fn([]byte(k), m[k]) {
			break
		}
	}
	return nil
}
