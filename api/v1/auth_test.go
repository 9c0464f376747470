package v1_test

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"

	v1 "github.com/careledger/careledger/api/v1"
)

// TestDelegationSignBytes checks the worked example that docs/TRANSACTIONS.md
// gives, and that tx's reference check runs against the browser code.
func TestDelegationSignBytes(t *testing.T) {
	const want = "636172656c65646765722f64656c65676174652f76310a0f636172656c65646765722d74657374046f72673080e2cfaa06"
	if got := hex.EncodeToString(v1.DelegationSignBytes("careledger-test", "org0", 1700000000)); got != want {
		t.Errorf("DelegationSignBytes = %s; want %s", got, want)
	}
	doc, err := os.ReadFile("../../docs/TRANSACTIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), want) {
		t.Error("docs/TRANSACTIONS.md does not give the delegation example's bytes")
	}
}
