package epcisapi

import (
	"net/url"
	"strings"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/contract/supply"
)

// Parties maps owning-party identifiers as EPCIS documents write them (a
// PGLN URN such as urn:epc:id:pgln:0614141.00000, or its GS1 Digital
// Link) to organization IDs: the node's configuration, consulted only for
// a party whose GLN no organization has claimed on the chain
// (supply/claim_parties).
type Parties map[string]string

// resolver turns an owning party as written into its organization: the
// chain's party directory first, then the node's configuration.
type resolver struct {
	state  identity.Reader
	config Parties
}

func (r resolver) org(id string) string {
	if gln, ok := glnOf(id); ok && r.state != nil {
		if org, err := supply.PartyOwner(r.state, gln); err == nil && org != "" {
			return org
		}
	}
	return r.config[id]
}

// glnOf returns the GLN (13 digits) of a party or location identifier: a
// PGLN or SGLN URN, or a GS1 Digital Link URI of a party (417) or location
// (414, its extension ignored: a GLN owns its extensions).
func glnOf(id string) (string, bool) {
	var body string
	switch {
	case strings.HasPrefix(id, "urn:epc:id:pgln:"):
		cp, ref, ok := strings.Cut(id[len("urn:epc:id:pgln:"):], ".")
		if !ok || len(cp)+len(ref) != 12 {
			return "", false
		}
		body = cp + ref
	case strings.HasPrefix(id, "urn:epc:id:sgln:"):
		parts := strings.SplitN(id[len("urn:epc:id:sgln:"):], ".", 3)
		if len(parts) != 3 || len(parts[0])+len(parts[1]) != 12 {
			return "", false
		}
		body = parts[0] + parts[1]
	case strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://"):
		return glnOfDigitalLink(id)
	default:
		return "", false
	}
	gln := body + checkDigit(body)
	return gln, supply.ValidateGLN(gln) == nil
}

func glnOfDigitalLink(id string) (string, bool) {
	u, err := url.Parse(id)
	if err != nil {
		return "", false
	}
	seg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	for i := 0; i+1 < len(seg); i++ {
		if seg[i] == "417" || seg[i] == "414" {
			return seg[i+1], supply.ValidateGLN(seg[i+1]) == nil
		}
	}
	return "", false
}
