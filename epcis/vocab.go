package epcis

import (
	"sort"
	"strings"
)

// vocab is one CBV vocabulary: its CBV 2.0 web URI prefix, its CBV 1.x URN
// prefix, and its standard words.
type vocab struct {
	web   string
	urn   string
	words map[string]bool
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

const (
	cbvWeb = "https://ref.gs1.org/cbv/"
	gs1Voc = "https://gs1.org/voc/"
)

// The CBV 2.0 vocabularies the decoder checks.
var (
	bizStepVocab = &vocab{cbvWeb + "BizStep-", "urn:epcglobal:cbv:bizstep:", words(`accepting arriving assembling
		collecting commissioning consigning creating_class_instance cycle_counting decommissioning departing
		destroying disassembling dispensing encoding entering_exiting holding inspecting installing killing
		loading other packing picking receiving removing repackaging repairing replacing reserving
		retail_selling sampling sensor_reporting shipping staging_outbound stock_taking stocking storing
		transporting unloading unpacking void_shipping`)}
	dispositionVocab = &vocab{cbvWeb + "Disp-", "urn:epcglobal:cbv:disp:", words(`active available
		completeness_inferred completeness_verified conformant container_closed container_open damaged
		destroyed dispensed disposed encoded expired in_progress in_transit inactive mismatch_instance
		mismatch_class mismatch_quantity needs_replacement no_pedigree_match non_conformant
		non_sellable_other partially_dispensed recalled reserved retail_sold returned sellable_accessible
		sellable_not_accessible stolen unavailable unknown`)}
	bttVocab = &vocab{cbvWeb + "BTT-", "urn:epcglobal:cbv:btt:", words(`bol cert desadv inv pedigree po poc
		prodorder recadv rma testprd testres upevt`)}
	sdtVocab  = &vocab{cbvWeb + "SDT-", "urn:epcglobal:cbv:sdt:", words(`owning_party possessing_party location`)}
	erVocab   = &vocab{cbvWeb + "ER-", "urn:epcglobal:cbv:er:", words(`did_not_occur incorrect_data`)}
	compVocab = &vocab{cbvWeb + "Comp-", "", words(`x y z axial_distance azimuth height spherical_radius
		polar_angle elevation_angle easting northing latitude longitude altitude`)}
	// sensorVocab has no closed word list here: GS1's measurement types are
	// many; a bare word is taken as a gs1 vocabulary term.
	sensorVocab = &vocab{gs1Voc, "", nil}
)

// normalize returns v as a CBV 2.0 web URI: a bare word, a cbv:/gs1: CURIE
// or a CBV 1.x URN of the vocabulary is mapped to the web URI; any other
// absolute URI is kept (a private vocabulary). ok is false for a value that
// names a term the vocabulary lacks, or is neither a word nor a URI.
func (vc *vocab) normalize(v string) (string, bool) {
	word, inVocab := "", false
	switch {
	case strings.HasPrefix(v, vc.web):
		word, inVocab = v[len(vc.web):], true
	case vc.urn != "" && strings.HasPrefix(v, vc.urn):
		word, inVocab = v[len(vc.urn):], true
	case strings.HasPrefix(v, "cbv:") && strings.HasPrefix(vc.web, cbvWeb):
		// cbv:BizStep-shipping is a CBV term; another cbv: CURIE is a URI
		// in the CBV namespace that no vocabulary lists (openepcis's
		// cbv:my_own_party).
		full := cbvWeb + v[4:]
		if !strings.HasPrefix(full, vc.web) {
			return full, true
		}
		word, inVocab = full[len(vc.web):], true
	case strings.HasPrefix(v, "gs1:") && vc.web == gs1Voc:
		word, inVocab = v[4:], true
	case strings.Contains(v, ":"):
		return v, isAbsoluteURI(v)
	default:
		word, inVocab = v, true
	}
	if !inVocab || word == "" || (vc.words != nil && !vc.words[word]) || !isVocabWord(word) {
		return "", false
	}
	return vc.web + word, true
}

func isVocabWord(w string) bool {
	for _, r := range w {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// isAbsoluteURI reports whether s starts with a URI scheme and has no
// spaces.
func isAbsoluteURI(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`") {
		return false
	}
	for i, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// replaceBareWords is the JSON-LD step of the reference implementation:
// it expands the event's vocabulary fields (as a JSON-LD processor does
// with the EPCIS context) and then replaces every value of the event that
// exactly one expanded term ends with ("-"+v or "/"+v) by that term. The
// reference scopes this to the document; here it is scoped to the event,
// so that an event's hash does not depend on its neighbours.
func replaceBareWords(ev *node) {
	expanded := map[string]bool{}
	for _, f := range vocabFields(ev) {
		v := f.n.text
		switch {
		case v == "":
		case !strings.Contains(v, ":"):
			expanded[f.vc.web+v] = true
		case strings.HasPrefix(v, "cbv:"):
			expanded[cbvWeb+v[4:]] = true
		case strings.HasPrefix(v, "gs1:"):
			expanded[gs1Voc+v[4:]] = true
		case strings.HasPrefix(v, cbvWeb) || strings.HasPrefix(v, gs1Voc):
			expanded[v] = true
		}
	}
	if len(expanded) == 0 {
		return
	}
	terms := make([]string, 0, len(expanded))
	for t := range expanded {
		terms = append(terms, t)
	}
	sort.Strings(terms) // replaceBare needs no order; sorted for reproducibility
	replaceBare(ev, terms)
}

func replaceBare(n *node, terms []string) {
	if n.text != "" {
		match, count := "", 0
		for _, t := range terms {
			if strings.HasSuffix(t, "-"+n.text) || strings.HasSuffix(t, "/"+n.text) {
				match, count = t, count+1
			}
		}
		if count == 1 {
			n.text = match
		}
	}
	for _, k := range n.kids {
		replaceBare(k, terms)
	}
}

// vocabField is a node whose value is a term of vc.
type vocabField struct {
	n  *node
	vc *vocab
}

// vocabFields lists the event's vocabulary-valued nodes.
func vocabFields(ev *node) []vocabField {
	var out []vocabField
	add := func(n *node, vc *vocab) {
		if n != nil {
			out = append(out, vocabField{n, vc})
		}
	}
	add(ev.child("bizStep"), bizStepVocab)
	add(ev.child("disposition"), dispositionVocab)
	if pd := ev.child("persistentDisposition"); pd != nil {
		for _, k := range pd.kids {
			if k.name == "set" || k.name == "unset" {
				add(k, dispositionVocab)
			}
		}
	}
	for _, l := range []struct {
		name string
		vc   *vocab
	}{{"bizTransactionList", bttVocab}, {"sourceList", sdtVocab}, {"destinationList", sdtVocab}} {
		for _, p := range ev.child(l.name).kidsOrNil() {
			add(p.child("type"), l.vc)
		}
	}
	if ed := ev.child("errorDeclaration"); ed != nil {
		add(ed.child("reason"), erVocab)
	}
	for _, se := range ev.child("sensorElementList").kidsOrNil() {
		for _, r := range se.children("sensorReport") {
			add(r.child("type"), sensorVocab)
			add(r.child("exception"), sensorVocab)
			add(r.child("component"), compVocab)
		}
	}
	return out
}

func (n *node) kidsOrNil() []*node {
	if n == nil {
		return nil
	}
	return n.kids
}
