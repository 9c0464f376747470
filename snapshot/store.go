package snapshot

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/careledger/careledger/durable"
	"github.com/careledger/careledger/wire"
)

// DefaultChunkSize is the size a chunk reaches before the next record
// starts a new one.
const DefaultChunkSize = 4 << 20

// Store keeps snapshots in a directory.
type Store struct {
	dir  string
	keep int
	// ChunkSize is the size a chunk reaches before the next record starts
	// a new one. Default DefaultChunkSize.
	ChunkSize int
}

// Open opens the snapshots in dir, creating it, and removes any a crash
// left unfinished. Create keeps the keep newest.
func Open(dir string, keep int) (*Store, error) {
	if keep < 1 {
		return nil, fmt.Errorf("snapshots: keep %d, want at least 1", keep)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("snapshots: %w", err)
			}
		}
	}
	return &Store{dir: dir, keep: keep, ChunkSize: DefaultChunkSize}, nil
}

const (
	tmpPrefix    = "tmp-"
	metadataFile = "metadata"
)

func chunkFile(i uint32) string { return fmt.Sprintf("chunk-%06d", i) }

// Create writes the snapshot at height that fill writes, then removes all
// but the newest snapshots. It may run while List and Chunk serve others.
func (s *Store) Create(height uint64, fill func(w *Writer) error) (Info, error) {
	if info, err := s.info(height); err == nil {
		return info, nil // made before a restart
	}
	tmp := filepath.Join(s.dir, fmt.Sprintf("%s%d", tmpPrefix, height))
	if err := os.RemoveAll(tmp); err != nil {
		return Info{}, err
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return Info{}, fmt.Errorf("snapshot %d: %w", height, err)
	}
	defer os.RemoveAll(tmp) // after a successful rename, nothing is left there
	w := &Writer{dir: tmp, size: s.ChunkSize}
	err := fill(w)
	if err == nil {
		err = w.flush()
	}
	if err == nil {
		err = writeSynced(filepath.Join(tmp, metadataFile), w.hashes)
	}
	if err == nil {
		err = durable.SyncDir(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, strconv.FormatUint(height, 10)))
	}
	if err == nil {
		err = durable.SyncDir(s.dir)
	}
	if err == nil {
		err = s.prune()
	}
	if err != nil {
		return Info{}, fmt.Errorf("snapshot %d: %w", height, err)
	}
	return s.info(height)
}

// prune removes all but the keep newest snapshots.
func (s *Store) prune() error {
	heights, err := s.heights()
	if err != nil {
		return err
	}
	for _, h := range heights[min(s.keep, len(heights)):] {
		if err := os.RemoveAll(filepath.Join(s.dir, strconv.FormatUint(h, 10))); err != nil {
			return err
		}
	}
	return nil
}

// heights returns the heights of the complete snapshots, newest first.
func (s *Store) heights() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	var hs []uint64
	for _, e := range entries {
		if h, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && e.IsDir() {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	slices.Reverse(hs)
	return hs, nil
}

// List returns the snapshots, newest first.
func (s *Store) List() ([]Info, error) {
	heights, err := s.heights()
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, h := range heights {
		info, err := s.info(h)
		if errors.Is(err, os.ErrNotExist) {
			continue // pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Store) info(height uint64) (Info, error) {
	md, err := os.ReadFile(filepath.Join(s.dir, strconv.FormatUint(height, 10), metadataFile))
	if err != nil {
		return Info{}, err
	}
	if len(md) == 0 || len(md)%sha256.Size != 0 {
		return Info{}, fmt.Errorf("snapshot %d: metadata of %d bytes", height, len(md))
	}
	hash := sha256.Sum256(md)
	return Info{Height: height, Format: Format, Chunks: uint32(len(md) / sha256.Size), Hash: hash[:], Metadata: md}, nil
}

// Chunk returns chunk index of the snapshot at height.
func (s *Store) Chunk(height uint64, format, index uint32) ([]byte, error) {
	if format != Format {
		return nil, fmt.Errorf("snapshot format %d, want %d", format, Format)
	}
	return os.ReadFile(filepath.Join(s.dir, strconv.FormatUint(height, 10), chunkFile(index)))
}

// Writer writes a snapshot's records into chunks.
type Writer struct {
	dir    string
	size   int
	buf    []byte
	hashes []byte
	chunks uint32
}

// State adds a state entry. Entries come in key order, before any leaf.
func (w *Writer) State(key, value []byte) error {
	return w.add(func(e *wire.Writer) {
		e.Uint(kindState)
		e.Blob(key)
		e.Blob(value)
	})
}

// Leaf adds the log's next leaf.
func (w *Writer) Leaf(leaf []byte) error {
	return w.add(func(e *wire.Writer) {
		e.Uint(kindLeaf)
		e.Blob(leaf)
	})
}

func (w *Writer) add(encode func(e *wire.Writer)) error {
	e := wire.NewWriter(64)
	encode(e)
	w.buf = append(w.buf, e.Bytes()...)
	if len(w.buf) >= w.size {
		return w.flush()
	}
	return nil
}

// flush writes the chunk being filled, if any (a snapshot has at least
// one).
func (w *Writer) flush() error {
	if len(w.buf) == 0 && w.chunks > 0 {
		return nil
	}
	if err := writeSynced(filepath.Join(w.dir, chunkFile(w.chunks)), w.buf); err != nil {
		return err
	}
	sum := sha256.Sum256(w.buf)
	w.hashes = append(w.hashes, sum[:]...)
	w.chunks++
	w.buf = w.buf[:0]
	return nil
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
