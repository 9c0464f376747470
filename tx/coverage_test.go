package tx_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/careledger/careledger/contract"
)

// docPath is the specification of the transaction encoding.
var docPath = filepath.Join("..", "docs", "TRANSACTIONS.md")

// TestEveryMessageSpecified fails when a registered message type has no
// test vector or no section in docs/TRANSACTIONS.md, so that a contract's
// new message reaches the browsers' specification with it.
func TestEveryMessageSpecified(t *testing.T) {
	b, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(b, &vf); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, gap := range specGaps(vectorRouter(t).Msgs(), vf, string(doc)) {
		t.Error(gap)
	}
}

// TestSpecGaps checks that specGaps notices a message type with no vector
// or section, a section of a type nobody registered, and sections out of
// order.
func TestSpecGaps(t *testing.T) {
	msgs := []*contract.MsgSpec{{Type: 1, Name: "a/one"}, {Type: 16, Name: "b/two"}}
	vf := vectorFile{Vectors: []vector{{Messages: []vectorMsg{{Type: 1, Name: "a/one"}, {Type: 16, Name: "b/two"}}}}}
	doc := "# Doc\n\n## 6. Messages\n\n### 6.1 a/one (type 1)\n\ntext (type 16)\n\n### 6.2 b/two (type 16)\n"
	if gaps := specGaps(msgs, vf, doc); gaps != nil {
		t.Errorf("specGaps(complete) = %q; want none", gaps)
	}
	tests := []struct {
		name string
		msgs []*contract.MsgSpec
		vf   vectorFile
		doc  string
		want string
	}{
		{"no vector", append(msgs, &contract.MsgSpec{Type: 17, Name: "b/three"}), vf, doc + "### 6.3 b/three (type 17)\n",
			"b/three (type 17) has no vector"},
		{"vector names another message", msgs,
			vectorFile{Vectors: []vector{{Messages: []vectorMsg{{Type: 1, Name: "a/one"}, {Type: 16, Name: "b/other"}}}}}, doc,
			"b/two (type 16) has no vector"},
		{"no section", append(msgs, &contract.MsgSpec{Type: 17, Name: "b/three"}),
			vectorFile{Vectors: []vector{{Messages: []vectorMsg{{Type: 1, Name: "a/one"}, {Type: 16, Name: "b/two"}, {Type: 17, Name: "b/three"}}}}},
			doc, "b/three (type 17) has no section"},
		{"section names another message", msgs, vf, strings.Replace(doc, "b/two (type 16)", "b/other (type 16)", 1),
			"b/two (type 16) has no section"},
		{"unregistered section", msgs, vf, doc + "### 6.3 b/gone (type 18)\n", "type 18, which no contract registers"},
		{"out of order", msgs, vf, "### 6.2 b/two (type 16)\n### 6.1 a/one (type 1)\n", "comes after the section of type 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gaps := specGaps(tc.msgs, tc.vf, tc.doc)
			if !slices.ContainsFunc(gaps, func(g string) bool { return strings.Contains(g, tc.want) }) {
				t.Errorf("specGaps() = %q; want one containing %q", gaps, tc.want)
			}
		})
	}
}

// sectionHeading matches a heading of docs/TRANSACTIONS.md that specifies a
// message type: "### 6.7 records/anchor (type 16)".
var sectionHeading = regexp.MustCompile(`^#+ .*\(type (\d+)\)$`)

// specGaps returns what the vectors and the document lack for msgs: a
// message type with no vector message of its type and name; no heading
// ending in "name (type N)"; a heading for a type not in msgs; and headings
// out of type order.
func specGaps(msgs []*contract.MsgSpec, vf vectorFile, doc string) []string {
	var gaps []string
	type typeName struct {
		typ  uint64
		name string
	}
	vectors := map[typeName]bool{}
	for _, v := range vf.Vectors {
		for _, m := range v.Messages {
			vectors[typeName{m.Type, m.Name}] = true
		}
	}
	headings := map[uint64]string{}
	var last uint64
	for line := range strings.Lines(doc) {
		line = strings.TrimSpace(line)
		match := sectionHeading.FindStringSubmatch(line)
		if match == nil {
			continue
		}
		typ, err := strconv.ParseUint(match[1], 10, 64)
		if err != nil {
			gaps = append(gaps, fmt.Sprintf("%s: heading %q: %v", docPath, line, err))
			continue
		}
		if typ <= last && len(headings) > 0 {
			gaps = append(gaps, fmt.Sprintf("%s: heading %q comes after the section of type %d; keep type order", docPath, line, last))
		}
		headings[typ], last = line, typ
	}
	registered := map[uint64]bool{}
	for _, m := range msgs {
		registered[m.Type] = true
		if !vectors[typeName{m.Type, m.Name}] {
			gaps = append(gaps, fmt.Sprintf("%s (type %d) has no vector in %s (add one to vectorSpecs and run go test ./tx -run TestVectors -update)",
				m.Name, m.Type, vectorsPath))
		}
		if h, ok := headings[m.Type]; !ok || !strings.HasSuffix(h, fmt.Sprintf(" %s (type %d)", m.Name, m.Type)) {
			gaps = append(gaps, fmt.Sprintf("%s (type %d) has no section in %s (want a heading ending in %q)",
				m.Name, m.Type, docPath, fmt.Sprintf("%s (type %d)", m.Name, m.Type)))
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(headings)) {
		if !registered[typ] {
			gaps = append(gaps, fmt.Sprintf("%s: heading %q specifies type %d, which no contract registers", docPath, headings[typ], typ))
		}
	}
	return gaps
}
