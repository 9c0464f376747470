package epcis

// node is one element of an event in the XML data model, which both
// decoders produce: XML attributes become child nodes, a JSON array becomes
// repeated nodes, and names outside EPCIS are "{namespace}local". The event
// hash is defined over this model (as the reference implementation's
// "simple python object"), and the typed Event is read from it.
type node struct {
	name string
	text string
	kids []*node
	// pair marks a bizTransaction, source or destination: kids are its type
	// (when given) then its value, concatenated in that order, never sorted.
	pair bool
	// emptyList marks a JSON empty array, so that an empty epcList is
	// present (as an empty XML element is) without adding an element.
	emptyList bool
}

// clone returns a deep copy, for the hash, which consumes its tree.
func (n *node) clone() *node {
	c := &node{name: n.name, text: n.text, pair: n.pair}
	if len(n.kids) > 0 {
		c.kids = make([]*node, len(n.kids))
		for i, k := range n.kids {
			c.kids[i] = k.clone()
		}
	}
	return c
}

// child returns the first child named name, or nil.
func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// children returns every child named name.
func (n *node) children(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.name == name {
			out = append(out, k)
		}
	}
	return out
}

// textOf returns the text of the first child named name, or "".
func (n *node) textOf(name string) string {
	if c := n.child(name); c != nil {
		return c.text
	}
	return ""
}

// remove deletes the child k (by identity).
func removeNode(list []*node, k *node) []*node {
	for i, x := range list {
		if x == k {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}
