package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets
var files embed.FS

// Assets returns the portal's files: index.html at the root, the scripts
// and styles beside it.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// Prefix is where the portal's scripts and styles are served; the page
// itself is at /.
const Prefix = "/portal/"

// csp keeps every request on the node's origin: no CDN, no inline script,
// no frame, no form posted elsewhere.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the portal: GET / is the page, GET /portal/... its files.
// The node routes everything else to the APIs.
func Handler() http.Handler {
	static := http.StripPrefix(Prefix[:len(Prefix)-1], http.FileServerFS(Assets()))
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		static.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, Assets(), "index.html")
	})
	return secure(mux)
}

// secure sets the headers every answer of the portal carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		// The files change with the binary; revalidate (embed.FS files have
		// no modification time, so ETags would not help either).
		hd.Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
