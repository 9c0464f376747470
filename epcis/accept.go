package epcis

import (
	"mime"
	"strconv"
	"strings"
)

// PrefersXML reads an HTTP Accept header for the REST binding's answers
// and deliveries: whether its most preferred (by q, then by order) of
// JSON-LD, JSON and XML is XML, and ok false when it allows none of them.
// No header, or one that allows anything, is JSON-LD.
func PrefersXML(accept string) (xml, ok bool) {
	if strings.TrimSpace(accept) == "" {
		return false, true
	}
	bestQ := -1.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, has := params["q"]; has {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var isXML bool
		switch mt {
		case "application/ld+json", "application/json", "application/*", "*/*":
		case "application/xml", "text/xml":
			isXML = true
		default:
			continue
		}
		if q > 0 && q > bestQ {
			xml, bestQ = isXML, q
		}
	}
	return xml, bestQ >= 0
}
