package fhirapi

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/careledger/careledger/fhir"
)

// writeSealed writes content as a sealed file and returns its path.
func writeSealed(t *testing.T, content []byte) (string, *exportJob) {
	t.Helper()
	key, err := newSealKey()
	if err != nil {
		t.Fatal(err)
	}
	j := &exportJob{dir: t.TempDir(), key: key}
	path := filepath.Join(j.dir, "Observation.ndjson")
	w, err := createSealed(path, key, 3)
	if err != nil {
		t.Fatal(err)
	}
	for len(content) > 0 { // in uneven writes
		n := min(len(content), 100_003)
		if _, err := w.Write(content[:n]); err != nil {
			t.Fatal(err)
		}
		content = content[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, j
}

func readSealed(path string, j *exportJob, file uint32) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	err = copySealed(&out, f, j.key, file)
	return out.Bytes(), err
}

// TestSealedFile: a sealed file reads back whole, holds no plaintext, and
// refuses to read when truncated, altered, read as another file or under
// another job's key.
func TestSealedFile(t *testing.T) {
	line := []byte(`{"resourceType":"Observation","id":"secret-glucose"}` + "\n")
	for _, size := range []int{0, 1, sealChunk - 1, sealChunk, 3*sealChunk + 17} {
		content := bytes.Repeat(line, size/len(line)+1)[:size]
		path, j := writeSealed(t, content)
		got, err := readSealed(path, j, 3)
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("size %d: read %d bytes, %v; want the %d written", size, len(got), err, size)
		}
		raw, _ := os.ReadFile(path)
		if size > 0 && bytes.Contains(raw, []byte("secret-glucose")) {
			t.Fatalf("size %d: the file holds plaintext", size)
		}
	}

	content := bytes.Repeat(line, 2*sealChunk/len(line))
	path, j := writeSealed(t, content)
	raw, _ := os.ReadFile(path)
	other, _ := newSealKey()
	for _, tc := range []struct {
		name string
		raw  []byte
		file uint32
		job  *exportJob
	}{
		{"truncated to whole chunks", raw[:4+sealChunk+j.key.Overhead()], 3, j},
		{"truncated", raw[:len(raw)-1], 3, j},
		{"extended", append(bytes.Clone(raw), 0), 3, j},
		{"altered", func() []byte { b := bytes.Clone(raw); b[100] ^= 1; return b }(), 3, j},
		{"another file's number", raw, 4, j},
		{"another key", raw, 3, &exportJob{key: other}},
		{"empty", nil, 3, j},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			os.WriteFile(p, tc.raw, 0o600)
			if _, err := readSealed(p, tc.job, tc.file); !errors.Is(err, errSealedFile) {
				t.Errorf("read = %v; want errSealedFile", err)
			}
		})
	}
}

// FuzzExportKickoff: whatever a client sends as a kick-off's query and
// Parameters body, parsing ends in a scope or a 4xx FHIR error.
func FuzzExportKickoff(f *testing.F) {
	f.Add("_type=Patient,Observation&_since=2024-01-02T03:04:05Z", []byte(""))
	f.Add("_type=Observation&_typeFilter=Observation%3Fcode%3Dhttp%3A%2F%2Floinc.org%7C4548-4,Observation%3Fstatus%3Dfinal", []byte(""))
	f.Add("", []byte(`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient"},{"name":"_since","valueInstant":"2024-01-02T03:04:05.123+02:00"}]}`))
	f.Add("_outputFormat=ndjson", []byte(`{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/1"}}]}`))
	f.Add("_typeFilter=Nonsense%3F%25", []byte(`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":7}]}`))
	f.Add("_elements=id&_type=,", []byte(`[]`))
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		v, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		if len(body) > 0 {
			pv, err := parametersValues(body)
			if err != nil {
				checkClientError(t, query, body, err)
				return
			}
			for k, vs := range pv {
				v[k] = append(v[k], vs...)
			}
		}
		for _, level := range []exportLevel{systemLevel, patientLevel, groupLevel} {
			scope, err := parseExport(v, level)
			if err != nil {
				checkClientError(t, query, body, err)
				continue
			}
			for _, typ := range scope.Types {
				if !fhir.IsResourceType(typ) || level != systemLevel && !fhir.InPatientCompartment(typ) {
					t.Fatalf("parseExport(%q, %q, level %d) let through type %q", query, body, level, typ)
				}
			}
		}
	})
}

func checkClientError(t *testing.T, query string, body []byte, err error) {
	t.Helper()
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status() < 400 || fe.Status() > 499 {
		t.Fatalf("kick-off (%q, %q): %v; want a 4xx FHIR error", query, body, err)
	}
}
