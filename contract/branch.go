package contract

import (
	"maps"
	"slices"
)

// Branch is a context whose writes and events reach its parent only on
// Commit: a part of a message that may be refused while the message itself
// goes on, such as carrying out a proposal its deciding vote passed.
type Branch struct {
	*Context
	parent *Context
	writes *buffer
}

// Branch returns a branch of c.
func (c *Context) Branch() *Branch {
	w := &buffer{parent: c.Store, writes: make(map[string][]byte)}
	child := *c
	child.Store, child.events = w, nil
	return &Branch{Context: &child, parent: c, writes: w}
}

// Commit passes the branch's writes, in key order, and its events to the
// parent. A branch not committed leaves the parent as it was.
func (b *Branch) Commit() error {
	for _, k := range slices.Sorted(maps.Keys(b.writes.writes)) {
		var err error
		if v := b.writes.writes[k]; v == nil {
			err = b.parent.Store.Delete([]byte(k))
		} else {
			err = b.parent.Store.Set([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	b.parent.events = append(b.parent.events, b.events...)
	return nil
}

// buffer holds writes over a parent store; a nil value is a deletion.
type buffer struct {
	parent Store
	writes map[string][]byte
}

func (b *buffer) Get(key []byte) ([]byte, error) {
	if v, ok := b.writes[string(key)]; ok {
		return v, nil
	}
	return b.parent.Get(key)
}

func (b *buffer) Set(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	b.writes[string(key)] = value
	return nil
}

func (b *buffer) Delete(key []byte) error {
	b.writes[string(key)] = nil
	return nil
}
