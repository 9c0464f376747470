package app_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// goTool returns the go command of the toolchain running the test, or the
// one on PATH.
func goTool(t *testing.T) string {
	t.Helper()
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to list the app's dependencies: %v", err)
	}
	return p
}

// TestStateMachineDeps checks that the state machine does not import the
// audit log's store, the accounting of disclosures, the trial reports or
// the dataset reader: neither the packages, nor LevelDB through package
// audit, nor encoding/csv or
// html/template through any package of this module. (html/template is among
// app's dependencies anyway, through CometBFT's gRPC and
// golang.org/x/net/trace; so the test checks who imports a package, not
// whether it is there; encoding/csv is not there at all. state imports
// LevelDB, as it should.)
func TestStateMachineDeps(t *testing.T) {
	const module = "github.com/careledger/careledger/"
	out, err := exec.Command(goTool(t), "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("go list -deps ./app: %v\n%s", err, exit.Stderr)
		}
		t.Fatalf("go list -deps ./app: %v", err)
	}
	var deps []string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg, imports := fields[0], fields[1:]
		deps = append(deps, pkg)
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		for _, imp := range imports {
			switch {
			case imp == "html/template", imp == "encoding/csv":
				t.Errorf("the state machine imports %s through %s", imp, pkg)
			case strings.HasPrefix(imp, "github.com/syndtr/goleveldb/") && (pkg == module+"audit" || strings.HasPrefix(pkg, module+"audit/")):
				t.Errorf("the state machine imports %s through %s", imp, pkg)
			}
		}
	}
	if !slices.Contains(deps, module+"audit") {
		t.Fatalf("go list -deps ./app = %d packages without %saudit: the test no longer sees the log", len(deps), module)
	}
	for _, banned := range []string{module + "audit/auditdb", module + "disclosure", module + "trialreport", module + "dataset", "encoding/csv"} {
		if slices.Contains(deps, banned) {
			t.Errorf("the state machine imports %s", banned)
		}
	}
}
