package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/careledger/careledger/keys"
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
	if err := keys.WriteNew(path, key); err != nil {
		return fmt.Errorf("create master key: %w", err)
	}
	return nil
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
