package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/careledger/careledger/web"
)

// chromiumPath finds Debian's Chromium. Without it the browser tests skip,
// except under CI (CI set), which installs it (.ci/run): there they fail.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium, as .ci/run does)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI runs these tests")
	return ""
}

// browser is one headless Chromium; each person in a test gets a browser
// context of their own, as a browser profile of their own: their own
// IndexedDB, and so their own keys.
type browser struct {
	t      *testing.T
	ctx    context.Context
	origin string

	mu      sync.Mutex
	foreign []string // requests to any other origin than the node's
}

func newBrowser(t *testing.T, origin string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	// On a loaded machine Chromium now and then exits while starting (seen
	// once in a few dozen starts, with nothing in its output): try thrice.
	var ctx context.Context
	for attempt := 1; ; attempt++ {
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		c, cancel := chromedp.NewContext(actx)
		err := chromedp.Do(c)
		if err == nil {
			ctx = c
			t.Cleanup(func() { cancel(); cancelAlloc() })
			break
		}
		cancel()
		cancelAlloc()
		if attempt == 3 {
			t.Fatalf("start chromium: %v", err)
		}
		t.Logf("start chromium (attempt %d): %v", attempt, err)
		time.Sleep(time.Second)
	}
	b := &browser{t: t, ctx: ctx, origin: origin}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.foreign) > 0 {
			t.Errorf("the portal asked other hosts than the node's: %v", b.foreign)
		}
	})
	return b
}

// page is one person's tab, in a browser context of its own.
type page struct {
	b     *browser
	name  string
	ctx   context.Context
	files string // where the tab's downloads go
}

// call is a protocol command as a chromedp action.
func call[P any](cmd cdp.Command[P, cdp.Empty], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

func (b *browser) person(name string) *page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	p := &page{b: b, name: name, ctx: ctx, files: b.t.TempDir()}
	// The tab lives as long as the context of its first action: no timeout.
	if err := chromedp.Do(ctx, call(network.Enable, network.EnableParams{})); err != nil {
		b.t.Fatalf("%s: open a tab: %v", name, err)
	}
	chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		u, err := url.Parse(e.Request.URL)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "ws" || u.Scheme == "wss") && "http://"+u.Host != b.origin {
			b.mu.Lock()
			b.foreign = append(b.foreign, e.Request.URL)
			b.mu.Unlock()
		}
	})
	bc := chromedp.FromContext(ctx).BrowserContextID
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: bc, DownloadPath: p.files,
	}); err != nil {
		b.t.Fatalf("%s: set download behaviour: %v", name, err)
	}
	p.do("open the portal", chromedp.Navigate(b.origin+"/"), chromedp.WaitVisible(chromedp.CSS("#view-title")))
	return p
}

// fail ends the test with what the page shows.
func (p *page) fail(what string, err error) {
	p.b.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	p.b.t.Fatalf("%s: %s: %v\npage text:\n%s", p.name, what, err, text)
}

// do runs steps, failing the test if they do not finish within a minute.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.b.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail(what, err)
	}
}

// eval evaluates a JavaScript expression, awaiting a promise.
func eval[T any](p *page, what, expr string) T {
	p.b.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.fail(what, err)
	}
	return v
}

// jsString quotes s for JavaScript.
func jsString(s string) string { return strconv.Quote(s) }

// text returns the text of the first element sel matches, once visible.
func (p *page) text(sel string) string {
	p.b.t.Helper()
	p.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return eval[string](p, "read "+sel, "document.querySelector("+strconv.Quote(sel)+").innerText")
}

// click waits for sel and clicks it.
func (p *page) click(sel string) {
	p.b.t.Helper()
	p.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// fill types v into the field sel.
func (p *page) fill(sel, v string) {
	p.b.t.Helper()
	p.do("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), v))
}

// waitFor waits until the JavaScript condition holds.
func (p *page) waitFor(what, cond string) {
	p.b.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !eval[bool](p, what, "!!("+cond+")") {
		if time.Now().After(deadline) {
			p.fail(what, errors.New("timed out"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// goTo opens a route of the portal and waits until its view is drawn (a
// route that changes only the hash keeps the page, and the old view, until
// then).
func (p *page) goTo(route string) {
	p.b.t.Helper()
	p.do("go to "+route, chromedp.Navigate(p.b.origin+"/"+route), chromedp.WaitVisible(chromedp.CSS("#view-title")))
	p.waitFor("the view of "+route, `document.getElementById("main").dataset.route === location.hash`)
}

// checkPage runs the accessibility check at desktop and phone widths and
// saves a screenshot of each to dir.
func (p *page) checkPage(dir, name string) {
	p.b.t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "a11y.js"))
	if err != nil {
		p.b.t.Fatal(err)
	}
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		p.do("emulate "+vp.name, call(emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: vp.width, Height: vp.height, DeviceScaleFactor: 1, Mobile: vp.mobile}), chromedp.Sleep(300*time.Millisecond))
		for _, pr := range eval[[]string](p, "accessibility check", string(script)) {
			p.b.t.Errorf("%s page at %s width: %s", name, vp.name, pr)
		}
		ctx, cancel := context.WithTimeout(p.ctx, time.Minute)
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			p.fail("screenshot", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+vp.name+".png"), shot, 0o644); err != nil {
			p.b.t.Fatal(err)
		}
	}
	p.do("back to desktop", call(emulation.ClearDeviceMetricsOverride, cdp.Empty{}))
}

// buildFunction returns the text of the function build(m) of Node's
// vector check: from its first line to the first closing brace at the
// start of a line.
func buildFunction(src string) (string, bool) {
	start := strings.Index(src, "function build(m) {")
	if start < 0 {
		return "", false
	}
	n := strings.Index(src[start:], "\n}\n")
	if n < 0 {
		return "", false
	}
	return src[start : start+n+2], true
}

// TestBrowserSigning builds and signs every vector of testdata/vectors.json
// in Chromium with the module the portal loads, and checks every byte.
func TestBrowserSigning(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	b := newBrowser(t, srv.URL)
	p := b.person("signer")
	check, err := os.ReadFile(filepath.Join("testdata", "vectors_check.js"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.ReadFile(filepath.Join("..", "tx", "testdata", "reference_check.js"))
	if err != nil {
		t.Fatal(err)
	}
	build, ok := buildFunction(string(ref))
	if !ok {
		t.Fatal("tx/testdata/reference_check.js has no function build(m)")
	}
	check = []byte(strings.Replace(string(check), "/*BUILD*/", build, 1))
	vectors, err := os.ReadFile(filepath.Join("..", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct{ Vectors []json.RawMessage }
	if err := json.Unmarshal(vectors, &want); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Vectors, Types int
		Bad            []string
	}
	got := eval[result](p, "check the vectors", "("+strings.TrimSpace(string(check))+")("+string(vectors)+")")
	if got.Vectors != len(want.Vectors) || got.Vectors == 0 {
		t.Errorf("the browser checked %d vectors; want %d", got.Vectors, len(want.Vectors))
	}
	for _, b := range got.Bad {
		t.Errorf("browser signing: %s", b)
	}
	t.Logf("the browser reproduced %d vectors of %d message types", got.Vectors, got.Types)
}
