package vault

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets feed arbitrary bytes to the decoders of what the vault
// reads from disk: none may panic, and a value a decoder accepts must
// encode back to the same bytes, so that no two stored forms mean the same
// thing. Their seed corpora are in testdata/fuzz.

// seedRecord is a valid record value.
func seedRecord() []byte {
	return recordValue{latest: 3, wrappedKey: bytes.Repeat([]byte{0xab}, wrappedKeySize)}.encode()
}

// seedVersion is a valid version value with content, and one of a deletion.
func seedVersion(deleted bool) []byte {
	n := nonceSize + saltSize + tagSize
	if !deleted {
		n += 20
	}
	return versionValue{updated: 1_740_000_000_000_000_000, deleted: deleted, sealed: bytes.Repeat([]byte{0xcd}, n)}.encode()
}

func FuzzDecodeRecordValue(f *testing.F) {
	f.Add(seedRecord())
	f.Add([]byte{})
	f.Add([]byte{formatV1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecordValue(b)
		if err != nil {
			return
		}
		if enc := r.encode(); !bytes.Equal(enc, b) {
			t.Fatalf("decodeRecordValue(%x) re-encodes as %x", b, enc)
		}
	})
}

func FuzzDecodeVersionValue(f *testing.F) {
	f.Add(seedVersion(false))
	f.Add(seedVersion(true))
	f.Add([]byte{formatV1})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeVersionValue(b)
		if err != nil {
			return
		}
		if enc := v.encode(); !bytes.Equal(enc, b) {
			t.Fatalf("decodeVersionValue(%x) re-encodes as %x", b, enc)
		}
		if v.deleted && len(v.sealed) != nonceSize+saltSize+tagSize {
			t.Fatalf("decodeVersionValue(%x) accepts a deletion with content", b)
		}
	})
}

func FuzzDecodeLocator(f *testing.F) {
	f.Add(locator{patient: testPatient(1)}.encode())
	f.Add(locator{}.encode())
	f.Add(locator{erased: true}.encode())
	f.Add([]byte("\x01ABCDEF0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := decodeLocator(b)
		if err != nil {
			return
		}
		if enc := l.encode(); !bytes.Equal(enc, b) {
			t.Fatalf("decodeLocator(%x) re-encodes as %x", b, enc)
		}
	})
}

func FuzzDecodePatientKey(f *testing.F) {
	f.Add(encodePatientKey(bytes.Repeat([]byte{0xab}, nonceSize+keySize+tagSize)))
	f.Add(encodePatientKey(nil))
	f.Add([]byte{formatV1})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := decodePatientKey(b)
		if err != nil {
			return
		}
		if w != nil && len(w) == 0 {
			t.Fatalf("decodePatientKey(%x) = an empty wrapped key", b)
		}
		if enc := encodePatientKey(w); !bytes.Equal(enc, b) {
			t.Fatalf("decodePatientKey(%x) re-encodes as %x", b, enc)
		}
	})
}

func FuzzDecodeMeta(f *testing.F) {
	f.Add(encodeMeta(bytes.Repeat([]byte{0xee}, nonceSize+len(checkPlaintext)+tagSize)))
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := decodeMeta(b)
		if err != nil {
			return
		}
		if enc := encodeMeta(w); !bytes.Equal(enc, b) {
			t.Fatalf("decodeMeta(%x) re-encodes as %x", b, enc)
		}
	})
}

// FuzzDecodeRecordKey decodes keys as List reads them, for a patient and
// for the directory.
func FuzzDecodeRecordKey(f *testing.F) {
	p := testPatient(1)
	f.Add(recordKey(p, "Observation", "a-1.2"))
	f.Add(recordKey("", "Organization", "o"))
	f.Add(append(recordsPrefix(p, ""), "Observation\x00a\x00b"...))
	f.Add(append(recordsPrefix("", ""), "\x00"...))
	f.Fuzz(func(t *testing.T, k []byte) {
		for _, patient := range []string{p, ""} {
			typ, id, err := decodeRecordKey(k, patient)
			if err != nil {
				continue
			}
			if enc := recordKey(patient, typ, id); !bytes.Equal(enc, k) {
				t.Fatalf("decodeRecordKey(%x) = %q, %q, which encode as %x", k, typ, id, enc)
			}
		}
	})
}

func FuzzDecodePendingKey(f *testing.F) {
	f.Add(pendingRecordKey(testPatient(1), "Observation", "a"))
	f.Add(pendingRecordKey("", "Practitioner", "dr"))
	f.Add(pendingPatientKey(testPatient(2)))
	f.Add([]byte("wp"))
	f.Add([]byte("wx"))
	f.Fuzz(func(t *testing.T, k []byte) {
		e, err := decodePendingKey(k)
		if err != nil {
			return
		}
		if enc := e.key(); !bytes.Equal(enc, k) {
			t.Fatalf("decodePendingKey(%x) = %+v, which encodes as %x", k, e, enc)
		}
	})
}

// FuzzDecodeSealed opens arbitrary bytes as a sealed value (a wrapped key
// or a version's ciphertext): any input must give an error wrapping
// ErrCorrupt, except the one value that was really sealed.
func FuzzDecodeSealed(f *testing.F) {
	kw, err := newMasterKey(bytes.Repeat([]byte{1}, keySize))
	if err != nil {
		f.Fatal(err)
	}
	aad := patientKeyAAD(testPatient(1))
	nonce := bytes.Repeat([]byte{2}, nonceSize)
	sealed := kw.aead.Seal(bytes.Clone(nonce), nonce, []byte("a patient key of 32 bytes, say.."), aad)
	f.Add(sealed)
	f.Add(sealed[:nonceSize+tagSize])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := kw.Unwrap(b, aad)
		if err == nil && !bytes.Equal(b, sealed) {
			t.Fatalf("Unwrap(%x) succeeded: a forgery", b)
		}
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Unwrap(%x) = %v; want ErrCorrupt", b, err)
		}
	})
}
