package dataset_test

import (
	"fmt"
	"strings"

	"github.com/careledger/careledger/dataset"
)

// A sponsor commits a dataset's root; a verifier holding a copy with one
// value changed finds the row with the committed leaves.
func Example() {
	committed := "subject,visit,hba1c_pct\nP-0001,visit-1,7.2\nP-0002,visit-1,6.8\n"
	root, rows, _ := dataset.Root(strings.NewReader(committed))
	leaves, _ := dataset.LeafHashes(strings.NewReader(committed))

	copyHeld := strings.Replace(committed, "6.8", "6.1", 1)
	file, _ := dataset.LeafHashes(strings.NewReader(copyHeld))
	res, _ := dataset.Compare(file, root, rows, leaves)
	d := res.Differences[0]
	fmt.Println(rows, res.Match, d.Kind, d.Index, len(d.Committed.Proof))
	// Output: 3 false changed 2 1
}
