package v1

import "time"

// Verification is the answer of GET /01/{gtin}/21/{serial}: a DSCSA
// verification in the shape of the GS1 Lightweight Messaging Standard for
// Verification of Product Identifiers (verificationTimestamp, data with
// verified, verificationFailureReason and additionalInfo, corrUUID), with
// what the ledger adds: the responding organization, the item's status,
// its brand owner, a stable reason code and the committed height whose
// state answered.
type Verification struct {
	VerificationTimestamp string           `json:"verificationTimestamp"`
	Responder             string           `json:"responder"`
	CorrUUID              string           `json:"corrUUID,omitempty"`
	Data                  VerificationData `json:"data"`
	GTIN                  string           `json:"gtin"`
	Serial                string           `json:"serialNumber"`
	Status                string           `json:"status,omitempty"`
	BrandOwner            string           `json:"brandOwner,omitempty"`
	// Reason is supply's reason code: "" when verified, or
	// unknown_identifier, lot_mismatch, expiry_mismatch,
	// lot_expiry_mismatch, recalled, quarantined, dispensed,
	// decommissioned, destroyed.
	Reason string `json:"reason,omitempty"`
	Height int64  `json:"height"`
}

// VerificationData is the standard's data object. Failure reasons are the
// standard's codes: No_match_GTIN_Serial, No_match_GTIN_Serial_Lot,
// No_match_GTIN_Serial_Expiry, No_match_GTIN_Serial_Lot_Expiry and
// Not_for_re-distribution; additional information Recalled, Suspect or
// Expired.
type VerificationData struct {
	Verified                  bool   `json:"verified"`
	VerificationFailureReason string `json:"verificationFailureReason,omitempty"`
	AdditionalInfo            string `json:"additionalInfo,omitempty"`
}

// Journey is the answer of GET /01/{gtin}/21/{serial}?linkType=gs1:traceability
// and GET /00/{sscc}: an item's or logistic unit's state on the ledger and
// the events that named it, in the order they were recorded.
type Journey struct {
	EPC         string         `json:"epc"`
	Status      string         `json:"status"`
	Holder      string         `json:"holder,omitempty"`
	Destination string         `json:"destination,omitempty"`
	Lot         string         `json:"lot,omitempty"`
	Expiry      uint32         `json:"expiry,omitempty"` // YYYYMMDD
	Parent      string         `json:"parent,omitempty"`
	Children    []string       `json:"children,omitempty"`
	Events      []JourneyEvent `json:"events"`
	Height      int64          `json:"height"`
}

// JourneyEvent is what the ledger holds of one EPCIS event; its body stays
// at the capturing organization (Org).
type JourneyEvent struct {
	EventID     string `json:"eventID"` // ni:///sha-256;HEX?ver=CBV2.0
	Type        string `json:"type"`
	Action      string `json:"action,omitempty"`
	BizStep     string `json:"bizStep,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	Org         string `json:"org"`
	Height      int64  `json:"height"`
	// DeclaredBy is the eventID of an error declaration of this event.
	DeclaredBy string `json:"declaredBy,omitempty"`
}

// SubscriptionRequest is the body of POST
// /epcis/queries/{queryName}/subscriptions, as the EPCIS 2.0 REST binding
// defines it for webhooks. Only streaming subscriptions are offered: each
// committed block's matching events are delivered as one document.
type SubscriptionRequest struct {
	Dest           string `json:"dest"`
	SignatureToken string `json:"signatureToken,omitempty"`
	Stream         *bool  `json:"stream,omitempty"`
	ReportIfEmpty  bool   `json:"reportIfEmpty,omitempty"`
	// InitialRecordTime starts deliveries with the first block committed at
	// or after it, as the binding allows; absent, with the blocks that
	// commit from now on.
	InitialRecordTime *time.Time `json:"initialRecordTime,omitempty"`
}

// Subscription is a subscription as the API shows it (never its token).
type Subscription struct {
	ID        string `json:"subscriptionID"`
	QueryName string `json:"queryName"`
	Dest      string `json:"dest"`
	Org       string `json:"org"`
	Stream    bool   `json:"stream"`
	// Format is the deliveries' media type, application/ld+json or
	// application/xml, as the subscription request's Accept header chose.
	Format string `json:"format,omitempty"`
	// Delivered and Failed count documents delivered and given up.
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed"`
}

// Lot is the answer of GET /01/{gtin}/10/{lot}: a lot's recall, its
// holders (each with how many of its live units it holds) and a page of its
// units in serial order, from committed state at Height.
type Lot struct {
	GTIN  string `json:"gtin"`
	Lot   string `json:"lot"`
	Known bool   `json:"known"` // some unit of the lot was commissioned
	// Recalled is whether the lot is recalled, and RecalledAt the height
	// that recalled it.
	Recalled   bool        `json:"recalled"`
	RecalledAt int64       `json:"recalledAt,omitempty"`
	Holders    []LotHolder `json:"holders"`
	Units      []LotUnit   `json:"units"`
	// NextPageToken, when set, asks for the next page of units.
	NextPageToken string `json:"nextPageToken,omitempty"`
	Height        int64  `json:"height"`
}

// LotHolder is an organization holding live units of a lot.
type LotHolder struct {
	Org   string `json:"org"`
	Items uint64 `json:"items"`
}

// LotUnit is one unit of a lot: its serial, the status it reports and its
// holder (none once dispensed, decommissioned or destroyed).
type LotUnit struct {
	Serial string `json:"serialNumber"`
	Status string `json:"status"`
	Holder string `json:"holder,omitempty"`
}
