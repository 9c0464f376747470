package x12

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the reader.
const (
	MaxInput    = 8 << 20 // bytes of one interchange
	MaxSegments = 200_000 // segments of one interchange
	MaxElements = 64      // elements of one segment
	isaLen      = 106     // the ISA segment's fixed length, its terminator included
)

// ErrSyntax is the error of input that is not a well-formed interchange.
var ErrSyntax = errors.New("x12 syntax")

// Delimiters are an interchange's separators, which its ISA segment
// declares: the element separator is ISA's fourth byte, the repetition
// separator ISA11, the component separator ISA16 and the segment
// terminator the byte after it.
type Delimiters struct {
	Element, Repetition, Component, Segment byte
}

// DefaultDelimiters are the separators most trading partners use.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: '~'}

// Segment is one segment: its ID and its elements, Elements[0] being
// element 01.
type Segment struct {
	ID       string
	Elements []string
}

// Seg builds a segment.
func Seg(id string, elements ...string) Segment { return Segment{ID: id, Elements: elements} }

// Element returns element i (1-based), or "" when the segment has fewer.
func (s Segment) Element(i int) string {
	if i < 1 || i > len(s.Elements) {
		return ""
	}
	return s.Elements[i-1]
}

// Component returns component j (1-based) of element i, split by d.
func (s Segment) Component(d Delimiters, i, j int) string {
	cs := strings.Split(s.Element(i), string(d.Component))
	if j < 1 || j > len(cs) {
		return ""
	}
	return cs[j-1]
}

// Interchange is an ISA/IEA envelope and the functional groups in it.
type Interchange struct {
	Delimiters Delimiters
	ISA        Segment
	Groups     []Group
}

// Group is a GS/GE functional group and its transaction sets.
type Group struct {
	GS   Segment
	Sets []Set
}

// Set is an ST/SE transaction set: ST, and the segments between ST and SE.
type Set struct {
	ST       Segment
	Segments []Segment
}

func syntaxf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// Parse reads one interchange. Line breaks after a segment terminator are
// allowed; anything after IEA but white space is an error.
func Parse(b []byte) (*Interchange, error) {
	if len(b) > MaxInput {
		return nil, syntaxf("interchange of %d bytes exceeds %d", len(b), MaxInput)
	}
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) < isaLen || string(b[:3]) != "ISA" {
		return nil, syntaxf("an interchange starts with a %d-byte ISA segment", isaLen)
	}
	d := Delimiters{Element: b[3], Repetition: b[82], Component: b[104], Segment: b[105]}
	if err := d.validate(); err != nil {
		return nil, err
	}
	if bytes.IndexByte(b, d.Segment) != isaLen-1 || bytes.Count(b[:isaLen], []byte{d.Element}) != 16 {
		return nil, syntaxf("the ISA segment is not %d bytes of 16 fixed-width elements", isaLen)
	}
	segs, err := split(b, d)
	if err != nil {
		return nil, err
	}
	return assemble(segs, d)
}

func (d Delimiters) validate() error {
	seps := []byte{d.Element, d.Component, d.Segment}
	if d.Repetition != 'U' { // 4010's ISA11 is the standards ID "U", no separator
		seps = append(seps, d.Repetition)
	}
	for i, c := range seps {
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == ' ' || bytes.IndexByte(seps[:i], c) >= 0 {
			return syntaxf("ISA declares separators that are alphanumeric, blank or not distinct")
		}
	}
	return nil
}

// split cuts b into segments at d.Segment and each into elements.
func split(b []byte, d Delimiters) ([]Segment, error) {
	var segs []Segment
	for len(b) > 0 {
		end := bytes.IndexByte(b, d.Segment)
		if end < 0 {
			return nil, syntaxf("segment %d is not terminated", len(segs)+1)
		}
		if len(segs) == MaxSegments {
			return nil, syntaxf("more than %d segments", MaxSegments)
		}
		fields := strings.Split(string(b[:end]), string(d.Element))
		if len(fields)-1 > MaxElements {
			return nil, syntaxf("segment %d has more than %d elements", len(segs)+1, MaxElements)
		}
		if !validID(fields[0]) {
			return nil, syntaxf("segment %d has no valid segment ID", len(segs)+1)
		}
		segs = append(segs, Segment{ID: fields[0], Elements: fields[1:]})
		b = bytes.TrimLeft(b[end+1:], "\r\n")
	}
	return segs, nil
}

func validID(id string) bool {
	if len(id) < 2 || len(id) > 3 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// assemble checks the envelopes of segs and nests their contents.
func assemble(segs []Segment, d Delimiters) (*Interchange, error) {
	ic := &Interchange{Delimiters: d, ISA: segs[0]}
	if len(ic.ISA.Elements) != 16 {
		return nil, syntaxf("ISA has %d elements; want 16", len(ic.ISA.Elements))
	}
	i := 1
	for i < len(segs) && segs[i].ID == "GS" {
		g, next, err := readGroup(segs, i)
		if err != nil {
			return nil, err
		}
		ic.Groups = append(ic.Groups, g)
		i = next
	}
	if i != len(segs)-1 || segs[i].ID != "IEA" {
		return nil, syntaxf("segment %d (%s): want GS or a final IEA", i+1, segs[min(i, len(segs)-1)].ID)
	}
	iea := segs[i]
	if err := trailer(iea, len(ic.Groups), ic.ISA.Element(13), i); err != nil {
		return nil, err
	}
	if len(ic.Groups) == 0 {
		return nil, syntaxf("the interchange holds no functional group")
	}
	return ic, nil
}

func readGroup(segs []Segment, i int) (Group, int, error) {
	g := Group{GS: segs[i]}
	i++
	for i < len(segs) && segs[i].ID == "ST" {
		start := i
		s := Set{ST: segs[i]}
		for i++; i < len(segs) && segs[i].ID != "SE"; i++ {
			if id := segs[i].ID; id == "ST" || id == "GS" || id == "GE" || id == "IEA" || id == "ISA" {
				return g, 0, syntaxf("segment %d (%s) inside a transaction set", i+1, id)
			}
			s.Segments = append(s.Segments, segs[i])
		}
		if i == len(segs) {
			return g, 0, syntaxf("transaction set at segment %d has no SE", start+1)
		}
		if err := trailer(segs[i], len(s.Segments)+2, s.ST.Element(2), i); err != nil {
			return g, 0, err
		}
		g.Sets = append(g.Sets, s)
		i++
	}
	if i == len(segs) || segs[i].ID != "GE" {
		return g, 0, syntaxf("functional group at segment %d has no GE", i+1)
	}
	if err := trailer(segs[i], len(g.Sets), g.GS.Element(6), i); err != nil {
		return g, 0, err
	}
	if len(g.Sets) == 0 {
		return g, 0, syntaxf("functional group at segment %d holds no transaction set", i+1)
	}
	return g, i + 1, nil
}

// trailer checks an SE, GE or IEA: the count it declares and the control
// number it repeats from its header. SE repeats ST02 as SE02; GE and IEA
// put the count first too.
func trailer(t Segment, count int, control string, at int) error {
	n, err := strconv.Atoi(t.Element(1))
	if err != nil || n != count {
		return syntaxf("%s at segment %d declares a count that is not %d", t.ID, at+1, count)
	}
	if strings.TrimSpace(t.Element(2)) != strings.TrimSpace(control) || control == "" || len(t.Elements) != 2 {
		return syntaxf("%s at segment %d does not repeat its header's control number", t.ID, at+1)
	}
	return nil
}

// Encode writes the interchange with its delimiters, computing every
// trailer (SE, GE, IEA) from the contents; each segment ends a line.
func (ic *Interchange) Encode() []byte {
	d := ic.Delimiters
	var b bytes.Buffer
	write := func(s Segment) {
		b.WriteString(s.ID)
		for _, e := range s.Elements {
			b.WriteByte(d.Element)
			b.WriteString(e)
		}
		b.WriteByte(d.Segment)
		b.WriteByte('\n')
	}
	write(ic.ISA)
	for _, g := range ic.Groups {
		write(g.GS)
		for _, s := range g.Sets {
			write(s.ST)
			for _, seg := range s.Segments {
				write(seg)
			}
			write(Seg("SE", strconv.Itoa(len(s.Segments)+2), s.ST.Element(2)))
		}
		write(Seg("GE", strconv.Itoa(len(g.Sets)), g.GS.Element(6)))
	}
	write(Seg("IEA", strconv.Itoa(len(ic.Groups)), ic.ISA.Element(13)))
	return b.Bytes()
}

// Envelope names the parties and control numbers of an interchange the
// package writes.
type Envelope struct {
	SenderQualifier, Sender     string // ISA05-06, such as "ZZ", and up to 15 characters
	ReceiverQualifier, Receiver string // ISA07-08
	GroupSender, GroupReceiver  string // GS02-03
	Control                     uint32 // ISA13 and GS06, 1 to 999999999
	Date                        uint32 // YYYYMMDD
	Time                        uint16 // HHMM
	Test                        bool   // ISA15 "T" rather than "P"
}

// isa returns the ISA segment of e with delimiters d, its fixed-width
// fields padded.
func (e Envelope) isa(d Delimiters) Segment {
	pad := func(s string, n int) string { return (s + strings.Repeat(" ", n))[:n] }
	usage := "P"
	if e.Test {
		usage = "T"
	}
	return Seg("ISA", "00", pad("", 10), "00", pad("", 10), pad(e.SenderQualifier, 2), pad(e.Sender, 15),
		pad(e.ReceiverQualifier, 2), pad(e.Receiver, 15), fmt.Sprintf("%06d", e.Date%1_000_000), fmt.Sprintf("%04d", e.Time),
		string(d.Repetition), "00501", fmt.Sprintf("%09d", e.Control), "0", usage, string(d.Component))
}

func (e Envelope) gs(functional, version string) Segment {
	return Seg("GS", functional, e.GroupSender, e.GroupReceiver, fmt.Sprintf("%08d", e.Date), fmt.Sprintf("%04d", e.Time),
		strconv.FormatUint(uint64(e.Control), 10), "X", version)
}
