package api

import (
	"net/http"

	"github.com/careledger/careledger/smart"
)

// smartConfiguration serves the SMART discovery document, whose URLs are
// on the host and scheme the client used.
func smartConfiguration(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, smart.Discovery(baseURL(r)))
}

// baseURL returns the node's base URL as the client of r reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
