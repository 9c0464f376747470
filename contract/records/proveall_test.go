package records_test

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"

	"github.com/careledger/careledger/contract/records"
)

// TestProveAll: the proofs ProveAll gives at once are those Prove gives
// leaf by leaf, for batches of every shape up to 70 leaves, and verify.
func TestProveAll(t *testing.T) {
	for n := 1; n <= 70; n++ {
		leaves := make([]records.Leaf, n)
		for i := range leaves {
			leaves[i] = records.Leaf{Type: "Observation", ID: fmt.Sprint(i), Version: 1, Commitment: sha256.Sum256([]byte{byte(i)})}
		}
		root, err := records.Root(leaves)
		if err != nil {
			t.Fatal(err)
		}
		all, err := records.ProveAll(leaves)
		if err != nil || len(all) != n {
			t.Fatalf("ProveAll(%d leaves) = %d proofs, %v", n, len(all), err)
		}
		for i := range leaves {
			one, err := records.Prove(leaves, i)
			if err != nil || !slices.EqualFunc(one, all[i], slices.Equal) {
				t.Fatalf("n=%d leaf %d: ProveAll %x; Prove %x, %v", n, i, all[i], one, err)
			}
			if err := records.VerifyInclusion(leaves[i], uint64(i), uint64(n), all[i], root); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
		}
	}
}
