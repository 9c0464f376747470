package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/careledger/careledger/"

// notInClient are the packages the client must not depend on: the server,
// the node's services and storage, and CometBFT's node. A path ending in
// "/" stands for the packages under it too.
var notInClient = []string{
	mod + "api", mod + "app", mod + "state", mod + "node", mod + "tracker", mod + "index",
	mod + "fhirapi", mod + "custodian", mod + "dscsa", mod + "sender", mod + "vault",
	"github.com/syndtr/goleveldb/", "github.com/cometbft/cometbft-db",
	"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/consensus",
	"github.com/cometbft/cometbft/mempool", "github.com/cometbft/cometbft/p2p",
	"github.com/cometbft/cometbft/store", "github.com/cometbft/cometbft/state",
}

// servers are the node's packages, which must not depend on the client.
var servers = []string{"api", "fhirapi", "custodian", "sender", "node", "app", "dscsa"}

// imports runs go list -deps on pkgs and returns every package they depend
// on (themselves included) with the packages it imports.
func imports(t *testing.T, pkgs ...string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, pkgs...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	return deps
}

func matches(pkg, pattern string) bool {
	if p, ok := strings.CutSuffix(pattern, "/"); ok {
		return pkg == p || strings.HasPrefix(pkg, pattern)
	}
	return pkg == pattern
}

// TestClientDeps checks that the client stays a client: it depends on no
// server package, and no server package depends on it.
func TestClientDeps(t *testing.T) {
	deps := imports(t, mod+"client")
	for pkg := range deps {
		for _, bad := range notInClient {
			if matches(pkg, bad) {
				t.Errorf("client depends on %s", pkg)
			}
		}
	}

	var pkgs []string
	for _, s := range servers {
		pkgs = append(pkgs, mod+s)
	}
	for pkg, imps := range imports(t, pkgs...) {
		for _, imp := range imps {
			if imp == mod+"client" {
				t.Errorf("%s imports the client; the node must not depend on it", pkg)
			}
		}
	}
}
