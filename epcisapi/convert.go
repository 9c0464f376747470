package epcisapi

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/careledger/careledger/contract/supply"
	"github.com/careledger/careledger/epcis"
	"github.com/careledger/careledger/tx"
)

// Vocabulary prefixes the chain's bare names drop.
const (
	bizStepPrefix     = "https://ref.gs1.org/cbv/BizStep-"
	dispositionPrefix = "https://ref.gs1.org/cbv/Disp-"
	owningParty       = "https://ref.gs1.org/cbv/SDT-owning_party"
	gs1Voc            = "https://gs1.org/voc/"
	hashIDPrefix      = "ni:///sha-256;"
)

// converted is one event ready for the chain, with what the node keeps of
// it beside the chain.
type converted struct {
	chain   supply.Event
	hashID  string
	parties []string // organization IDs the event names as owning parties
	glns    []string // the GLNs of its owning parties
}

// parseHashID returns the 32 bytes of a CBV 2.0 hash ID
// ("ni:///sha-256;HEX?ver=CBV2.0") or of its bare hex.
func parseHashID(s string) ([32]byte, bool) {
	var h [32]byte
	s = strings.TrimPrefix(s, hashIDPrefix)
	s, _, _ = strings.Cut(s, "?")
	if len(s) != 64 {
		return h, false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return h, false
	}
	hex.Decode(h[:], []byte(s))
	return h, true
}

// convert turns a validated EPCIS event (index i of its document) into the
// chain's summary. It fails with a *tx.Rejection (code invalid) naming the
// event and field for what the chain cannot hold.
func convert(i int, e *epcis.Event, parties resolver) (*converted, error) {
	c := &converted{hashID: e.HashID()}
	h, ok := parseHashID(c.hashID)
	if !ok {
		return nil, fieldErr(i, "eventID", "the event hash is not a sha-256 hash ID")
	}
	ce := &c.chain
	ce.Hash = h
	ce.Kind = kindOf(e.Type)
	ce.Action = actionOf(e.Action)
	ce.BizStep = bareName(e.BizStep, bizStepPrefix)
	ce.Disposition = bareName(e.Disposition, dispositionPrefix)
	ce.EPCs = chainEPCs(append(append([]string(nil), e.EPCList...), e.ChildEPCs...))
	ce.Inputs = chainEPCs(e.InputEPCList)
	ce.Outputs = chainEPCs(e.OutputEPCList)
	if e.ParentID != "" {
		ce.Parent, _ = chainEPC(e.ParentID)
	}
	if (ce.Kind == supply.AggregationEvent || ce.Kind == supply.AssociationEvent) && ce.Parent == "" && ce.Action != supply.Observe {
		// An aggregation or association into something the ledger does not
		// track (a returnable asset, a sensor): nothing to pack into, so
		// the chain's summary observes its children.
		ce.Action = supply.Observe
	}
	ce.Source = c.owner(e.SourceList, parties)
	ce.Destination = c.owner(e.DestinationList, parties)
	if err := lotAndExpiry(i, e.ILMD, ce); err != nil {
		return nil, err
	}
	if err := readings(i, e.SensorElementList, ce); err != nil {
		return nil, err
	}
	if e.ErrorDeclaration != nil {
		ce.Corrects = &ce.Hash // the CBV 2.0 hash leaves errorDeclaration out
	}
	return c, nil
}

func fieldErr(i int, field, format string, args ...any) error {
	return tx.Rejectf(tx.CodeInvalid, "event %d: %s: %s", i, field, fmt.Sprintf(format, args...))
}

func kindOf(t epcis.EventType) supply.Kind {
	switch t {
	case epcis.ObjectEvent:
		return supply.ObjectEvent
	case epcis.AggregationEvent:
		return supply.AggregationEvent
	case epcis.TransactionEvent:
		return supply.TransactionEvent
	case epcis.TransformationEvent:
		return supply.TransformationEvent
	case epcis.AssociationEvent:
		return supply.AssociationEvent
	}
	return 0
}

func actionOf(a epcis.Action) supply.Action {
	switch a {
	case epcis.ActionAdd:
		return supply.Add
	case epcis.ActionObserve:
		return supply.Observe
	case epcis.ActionDelete:
		return supply.Delete
	}
	return supply.NoAction
}

// bareName returns a CBV term's bare name ("shipping"), or "" for a term
// of another vocabulary, which the chain records without rules.
func bareName(uri, prefix string) string {
	name, ok := strings.CutPrefix(uri, prefix)
	if !ok {
		return ""
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return ""
		}
	}
	return name
}

// chainEPCs converts the EPCs the chain tracks, in order and once each.
func chainEPCs(list []string) []supply.EPC {
	var out []supply.EPC
	seen := map[supply.EPC]bool{}
	for _, s := range list {
		if e, ok := chainEPC(s); ok && !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// owner returns the organization of the list's first owning party that
// the directory knows, and adds it to c.parties; it keeps the GLN of every
// owning party in c.glns.
func (c *converted) owner(list []epcis.SourceDest, parties resolver) string {
	found := ""
	for _, sd := range list {
		if sd.Type != owningParty {
			continue
		}
		if gln, ok := glnOf(sd.Value); ok && !slices.Contains(c.glns, gln) {
			c.glns = append(c.glns, gln)
		}
		if found != "" {
			continue
		}
		if org := parties.org(sd.Value); org != "" {
			found = org
			if !slices.Contains(c.parties, org) {
				c.parties = append(c.parties, org)
			}
		}
	}
	return found
}

// lotAndExpiry copies the ILMD's lot and expiry date.
func lotAndExpiry(i int, m *epcis.ILMD, ce *supply.Event) error {
	if m == nil {
		return nil
	}
	ce.Lot = m.Lot()
	if len(ce.Lot) > supply.MaxLot {
		return fieldErr(i, "ilmd.lotNumber", "a lot is at most %d characters", supply.MaxLot)
	}
	if d := m.ItemExpirationDate(); d != "" {
		var y, mo, day uint32
		if n, err := fmt.Sscanf(d, "%4d-%2d-%2d", &y, &mo, &day); n != 3 || err != nil || len(d) != 10 {
			return fieldErr(i, "ilmd.itemExpirationDate", "a date is YYYY-MM-DD")
		}
		ce.Expiry = y*10000 + mo*100 + day
	}
	return nil
}

// readings copies the sensor reports that have a type and a value, in
// thousandths of their unit (the contract's cold-chain rules compare
// integers).
func readings(i int, list []epcis.SensorElement, ce *supply.Event) error {
	for _, se := range list {
		for _, r := range se.Reports {
			if r.Type == "" || r.Value == "" {
				if r.Exception != "" {
					ce.Readings = append(ce.Readings, supply.Reading{Type: vocName(r.Type), UOM: r.UOM, Exception: vocName(r.Exception)})
				}
				continue
			}
			v, err := thousandths(r.Value)
			if err != nil {
				return fieldErr(i, "sensorElementList.sensorReport.value", "not a number the ledger holds to a thousandth")
			}
			ce.Readings = append(ce.Readings, supply.Reading{Type: vocName(r.Type), Value: v, UOM: r.UOM, Exception: vocName(r.Exception)})
		}
	}
	for k := range ce.Readings {
		if ce.Readings[k].Type == "" {
			ce.Readings[k].Type = "Reading"
		}
	}
	if len(ce.Readings) > supply.MaxReadings {
		return fieldErr(i, "sensorElementList", "at most %d readings per event", supply.MaxReadings)
	}
	return nil
}

// thousandths reads d × 1000, dropping digits beyond the thousandth of a
// plain decimal (sensors report more than a rule needs).
func thousandths(d epcis.Decimal) (int64, error) {
	v, err := d.Fixed(3)
	if err == nil {
		return v, nil
	}
	s := string(d)
	if dot := strings.IndexByte(s, '.'); dot >= 0 && !strings.ContainsAny(s, "eE") && len(s) > dot+4 {
		return epcis.Decimal(s[:dot+4]).Fixed(3)
	}
	return 0, err
}

// vocName returns the name of a gs1 vocabulary term ("Temperature",
// "ALARM_CONDITION"), or the term's last path element.
func vocName(uri string) string {
	if name, ok := strings.CutPrefix(uri, gs1Voc); ok {
		return name
	}
	if j := strings.LastIndexAny(uri, "/#:"); j >= 0 {
		uri = uri[j+1:]
	}
	return uri
}
