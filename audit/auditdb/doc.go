// Package auditdb keeps a node's copy of the audit log in LevelDB: every
// leaf, every tree node, the log's checkpoint after each block, and
// indexes of the events by account, organization, block time and (for
// the types Options.IndexedTypes names) type. It answers for inclusion and
// consistency proofs, and rebuilds itself from a snapshot's leaves
// (Restorer).
//
// auditdb imports audit (the pure log), tx, wire, transparency-dev/merkle
// and goleveldb. The state machine (app) does not import it: it hands
// audit.Blocks to an interface that node wires to a Store.
package auditdb
