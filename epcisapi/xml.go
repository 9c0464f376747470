package epcisapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/careledger/careledger/epcis"
)

// format is a representation of query answers the binding serves.
type format int

const (
	jsonLD format = iota
	xmlDoc
)

// notAcceptable is an Accept header that names no format served here.
type notAcceptable struct{}

func (*notAcceptable) Error() string {
	return "Accept must allow application/ld+json, application/json or application/xml"
}

// negotiate picks the answer's format from the Accept header
// (epcis.PrefersXML).
func negotiate(accept string) (format, error) {
	isXML, ok := epcis.PrefersXML(accept)
	switch {
	case !ok:
		return 0, &notAcceptable{}
	case isXML:
		return xmlDoc, nil
	}
	return jsonLD, nil
}

// withheldXML is a withheld event in an XML answer: the chain's summary,
// in CareLedger's namespace, listed after the EventList so that the
// EventList holds only events that ParseXML and other EPCIS readers take.
type withheldXML struct {
	XMLName     xml.Name `xml:"withheldEvent"`
	Type        string   `xml:"type,attr"`
	EventID     string   `xml:"eventID,attr"`
	Action      string   `xml:"action,attr,omitempty"`
	BizStep     string   `xml:"bizStep,attr,omitempty"`
	Disposition string   `xml:"disposition,attr,omitempty"`
	CapturedBy  string   `xml:"capturedBy,attr,omitempty"`
	Height      string   `xml:"height,attr,omitempty"`
	// Reason is why the event is here and not in the EventList: withheld
	// (the asker may not see its body), unreadable (a body this node
	// cannot decode) or noXMLForm (a JSON body with no XML equivalent).
	Reason string `xml:"reason,attr"`
}

type withheldListXML struct {
	XMLName xml.Name      `xml:"https://careledger.org/epcis/ withheldEventList"`
	Events  []withheldXML `xml:"withheldEvent"`
}

// summaryOf reads a withheld event's summary; false if ev is a body.
func summaryOf(ev result) (withheldXML, bool) {
	var m map[string]any
	if json.Unmarshal(ev, &m) != nil || m["careledger:bodyWithheld"] != "true" {
		return withheldXML{}, false
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	return withheldXML{Type: str("type"), EventID: str("eventID"), Action: str("action"), BizStep: str("bizStep"),
		Disposition: str("disposition"), CapturedBy: str("careledger:capturedBy"), Height: str("careledger:height"), Reason: "withheld"}, true
}

// bodyEvent decodes a body for its XML form; otherwise it returns the
// summary that stands for it.
func bodyEvent(ev result) (*epcis.Event, withheldXML) {
	if sum, ok := summaryOf(ev); ok {
		return nil, sum
	}
	sum := withheldXML{Reason: "unreadable"}
	var m map[string]any
	if json.Unmarshal(ev, &m) == nil {
		sum.Type, _ = m["type"].(string)
		sum.EventID, _ = m["eventID"].(string)
	}
	doc, err := epcis.ParseJSON(ev)
	if err != nil || len(doc.Events) != 1 {
		return nil, sum // from a peer that wrote it otherwise
	}
	if _, err := epcis.EventXML(doc.Events[0]); err != nil {
		sum.Reason = "noXMLForm"
		return nil, sum
	}
	return doc.Events[0], sum
}

// queryDocumentXML writes events as an EPCIS 2.0 XML EPCISQueryDocument:
// bodies in its EventList, each written from the event the body decodes
// to (so that it hashes as the chain's hash ID says, but for the
// reference's JSON CURIEs, see epcis.QueryDocumentXML), and the others
// after it, in CareLedger's withheldEventList.
func queryDocumentXML(events []result, now time.Time) ([]byte, error) {
	var bodies []*epcis.Event
	var withheld withheldListXML
	for _, ev := range events {
		if e, sum := bodyEvent(ev); e != nil {
			bodies = append(bodies, e)
		} else {
			withheld.Events = append(withheld.Events, sum)
		}
	}
	var extra []byte
	if len(withheld.Events) > 0 {
		var err error
		if extra, err = xml.Marshal(withheld); err != nil {
			return nil, err
		}
	}
	return epcis.QueryDocumentXML(now.UTC().Format(time.RFC3339Nano), "SimpleEventQuery", bodies, extra)
}

// eventXML writes one event: its element, or its summary as a
// withheldEvent element in CareLedger's namespace.
func eventXML(ev result) ([]byte, error) {
	if e, _ := bodyEvent(ev); e != nil {
		return epcis.EventXML(e)
	}
	_, sum := bodyEvent(ev)
	sum.XMLName = xml.Name{Space: careledgerNS, Local: "withheldEvent"}
	return xml.Marshal(sum)
}

// writeEvents answers with events in format f: a query document, or one
// event when single.
func (s *Server) writeEvents(w http.ResponseWriter, f format, events []result, single bool) {
	if f == jsonLD {
		if single {
			s.writeJSON(w, http.StatusOK, events[0])
		} else {
			s.writeJSON(w, http.StatusOK, queryDocument(events, s.opts.Now()))
		}
		return
	}
	var b []byte
	var err error
	if single {
		b, err = eventXML(events[0])
	} else {
		b, err = queryDocumentXML(events, s.opts.Now())
	}
	if err != nil {
		s.problem(w, err)
		return
	}
	s.versionHeaders(w)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
