package web_test

import (
	"flag"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/careledger/careledger/web"
)

var update = flag.Bool("update", false, "rewrite assets/tx.js from docs/TRANSACTIONS.md, and save screenshots to testdata/screens")

// txModuleExports is what assets/tx.js adds to the document's code: the
// export list, of every top-level declaration, that makes it an ES module.
func txModuleExports(code string) string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^(?:async function|function|const) (\w+)`).FindAllStringSubmatch(code, -1) {
		names = append(names, m[1])
	}
	return "\nexport {\n  " + strings.Join(names, ", ") + ",\n};\n"
}

// txModuleHeader says where the module comes from.
const txModuleHeader = "// Generated from docs/TRANSACTIONS.md (\"Reference code for browsers\") by\n" +
	"// go test ./web -run TestTxModuleIsTheDocument -update. Do not edit.\n\n"

// TestTxModuleIsTheDocument keeps the portal's signing code the document's
// reference code, which tx's TestBrowserReferenceCode checks against the
// vectors: the portal signs with exactly what the specification shows.
func TestTxModuleIsTheDocument(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "TRANSACTIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)### Reference code for browsers.*?```js\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/TRANSACTIONS.md has no js block under \"Reference code for browsers\"")
	}
	want := txModuleHeader + string(m[1]) + txModuleExports(string(m[1]))
	path := filepath.Join("assets", "tx.js")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from docs/TRANSACTIONS.md's reference code; run go test ./web -run TestTxModuleIsTheDocument -update", path)
	}
}

// TestServes checks the page and a script are served with the headers that
// keep every request on the node's origin.
func TestServes(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, tc := range []struct{ path, contentType, contains string }{
		{"/", "text/html", `<script type="module" src="/portal/app.js">`},
		{"/portal/tx.js", "text/javascript", "careledger/tx/v1"},
		{"/portal/style.css", "text/css", "--focus"},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d; want 200", tc.path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q; want %s", tc.path, ct, tc.contentType)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q; want default-src 'self'", tc.path, csp)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
	}
	for _, path := range []string{"/portal/nothing.js", "/portal/"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d; want 404", path, res.StatusCode)
		}
	}
}

// TestNoOtherHost checks that no asset names another host: the portal
// works on a hospital network with no internet, and leaks nothing to a CDN.
func TestNoOtherHost(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	// Names that are identifiers, not addresses the browser fetches.
	allowed := regexp.MustCompile(`(?i)^(https?:)?//(hl7\.org|terminology\.hl7\.org|loinc\.org|unitsofmeasure\.org|snomed\.info|www\.w3\.org|id\.gs1\.org|ref\.gs1\.org)`)
	err := fs.WalkDir(web.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Assets(), path)
		if err != nil {
			return err
		}
		for _, u := range url.FindAllString(string(b), -1) {
			if !allowed.MatchString(u) {
				t.Errorf("%s names another host: %s", path, u)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
