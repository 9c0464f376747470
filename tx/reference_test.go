package tx_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestBrowserReferenceCode runs the JavaScript of docs/TRANSACTIONS.md
// ("Reference code for browsers") with Node.js, which has the same Web
// Crypto Ed25519 as browsers: it must rebuild every message body, sign and
// hash every transaction of testdata/vectors.json exactly. So the code a
// browser copies from the document is tested, for every message type.
func TestBrowserReferenceCode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (CI installs it): the document's JavaScript is not run")
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "TRANSACTIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)### Reference code for browsers.*?```js\n(.*?)```").FindSubmatch(doc)
	if blocks == nil {
		t.Fatal("docs/TRANSACTIONS.md has no js block under \"Reference code for browsers\"")
	}
	check, err := os.ReadFile(filepath.Join("testdata", "reference_check.js"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "reference.js")
	if err := os.WriteFile(script, append(append(blocks[1], '\n'), check...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, script, filepath.Join("..", "testdata", "vectors.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}
