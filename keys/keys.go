package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	stded25519 "crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"golang.org/x/crypto/scrypt"

	"github.com/careledger/careledger/durable"
	"github.com/careledger/careledger/tx"
)

// ErrPassphrase is returned when a sealed key is read without its passphrase.
// A wrong passphrase and an altered sealed file cannot be told apart (both
// fail authentication), so both give ErrPassphrase.
var ErrPassphrase = errors.New("wrong or missing passphrase")

const (
	keyType   = "ed25519"
	kdfScrypt = "scrypt"
	fileExt   = ".key"
	aadDomain = "careledger/keyfile/v1"

	maxNameLen  = 64
	maxFileSize = 64 << 10 // a key file is about 500 bytes

	saltSize       = 16
	nonceSize      = 12 // the standard GCM nonce size
	derivedKeySize = 32 // AES-256
	sealedSize     = ed25519.PrivateKeySize + 16

	scryptR = 8
	scryptP = 1

	// Bounds on the scrypt parameters read from a file, so that a crafted
	// file can neither weaken the KDF nor make reading it exhaust memory.
	minScryptN   = 1 << 10
	maxScryptN   = 1 << 20
	maxScryptR   = 32
	maxScryptP   = 16
	maxScryptMem = 256 << 20 // scrypt needs 128*n*r bytes
)

// scryptN is the scrypt cost used when sealing. It is a variable only so that
// tests can lower it; reading uses the n stored in the file.
var scryptN = 1 << 15

// Generate returns a new random key.
func Generate() ed25519.PrivKey { return ed25519.GenPrivKey() }

// Write writes key to path with mode 0600. It refuses to overwrite an
// existing file, since that file may be the only copy of another key.
//
// With a non-empty passphrase the private key is sealed (see the package
// comment); with an empty one it is stored in the clear.
//
// The file is written to a temporary file in the same directory and synced,
// then hard-linked to path, which fails if path exists (a rename would
// replace it); then the directory is synced. So path either does not exist
// or holds the whole key, even after a crash.
func Write(path string, key ed25519.PrivKey, passphrase []byte) error {
	// Fail before spending time on scrypt; the link below is the real check.
	if _, err := os.Lstat(path); err == nil {
		return existsError(path)
	}
	data, err := encode(key, passphrase)
	if err != nil {
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	return WriteNew(path, data)
}

// Read loads the private key in the key file at path. A passphrase given for
// a key stored in the clear is ignored. Read returns an error wrapping
// ErrPassphrase when the key is sealed and passphrase is empty or wrong.
func Read(path string, passphrase []byte) (ed25519.PrivKey, error) {
	kf, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if kf.sealed == nil {
		return kf.priv, nil
	}
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("read key file %s: key is sealed: %w", path, ErrPassphrase)
	}
	priv, err := kf.sealed.open(passphrase, kf.pub, kf.addr)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	return priv, nil
}

// Info is what can be read from a key file without the passphrase.
type Info struct {
	Name    string     `json:"name"`    // the file name without ".key"
	PubKey  string     `json:"pub_key"` // hex
	Address tx.Address `json:"address"` // derived from PubKey
	// Account is the address of the account the key signs for, when
	// SetAccount recorded one: after a key rotation the new key signs for
	// the account of the first, whose address does not change. Zero if
	// none was recorded; then the account, if any, is at Address.
	Account tx.Address `json:"account,omitzero"`
	Sealed  bool       `json:"sealed"` // whether Read needs a passphrase
	Path    string     `json:"path"`
}

// AccountAddress returns the address of the account the key signs for, as
// far as the key directory knows: Account if recorded, else Address.
func (i Info) AccountAddress() tx.Address {
	if i.Account != (tx.Address{}) {
		return i.Account
	}
	return i.Address
}

// ReadInfo reads the public fields of the key file at path, and the account
// recorded beside it. It checks the whole file except what only the
// passphrase can open.
func ReadInfo(path string) (Info, error) {
	kf, err := readFile(path)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		Name:    strings.TrimSuffix(filepath.Base(path), fileExt),
		PubKey:  hex.EncodeToString(kf.pub),
		Address: kf.addr,
		Sealed:  kf.sealed != nil,
		Path:    path,
	}
	b, err := os.ReadFile(accountPath(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return Info{}, fmt.Errorf("read account of key %s: %w", path, err)
	default:
		if info.Account, err = tx.ParseAddress(strings.TrimSpace(string(b))); err != nil {
			return Info{}, fmt.Errorf("read account of key %s: %w", path, err)
		}
	}
	return info, nil
}

// accountExt ends the name of the file beside a key file in which
// SetAccount records the key's account. It is a file of its own, not a field
// of the key file, so that the key file is never rewritten.
const accountExt = ".account"

func accountPath(keyPath string) string {
	return strings.TrimSuffix(keyPath, fileExt) + accountExt
}

// SetAccount records beside the key file at keyPath the address of the
// account the key signs for, so that ReadInfo gives it after a key rotation.
// It replaces an earlier record atomically. The record only tells which
// account to look up; the chain alone decides which account a key signs for.
func SetAccount(keyPath string, account tx.Address) error {
	path := accountPath(keyPath)
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, nothing is left
	_, err = f.WriteString(account.String() + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = durable.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Dir is a directory of key files named NAME.key. Its methods other than
// Path accept only names of 1 to 64 characters from [A-Za-z0-9._-] that do
// not start with a dot, so that a name can never leave the directory or
// hide its file.
type Dir string

// Path returns the path of the key file for name. It validates nothing.
func (d Dir) Path(name string) string { return filepath.Join(string(d), name+fileExt) }

// New generates a key, writes it as name and returns its Info. It creates the
// directory with mode 0700 if it is missing. If name is taken the error wraps
// fs.ErrExist.
func (d Dir) New(name string, passphrase []byte) (Info, error) {
	return d.Import(name, Generate(), passphrase)
}

// Import writes key as name, like New. The demo seeding uses it to save keys
// it generated itself.
func (d Dir) Import(name string, key ed25519.PrivKey, passphrase []byte) (Info, error) {
	if err := checkName(name); err != nil {
		return Info{}, err
	}
	if err := os.MkdirAll(d.dir(), 0o700); err != nil {
		return Info{}, fmt.Errorf("create key directory: %w", err)
	}
	path := d.Path(name)
	if err := Write(path, key, passphrase); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Info{}, fmt.Errorf("key %q already exists in %s: %w", name, d.dir(), fs.ErrExist)
		}
		return Info{}, err
	}
	return ReadInfo(path)
}

// Load reads the private key named name. See Read.
func (d Dir) Load(name string, passphrase []byte) (ed25519.PrivKey, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	key, err := Read(d.Path(name), passphrase)
	return key, d.notFound(name, err)
}

// Show reads the Info of the key named name.
func (d Dir) Show(name string) (Info, error) {
	if err := checkName(name); err != nil {
		return Info{}, err
	}
	info, err := ReadInfo(d.Path(name))
	return info, d.notFound(name, err)
}

// List returns the Info of every key in the directory, sorted by name. A
// missing directory holds no keys. Files whose names are not NAME.key with a
// valid NAME are ignored; an unreadable key file is an error, so that a broken
// key is noticed rather than silently left out.
func (d Dir) List() ([]Info, error) {
	entries, err := os.ReadDir(d.dir())
	if errors.Is(err, fs.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	infos := []Info{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || e.IsDir() || checkName(name) != nil {
			continue
		}
		info, err := ReadInfo(d.Path(name))
		if err != nil {
			return nil, err
		}
		infos = append(infos, info)
	}
	// Sort by name, not file name: "a.key" sorts after "a-b.key".
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos, nil
}

func (d Dir) dir() string {
	if d == "" {
		return "."
	}
	return string(d)
}

func (d Dir) notFound(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no key named %q in %s: %w", name, d.dir(), fs.ErrNotExist)
	}
	return err
}

func checkName(name string) error {
	if len(name) == 0 || len(name) > maxNameLen {
		return fmt.Errorf("invalid key name %.80q: must be 1 to %d characters", name, maxNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("invalid key name %q: must not start with a dot", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("invalid key name %q: may contain only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// fileJSON is the key file as stored.
type fileJSON struct {
	Type    string      `json:"type"`
	PubKey  string      `json:"pub_key"`
	Address string      `json:"address"`
	PrivKey *string     `json:"priv_key,omitempty"`
	Sealed  *sealedJSON `json:"sealed,omitempty"`
}

type sealedJSON struct {
	KDF        string `json:"kdf"`
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       string `json:"salt"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// keyFile is a key file that has passed every check possible without the
// passphrase.
type keyFile struct {
	pub    []byte
	addr   tx.Address
	priv   ed25519.PrivKey // when stored in the clear
	sealed *sealedBox      // when sealed
}

type sealedBox struct {
	n, r, p                 int
	salt, nonce, ciphertext []byte
}

func encode(key ed25519.PrivKey, passphrase []byte) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("private key must be %d bytes, not %d", ed25519.PrivateKeySize, len(key))
	}
	pub := bytes.Clone(key[ed25519.PrivateKeySize-ed25519.PubKeySize:])
	if err := checkKeyPair(key, pub); err != nil {
		return nil, err
	}
	addr := tx.AddressOf(pub)
	fj := fileJSON{Type: keyType, PubKey: hex.EncodeToString(pub), Address: addr.String()}
	if len(passphrase) == 0 {
		s := hex.EncodeToString(key)
		fj.PrivKey = &s
	} else {
		s, err := seal(key, passphrase, pub, addr)
		if err != nil {
			return nil, err
		}
		fj.Sealed = s
	}
	data, err := json.MarshalIndent(fj, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func seal(key ed25519.PrivKey, passphrase, pub []byte, addr tx.Address) (*sealedJSON, error) {
	salt := make([]byte, saltSize)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	k, err := scrypt.Key(passphrase, salt, scryptN, scryptR, scryptP, derivedKeySize)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	defer clear(k)
	aead, err := newAEAD(k)
	if err != nil {
		return nil, err
	}
	ct := aead.Seal(nil, nonce, key, additionalData(pub, addr))
	return &sealedJSON{
		KDF:        kdfScrypt,
		N:          scryptN,
		R:          scryptR,
		P:          scryptP,
		Salt:       hex.EncodeToString(salt),
		Nonce:      hex.EncodeToString(nonce),
		Ciphertext: hex.EncodeToString(ct),
	}, nil
}

func (b *sealedBox) open(passphrase, pub []byte, addr tx.Address) (ed25519.PrivKey, error) {
	k, err := scrypt.Key(passphrase, b.salt, b.n, b.r, b.p, derivedKeySize)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	defer clear(k)
	aead, err := newAEAD(k)
	if err != nil {
		return nil, err
	}
	priv, err := aead.Open(nil, b.nonce, b.ciphertext, additionalData(pub, addr))
	if err != nil {
		return nil, fmt.Errorf("%w (or the file has been altered)", ErrPassphrase)
	}
	if err := checkKeyPair(priv, pub); err != nil {
		clear(priv)
		return nil, err
	}
	return priv, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additionalData binds a sealed key to the file's public fields.
func additionalData(pub []byte, addr tx.Address) []byte {
	b := make([]byte, 0, len(aadDomain)+len(keyType)+2+len(pub)+len(addr))
	b = append(b, aadDomain...)
	b = append(b, 0)
	b = append(b, keyType...)
	b = append(b, 0)
	b = append(b, pub...)
	return append(b, addr[:]...)
}

// checkKeyPair checks that priv is a well-formed Ed25519 private key whose
// public half is pub. CometBFT's PrivKey.PubKey just returns the stored half,
// so a key whose halves disagree would sign with one key and claim another.
func checkKeyPair(priv, pub []byte) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("private key must be %d bytes", ed25519.PrivateKeySize)
	}
	derived := stded25519.NewKeyFromSeed(priv[:ed25519.SeedSize])
	defer clear(derived)
	if subtle.ConstantTimeCompare(derived, priv) != 1 {
		return errors.New("private key is inconsistent: its public half is not derived from its seed")
	}
	if !bytes.Equal(priv[ed25519.SeedSize:], pub) {
		return errors.New("private key does not match pub_key")
	}
	return nil
}

func readFile(path string) (*keyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	kf, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	return kf, nil
}

// parse decodes and checks a key file. Its errors name fields but never
// quote their values, which may be key material.
func parse(data []byte) (*keyFile, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("not a key file: larger than %d bytes", maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fj fileJSON
	if err := dec.Decode(&fj); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a key file: data after the JSON object")
	}
	if fj.Type != keyType {
		return nil, fmt.Errorf("unsupported key type %.20q (want %q)", fj.Type, keyType)
	}
	kf := new(keyFile)
	var err error
	if kf.pub, err = decodeHex("pub_key", fj.PubKey, ed25519.PubKeySize); err != nil {
		return nil, err
	}
	addr, err := decodeHex("address", fj.Address, tx.AddressSize)
	if err != nil {
		return nil, err
	}
	copy(kf.addr[:], addr)
	if kf.addr != tx.AddressOf(kf.pub) {
		return nil, errors.New("address does not match pub_key")
	}
	switch {
	case fj.PrivKey != nil && fj.Sealed != nil:
		return nil, errors.New("key file has both priv_key and sealed")
	case fj.PrivKey != nil:
		priv, err := decodeHex("priv_key", *fj.PrivKey, ed25519.PrivateKeySize)
		if err != nil {
			return nil, err
		}
		if err := checkKeyPair(priv, kf.pub); err != nil {
			return nil, err
		}
		kf.priv = priv
	case fj.Sealed != nil:
		if kf.sealed, err = parseSealed(fj.Sealed); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("key file has neither priv_key nor sealed")
	}
	return kf, nil
}

func parseSealed(s *sealedJSON) (*sealedBox, error) {
	if s.KDF != kdfScrypt {
		return nil, fmt.Errorf("sealed: unsupported kdf %.20q (want %q)", s.KDF, kdfScrypt)
	}
	switch n, r, p := s.N, s.R, s.P; {
	case n < minScryptN || n > maxScryptN || n&(n-1) != 0:
		return nil, fmt.Errorf("sealed: scrypt n must be a power of two from %d to %d", minScryptN, maxScryptN)
	case r < 1 || r > maxScryptR:
		return nil, fmt.Errorf("sealed: scrypt r must be from 1 to %d", maxScryptR)
	case p < 1 || p > maxScryptP:
		return nil, fmt.Errorf("sealed: scrypt p must be from 1 to %d", maxScryptP)
	case 128*int64(n)*int64(r) > maxScryptMem:
		return nil, fmt.Errorf("sealed: scrypt n and r need more than %d MiB of memory", maxScryptMem>>20)
	}
	b := &sealedBox{n: s.N, r: s.R, p: s.P}
	var err error
	if b.salt, err = decodeHex("sealed.salt", s.Salt, saltSize); err != nil {
		return nil, err
	}
	if b.nonce, err = decodeHex("sealed.nonce", s.Nonce, nonceSize); err != nil {
		return nil, err
	}
	if b.ciphertext, err = decodeHex("sealed.ciphertext", s.Ciphertext, sealedSize); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeHex decodes field's value s, which must be size bytes in hex. Its
// errors do not quote s (hex's own errors quote the offending character).
func decodeHex(field, s string, size int) ([]byte, error) {
	if len(s) != 2*size {
		return nil, fmt.Errorf("%s must be %d hex characters", field, 2*size)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid hex", field)
	}
	return b, nil
}

// jsonError describes a decoding error without quoting the input, since the
// syntax errors of encoding/json quote the offending character.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("not a key file: malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("not a key file: field %q has the wrong type", typ.Field)
	case errors.As(err, &typ):
		return errors.New("not a key file: not a JSON object")
	case errors.Is(err, io.EOF):
		return errors.New("not a key file: empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not a key file: truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json quotes the name; requote it, shortened.
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fmt.Errorf("not a key file: unknown field %.32q", name)
	}
	return errors.New("not a key file: malformed JSON")
}

func existsError(path string) error {
	return fmt.Errorf("write %s: refusing to overwrite an existing file: %w", path, fs.ErrExist)
}

// WriteNew writes data to a new file at path, mode 0600, durably and
// without ever overwriting: it writes a temporary file in the same directory
// and syncs it, hard-links it to path (which fails, wrapping fs.ErrExist, if
// path exists; a rename would replace it), and syncs the directory. So path
// either does not exist or holds all of data, even after a crash. Key files
// and the vault's master key are written with it.
func WriteNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return existsError(path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
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
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return existsError(path)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("write %s: remove temporary file: %w", path, err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: written, but syncing its directory failed: %w", path, err)
	}
	return nil
}
