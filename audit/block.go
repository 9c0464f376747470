package audit

// Block is what one block added, as the state machine hands it to the
// node's store: its events (the leaves), the tree nodes they completed, and
// the log after it.
type Block struct {
	Height int64
	First  uint64 // the index of the first leaf
	Events []Event
	Leaves [][]byte // the events' encodings, if the caller has them (else the store encodes)
	Nodes  []Node
	Size   uint64
	Root   []byte
	// StateRoot is the state's root after the block: with Size and Root it
	// gives the block's app hash (AppHash).
	StateRoot []byte
}

// Node is a tree node: the root of the perfect subtree of 2^Level leaves
// starting at leaf Index<<Level.
type Node struct {
	Level uint
	Index uint64
	Hash  []byte
}

// Checkpoint is the log after a block, and the state root beside it.
type Checkpoint struct {
	Height    int64  `json:"height"`
	Size      uint64 `json:"size"`
	Root      []byte `json:"root"`
	StateRoot []byte `json:"state_root"`
}
