package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/careledger/careledger/contract/supply"
)

// recordFile is the file `careledger supply record` reads: the chain's part
// of captured EPCIS events (docs/TRANSACTIONS.md, supply/record), with
// hashes in hex and event types and actions by name. It is for recording
// through the contract's message directly; a capture API computes the same
// from an EPCIS document.
type recordFile struct {
	Events []recordFileEvent `json:"events"`
}

type recordFileEvent struct {
	Hash        string           `json:"hash"` // the CBV 2.0 event hash, 64 hex digits
	Type        string           `json:"type"` // ObjectEvent, AggregationEvent, ...
	Action      string           `json:"action,omitempty"`
	BizStep     string           `json:"bizStep,omitempty"`
	Disposition string           `json:"disposition,omitempty"`
	EPCs        []supply.EPC     `json:"epcList,omitempty"`
	Parent      supply.EPC       `json:"parentID,omitempty"`
	Inputs      []supply.EPC     `json:"inputEPCList,omitempty"`
	Outputs     []supply.EPC     `json:"outputEPCList,omitempty"`
	Source      string           `json:"source,omitempty"`
	Destination string           `json:"destination,omitempty"`
	Lot         string           `json:"lot,omitempty"`
	Expiry      uint32           `json:"expiry,omitempty"` // YYYYMMDD
	Readings    []supply.Reading `json:"readings,omitempty"`
	Corrects    string           `json:"corrects,omitempty"` // hash of the event an error declaration corrects
}

// parseRecordFile reads a record file into a supply/record message. It
// checks the form of hashes, types and actions; the node checks the rest.
func parseRecordFile(b []byte) (supply.Record, error) {
	var f recordFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return supply.Record{}, fmt.Errorf("record file: %w", err)
	}
	if dec.More() {
		return supply.Record{}, fmt.Errorf("record file: data after the object")
	}
	m := supply.Record{Events: make([]supply.Event, 0, len(f.Events))}
	for i, fe := range f.Events {
		e, err := fe.event()
		if err != nil {
			return supply.Record{}, fmt.Errorf("record file: event %d: %w", i, err)
		}
		m.Events = append(m.Events, e)
	}
	return m, nil
}

func (fe recordFileEvent) event() (supply.Event, error) {
	e := supply.Event{
		BizStep: fe.BizStep, Disposition: fe.Disposition, EPCs: fe.EPCs, Parent: fe.Parent, Inputs: fe.Inputs,
		Outputs: fe.Outputs, Source: fe.Source, Destination: fe.Destination, Lot: fe.Lot, Expiry: fe.Expiry, Readings: fe.Readings,
	}
	var err error
	if e.Hash, err = hash32(fe.Hash); err != nil {
		return e, fmt.Errorf("hash: %w", err)
	}
	if fe.Corrects != "" {
		h, err := hash32(fe.Corrects)
		if err != nil {
			return e, fmt.Errorf("corrects: %w", err)
		}
		e.Corrects = &h
	}
	for k := supply.ObjectEvent; k <= supply.AssociationEvent; k++ {
		if k.String() == fe.Type {
			e.Kind = k
		}
	}
	if e.Kind == 0 {
		return e, fmt.Errorf("type %q is not an EPCIS event type", fe.Type)
	}
	for a := supply.Add; a <= supply.Delete; a++ {
		if a.String() == fe.Action {
			e.Action = a
		}
	}
	if e.Action == supply.NoAction && fe.Action != "" {
		return e, fmt.Errorf("action %q is not ADD, OBSERVE or DELETE", fe.Action)
	}
	return e, nil
}

func hash32(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("want 64 hex digits")
	}
	copy(h[:], b)
	return h, nil
}
