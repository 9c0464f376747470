package epcis

// Limits bound what a decoder accepts, so that a capture cannot exhaust a
// node. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest document, in bytes. Default 16 MiB.
	MaxBytes int
	// MaxEvents is the most events in one document. Default 10,000.
	MaxEvents int
	// MaxDepth is the deepest nesting of JSON values or XML elements.
	// Default 32 (EPCIS itself needs 8; extensions nest further).
	MaxDepth int
}

// The defaults of Limits, which ParseJSON and ParseXML use.
const (
	DefaultMaxBytes  = 16 << 20
	DefaultMaxEvents = 10000
	DefaultMaxDepth  = 32
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxEvents <= 0 {
		l.MaxEvents = DefaultMaxEvents
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}
