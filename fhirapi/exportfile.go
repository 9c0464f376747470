package fhirapi

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// An export's ndjson files hold health data, so they are kept at rest
// sealed under a key that exists only in the node's memory, one per job:
// a file left behind by a crash or a failed deletion cannot be read by
// anyone, and deleting a job's files is also forgetting its key. A file is
// a sequence of chunks, each a 4-byte big-endian length and an AES-256-GCM
// ciphertext of up to sealChunk bytes of ndjson. The nonce is the file's
// number in its job and the chunk's index, so that no chunk can be moved
// within or between files; the additional data marks the last chunk, so
// that a truncated file does not read as a complete one.
const sealChunk = 256 << 10

var errSealedFile = errors.New("export file is damaged or incomplete")

// newSealKey returns a new random AES-256-GCM key.
func newSealKey() (cipher.AEAD, error) {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	defer clear(k[:])
	b, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func sealNonce(file uint32, chunk uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint32(n, file)
	binary.BigEndian.PutUint64(n[4:], chunk)
	return n
}

func sealAD(last bool) []byte {
	if last {
		return []byte{1}
	}
	return []byte{0}
}

// sealedWriter writes one sealed file.
type sealedWriter struct {
	f     *os.File
	w     *bufio.Writer
	aead  cipher.AEAD
	file  uint32
	chunk uint64
	buf   []byte
}

func createSealed(path string, aead cipher.AEAD, file uint32) (*sealedWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &sealedWriter{f: f, w: bufio.NewWriter(f), aead: aead, file: file, buf: make([]byte, 0, sealChunk)}, nil
}

// Write buffers p, sealing every full chunk.
func (s *sealedWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), sealChunk-len(s.buf))
		s.buf, p = append(s.buf, p[:k]...), p[k:]
		if len(s.buf) == sealChunk && len(p) > 0 {
			if err := s.seal(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (s *sealedWriter) seal(last bool) error {
	ct := s.aead.Seal(nil, sealNonce(s.file, s.chunk), s.buf, sealAD(last))
	clear(s.buf)
	s.buf, s.chunk = s.buf[:0], s.chunk+1
	if err := binary.Write(s.w, binary.BigEndian, uint32(len(ct))); err != nil {
		return err
	}
	_, err := s.w.Write(ct)
	return err
}

// Close seals the last chunk and closes the file.
func (s *sealedWriter) Close() error {
	err := s.seal(true)
	if err == nil {
		err = s.w.Flush()
	}
	return errors.Join(err, s.f.Close())
}

// abort closes the file without finishing it.
func (s *sealedWriter) abort() { s.f.Close() }

// copySealed writes the plaintext of the sealed file f to w, chunk by
// chunk. It fails with errSealedFile if a chunk does not open or the file
// does not end with its last chunk.
func copySealed(w io.Writer, f io.Reader, aead cipher.AEAD, file uint32) error {
	r := bufio.NewReader(f)
	buf := make([]byte, 0, sealChunk+aead.Overhead())
	out := make([]byte, 0, sealChunk) // apart from buf: a failed Open clears its output
	for chunk := uint64(0); ; chunk++ {
		var n uint32
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return fmt.Errorf("chunk %d: %w", chunk, errSealedFile)
		}
		if n > uint32(cap(buf)) {
			return fmt.Errorf("chunk %d: %w", chunk, errSealedFile)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("chunk %d: %w", chunk, errSealedFile)
		}
		last := false
		pt, err := aead.Open(out[:0], sealNonce(file, chunk), buf, sealAD(false))
		if err != nil {
			if pt, err = aead.Open(out[:0], sealNonce(file, chunk), buf, sealAD(true)); err != nil {
				return fmt.Errorf("chunk %d: %w", chunk, errSealedFile)
			}
			last = true
		}
		_, err = w.Write(pt)
		clear(pt)
		if err != nil {
			return err
		}
		if last {
			if _, err := r.ReadByte(); err != io.EOF {
				return fmt.Errorf("data after the last chunk: %w", errSealedFile)
			}
			return nil
		}
	}
}
