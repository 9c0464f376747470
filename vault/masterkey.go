package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// KeyWrapper wraps data keys under a key the vault never sees (a master key
// file, a KMS, an HSM). Its methods must be safe for concurrent use.
//
// Unwrap must return an error wrapping ErrCorrupt when the ciphertext fails
// authentication (altered, moved to other additional data, or wrapped under
// another key); other errors, such as an unreachable KMS, are passed on to
// the vault's caller as they are.
type KeyWrapper interface {
	Wrap(plaintext, aad []byte) ([]byte, error)
	Unwrap(ciphertext, aad []byte) ([]byte, error)
}

const (
	keySize   = 32 // AES-256
	nonceSize = 12 // the standard GCM nonce
	tagSize   = 16 // the GCM tag

	// maxMasterKeyFile bounds what LoadMasterKey reads: a master key file
	// is exactly keySize bytes, and anything much larger is not one.
	maxMasterKeyFile = 4 << 10
)

// masterKey is a KeyWrapper holding a 32-byte AES-256-GCM key read from a
// file. Wrapped keys are a random 12-byte nonce followed by the GCM
// ciphertext and tag.
type masterKey struct{ aead cipher.AEAD }

var _ KeyWrapper = (*masterKey)(nil)

func (m *masterKey) Wrap(plaintext, aad []byte) ([]byte, error) { return seal(m.aead, plaintext, aad) }

func (m *masterKey) Unwrap(ciphertext, aad []byte) ([]byte, error) {
	return open(m.aead, ciphertext, aad)
}

// CreateMasterKey writes a new random master key to path, with mode 0600.
// It refuses to overwrite an existing file, which may be the only key to a
// vault. The key is written to a temporary file in the same directory and
// synced, then hard-linked to path (which fails if path exists), and the
// directory is synced: path either does not exist or holds the whole key,
// even after a crash.
func CreateMasterKey(path string) error {
	key := make([]byte, keySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("create master key: %w", err)
	}
	return writeNew(path, key)
}

// LoadMasterKey reads the master key file at path, written by
// CreateMasterKey. It refuses a file that is not exactly 32 bytes, and on
// Unix a file that its group or other users may read or write: a master key
// that others can read protects nothing.
func LoadMasterKey(path string) (KeyWrapper, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load master key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load master key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("load master key %s: not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load master key %s: mode %v lets other users reach it; want 0600 (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	key, err := io.ReadAll(io.LimitReader(f, maxMasterKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load master key %s: %w", path, err)
	}
	defer clear(key)
	if len(key) != keySize {
		return nil, fmt.Errorf("load master key %s: file is %d bytes; a master key is %d", path, len(key), keySize)
	}
	return newMasterKey(key)
}

// newMasterKey returns a KeyWrapper for the 32-byte key.
func newMasterKey(key []byte) (*masterKey, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &masterKey{aead: aead}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("key is %d bytes; want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext with a random nonce and returns the nonce
// followed by the ciphertext and tag.
func seal(aead cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return aead.Seal(out, out, plaintext, aad), nil
}

// errAuth is what open returns for a sealed value that does not
// authenticate: altered, truncated, moved, or sealed under another key.
var errAuth = fmt.Errorf("authentication failed: %w", ErrCorrupt)

// open decrypts a value made by seal. Any input, of any length, gives
// either the plaintext or an error wrapping ErrCorrupt.
func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, fmt.Errorf("sealed value is %d bytes; want at least %d: %w", len(sealed), nonceSize+tagSize, ErrCorrupt)
	}
	pt, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, errAuth
	}
	return pt, nil
}

// writeNew writes data to the new file path durably; see CreateMasterKey.
// It is the keys package's writeNew, which is not exported.
func writeNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return existsError(path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*") // mode 0600
	if err != nil {
		return fmt.Errorf("create master key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful link, path keeps the file
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create master key %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existsError(path)
		}
		return fmt.Errorf("create master key %s: %w", path, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("create master key %s: remove temporary file: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("create master key %s: written, but syncing its directory failed: %w", path, err)
	}
	return nil
}

func existsError(path string) error {
	return fmt.Errorf("create master key %s: refusing to overwrite an existing file: %w", path, fs.ErrExist)
}

// syncDir makes the directory entries for a new file durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
