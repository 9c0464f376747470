package keys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/careledger/careledger/tx"
)

func TestMain(m *testing.M) {
	// The lowest cost Read accepts, so that sealing takes about a millisecond.
	scryptN = minScryptN
	os.Exit(m.Run())
}

var passphrase = []byte("correct horse battery staple")

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		passphrase []byte
		sealed     bool
	}{
		{"unsealed", nil, false},
		{"empty passphrase", []byte{}, false},
		{"sealed", passphrase, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.key")
			key := Generate()
			if err := Write(path, key, tc.passphrase); err != nil {
				t.Fatalf("Write(%q) = %v; want nil", path, err)
			}
			got, err := Read(path, tc.passphrase)
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("Read(%q) = %x, %v; want the written key, nil", path, []byte(got), err)
			}
			info, err := ReadInfo(path)
			pub := key.PubKey().Bytes()
			want := Info{Name: "k", PubKey: hex.EncodeToString(pub), Address: tx.AddressOf(pub), Sealed: tc.sealed, Path: path}
			if err != nil || info != want {
				t.Errorf("ReadInfo(%q) = %+v, %v; want %+v, nil", path, info, err, want)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.sealed {
				for _, secret := range []string{hex.EncodeToString(key), hex.EncodeToString(key[:32])} {
					if bytes.Contains(data, []byte(secret)) {
						t.Errorf("sealed file %s contains the private key in the clear", path)
					}
				}
			}
		})
	}
}

func TestReadPassphrase(t *testing.T) {
	dir := t.TempDir()
	sealed := filepath.Join(dir, "sealed.key")
	unsealed := filepath.Join(dir, "unsealed.key")
	key := Generate()
	if err := Write(sealed, key, passphrase); err != nil {
		t.Fatal(err)
	}
	if err := Write(unsealed, key, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		path       string
		passphrase []byte
		want       error
	}{
		{"right", sealed, passphrase, nil},
		{"wrong", sealed, []byte("correct horse battery stapler"), ErrPassphrase},
		{"missing", sealed, nil, ErrPassphrase},
		{"empty", sealed, []byte{}, ErrPassphrase},
		{"unsealed ignores passphrase", unsealed, []byte("anything"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(tc.path, tc.passphrase)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read(%q) = %v; want %v", tc.path, err, tc.want)
			}
			if tc.want == nil && !bytes.Equal(got, key) {
				t.Errorf("Read(%q) returned a different key", tc.path)
			}
			if tc.want != nil && got != nil {
				t.Errorf("Read(%q) returned a key along with error %v", tc.path, err)
			}
		})
	}
}

func TestFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	d := Dir(filepath.Join(t.TempDir(), "keys"))
	for _, tc := range []struct {
		name       string
		passphrase []byte
	}{
		{"unsealed", nil},
		{"sealed", passphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := d.New(tc.name, tc.passphrase)
			if err != nil {
				t.Fatalf("New(%q) = %v; want nil", tc.name, err)
			}
			fi, err := os.Stat(info.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode(); got != 0o600 {
				t.Errorf("mode of %s = %v; want %v", info.Path, got, fs.FileMode(0o600))
			}
		})
	}
	fi, err := os.Stat(string(d))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode(), fs.ModeDir|0o700; got != want {
		t.Errorf("mode of %s = %v; want %v", d, got, want)
	}
}

func TestWriteRefusesOverwrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []byte // contents of the file already at path
	}{
		{"key file", nil}, // written by Write
		{"other file", []byte("not a key")},
		{"empty file", []byte{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.key")
			if tc.existing == nil {
				if err := Write(path, Generate(), nil); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(path, tc.existing, 0o600); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			for _, pass := range [][]byte{nil, passphrase} {
				if err := Write(path, Generate(), pass); !errors.Is(err, fs.ErrExist) {
					t.Errorf("Write(%q) = %v; want %v", path, err, fs.ErrExist)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
				t.Errorf("Write(%q) changed the existing file", path)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries after refused writes; want 1 (no temporary files)", len(entries))
			}
		})
	}
}

// The temporary file path is linked from must not remain, and a failed link
// must leave no file at path.
func TestWriteLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	d := Dir(dir)
	for _, name := range []string{"a", "b"} {
		if _, err := d.New(name, passphrase); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "a.key b.key"; got != want {
		t.Errorf("directory holds %q; want %q", got, want)
	}
}

func TestWriteRejectsInvalidKey(t *testing.T) {
	good := Generate()
	mismatched := append(ed25519.PrivKey{}, good...)
	mismatched[0] ^= 1 // the seed no longer derives the public half
	for _, tc := range []struct {
		name string
		key  ed25519.PrivKey
	}{
		{"nil", nil},
		{"seed only", good[:32]},
		{"too long", append(append(ed25519.PrivKey{}, good...), 0)},
		{"halves disagree", mismatched},
		{"zero", make(ed25519.PrivKey, 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.key")
			if err := Write(path, tc.key, nil); err == nil {
				t.Errorf("Write(%q) = nil; want an error", path)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Write(%q) failed but left a file (stat: %v)", path, err)
			}
		})
	}
}

// keyFileJSON writes key to a temporary file and returns it decoded as a
// generic JSON object, for tests to tamper with.
func keyFileJSON(t *testing.T, key ed25519.PrivKey, pass []byte) map[string]any {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.key")
	if err := Write(path, key, pass); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReadRejectsBadFiles(t *testing.T) {
	key := Generate()
	other := Generate()
	otherPub := other.PubKey().Bytes()
	otherPubHex := hex.EncodeToString(otherPub)
	otherAddr := tx.AddressOf(otherPub).String()
	wrongHalves := append(ed25519.PrivKey{}, key...)
	copy(wrongHalves[32:], otherPub) // seed of key, public half of other

	sealedField := func(name string, v any) func(map[string]any) {
		return func(m map[string]any) { m["sealed"].(map[string]any)[name] = v }
	}
	for _, tc := range []struct {
		name   string
		sealed bool
		tamper func(m map[string]any)
		want   error // nil: any error
	}{
		// Swapping the public fields for another key's.
		{"pub_key swapped", false, func(m map[string]any) { m["pub_key"] = otherPubHex }, nil},
		{"address swapped", false, func(m map[string]any) { m["address"] = otherAddr }, nil},
		{"pub_key and address swapped", false, func(m map[string]any) { m["pub_key"], m["address"] = otherPubHex, otherAddr }, nil},
		{"sealed pub_key swapped", true, func(m map[string]any) { m["pub_key"] = otherPubHex }, nil},
		{"sealed address swapped", true, func(m map[string]any) { m["address"] = otherAddr }, nil},
		// Consistent public fields of another key: only the additional data catches it.
		{"sealed pub_key and address swapped", true, func(m map[string]any) { m["pub_key"], m["address"] = otherPubHex, otherAddr }, ErrPassphrase},
		{"priv_key halves disagree", false, func(m map[string]any) { m["priv_key"] = hex.EncodeToString(wrongHalves) }, nil},
		{"priv_key of another key", false, func(m map[string]any) { m["priv_key"] = hex.EncodeToString(other) }, nil},

		// Structure.
		{"type", false, func(m map[string]any) { m["type"] = "secp256k1" }, nil},
		{"type missing", false, func(m map[string]any) { delete(m, "type") }, nil},
		{"unknown field", false, func(m map[string]any) { m["comment"] = "hi" }, nil},
		{"both priv_key and sealed", true, func(m map[string]any) { m["priv_key"] = hex.EncodeToString(key) }, nil},
		{"neither priv_key nor sealed", false, func(m map[string]any) { delete(m, "priv_key") }, nil},
		{"sealed null", true, func(m map[string]any) { m["sealed"] = nil }, nil},
		{"priv_key number", false, func(m map[string]any) { m["priv_key"] = 7 }, nil},

		// Lengths and encodings.
		{"pub_key short", false, func(m map[string]any) { m["pub_key"] = otherPubHex[2:] }, nil},
		{"pub_key not hex", false, func(m map[string]any) { m["pub_key"] = "zz" + otherPubHex[2:] }, nil},
		{"address long", false, func(m map[string]any) { m["address"] = otherAddr + "00" }, nil},
		{"priv_key short", false, func(m map[string]any) { m["priv_key"] = hex.EncodeToString(key[:32]) }, nil},
		{"salt short", true, sealedField("salt", "00"), nil},
		{"nonce long", true, sealedField("nonce", strings.Repeat("00", 16)), nil},
		{"ciphertext short", true, sealedField("ciphertext", strings.Repeat("00", 64)), nil},
		{"ciphertext flipped", true, func(m map[string]any) {
			s := m["sealed"].(map[string]any)
			ct := []byte(s["ciphertext"].(string))
			// Another hex digit: one byte of ciphertext changes.
			if ct[0] == '0' {
				ct[0] = '1'
			} else {
				ct[0] = '0'
			}
			s["ciphertext"] = string(ct)
		}, ErrPassphrase},

		// KDF parameters.
		{"kdf", true, sealedField("kdf", "argon2id"), nil},
		{"n too small", true, sealedField("n", 512), nil},
		{"n too large", true, sealedField("n", 1<<21), nil},
		{"n not a power of two", true, sealedField("n", 3<<10), nil},
		{"n negative", true, sealedField("n", -1024), nil},
		{"n fractional", true, sealedField("n", 1024.5), nil},
		{"r zero", true, sealedField("r", 0), nil},
		{"r too large", true, sealedField("r", 33), nil},
		{"p zero", true, sealedField("p", 0), nil},
		{"p too large", true, sealedField("p", 17), nil},
		{"memory too large", true, func(m map[string]any) { sealedField("n", 1<<20)(m); sealedField("r", 32)(m) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pass []byte
			if tc.sealed {
				pass = passphrase
			}
			m := keyFileJSON(t, key, pass)
			tc.tamper(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "k.key")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := Read(path, pass)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				want := tc.want
				if want == nil {
					want = errors.New("an error")
				}
				t.Fatalf("Read(%q) = %v; want %v", path, err, want)
			}
			if got != nil {
				t.Errorf("Read(%q) returned a key along with error %v", path, err)
			}
			checkNoKeyMaterial(t, err, key, other)
			// What ReadInfo can check without the passphrase, it must reject too.
			if tc.want == nil {
				if _, err := ReadInfo(path); err == nil {
					t.Errorf("ReadInfo(%q) = nil; want an error", path)
				} else {
					checkNoKeyMaterial(t, err, key, other)
				}
			}
		})
	}
}

func TestReadRejectsMalformedJSON(t *testing.T) {
	valid, err := json.Marshal(keyFileJSON(t, Generate(), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"whitespace", []byte(" \n")},
		{"null", []byte("null")},
		{"array", []byte("[]")},
		{"string", []byte(`"ed25519"`)},
		{"truncated", valid[:len(valid)/2]},
		{"trailing object", append(append([]byte{}, valid...), valid...)},
		{"trailing garbage", append(append([]byte{}, valid...), 'x')},
		{"bad character in priv_key", bytes.Replace(valid, []byte(`"priv_key":"`), []byte("\"priv_key\":\"\x01"), 1)},
		{"too large", append(append([]byte{}, valid...), bytes.Repeat([]byte(" "), maxFileSize)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.key")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(path, nil); err == nil {
				t.Errorf("Read(%q) = nil; want an error", path)
			}
			if _, err := ReadInfo(path); err == nil {
				t.Errorf("ReadInfo(%q) = nil; want an error", path)
			}
		})
	}
}

// checkNoKeyMaterial fails if err's message contains any of the keys, or
// their seeds, in hex.
func checkNoKeyMaterial(t *testing.T, err error, keys ...ed25519.PrivKey) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, k := range keys {
		if strings.Contains(msg, hex.EncodeToString(k[:32])) || strings.Contains(msg, hex.EncodeToString(k[32:])) {
			t.Errorf("error %q contains key material", err)
		}
	}
}

func TestDirList(t *testing.T) {
	root := t.TempDir()
	d := Dir(filepath.Join(root, "keys"))
	if infos, err := d.List(); err != nil || len(infos) != 0 || infos == nil {
		t.Fatalf("List() of a missing directory = %v, %v; want [], nil", infos, err)
	}
	want := []string{"a", "a-b", "alice", "bob", "carol", "z.1"}
	// Created out of order; "a-b.key" sorts before "a.key" by file name.
	for _, name := range []string{"bob", "z.1", "a-b", "alice", "a"} {
		if _, err := d.New(name, nil); err != nil {
			t.Fatalf("New(%q) = %v; want nil", name, err)
		}
	}
	if _, err := d.Import("carol", Generate(), passphrase); err != nil {
		t.Fatalf("Import(%q) = %v; want nil", "carol", err)
	}
	// Ignored: other extensions, invalid names, directories.
	for _, name := range []string{"notes.txt", ".hidden.key", "a.key.bak"} {
		if err := os.WriteFile(filepath.Join(string(d), name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(string(d), "dir.key"), 0o700); err != nil {
		t.Fatal(err)
	}
	infos, err := d.List()
	if err != nil {
		t.Fatalf("List() = %v; want nil", err)
	}
	var got []string
	for _, info := range infos {
		got = append(got, info.Name)
		if info.Path != d.Path(info.Name) {
			t.Errorf("List() gives %q path %q; want %q", info.Name, info.Path, d.Path(info.Name))
		}
		if info.Sealed != (info.Name == "carol") {
			t.Errorf("List() gives %q sealed = %v", info.Name, info.Sealed)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("List() = %q; want %q", got, want)
	}

	// A broken key file is reported, not skipped.
	if err := os.WriteFile(d.Path("broken"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.List(); err == nil {
		t.Errorf("List() with a broken key file = nil; want an error")
	}
}

func TestDirNewLoadShow(t *testing.T) {
	d := Dir(t.TempDir())
	for _, tc := range []struct {
		name       string
		passphrase []byte
	}{
		{"clear", nil},
		{"sealed", passphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := d.New(tc.name, tc.passphrase)
			if err != nil {
				t.Fatalf("New(%q) = %v; want nil", tc.name, err)
			}
			if info.Name != tc.name || info.Path != d.Path(tc.name) || info.Sealed != (tc.passphrase != nil) {
				t.Errorf("New(%q) = %+v", tc.name, info)
			}
			shown, err := d.Show(tc.name)
			if err != nil || shown != info {
				t.Errorf("Show(%q) = %+v, %v; want %+v, nil", tc.name, shown, err, info)
			}
			key, err := d.Load(tc.name, tc.passphrase)
			if err != nil {
				t.Fatalf("Load(%q) = %v; want nil", tc.name, err)
			}
			pub := key.PubKey().Bytes()
			if hex.EncodeToString(pub) != info.PubKey || tx.AddressOf(pub) != info.Address {
				t.Errorf("Load(%q) gives a key that does not match its Info", tc.name)
			}
			if _, err := d.New(tc.name, tc.passphrase); !errors.Is(err, fs.ErrExist) {
				t.Errorf("New(%q) again = %v; want %v", tc.name, err, fs.ErrExist)
			}
			if _, err := d.Import(tc.name, Generate(), nil); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Import(%q) over an existing key = %v; want %v", tc.name, err, fs.ErrExist)
			}
			if again, err := d.Load(tc.name, tc.passphrase); err != nil || !bytes.Equal(again, key) {
				t.Errorf("Load(%q) after refused overwrites = %v; want the original key", tc.name, err)
			}
		})
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Load", func() error { _, err := d.Load("nobody", nil); return err }},
		{"Show", func() error { _, err := d.Show("nobody"); return err }},
	} {
		if err := tc.call(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s(%q) = %v; want %v", tc.name, "nobody", err, fs.ErrNotExist)
		}
	}
}

func TestDirNames(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "keys"))
	for _, tc := range []struct {
		name  string
		valid bool
	}{
		{"a", true},
		{"Alice.work_2-b", true},
		{"a.", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"../escape", false},
		{"a/b", false},
		{`a\b`, false},
		{"a b", false},
		{"a\x00b", false},
		{"zoë", false},
		{"a:b", false},
		{strings.Repeat("x", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := []struct {
				name string
				call func() error
			}{
				{"New", func() error { _, err := d.New(tc.name, nil); return err }},
				{"Import", func() error { _, err := d.Import(tc.name, Generate(), nil); return err }},
				{"Show", func() error { _, err := d.Show(tc.name); return err }},
				{"Load", func() error { _, err := d.Load(tc.name, nil); return err }},
			}
			for i, c := range calls {
				err := c.call()
				switch {
				case !tc.valid && err == nil:
					t.Errorf("%s(%q) = nil; want an invalid name error", c.name, tc.name)
				case tc.valid && i == 1 && !errors.Is(err, fs.ErrExist):
					t.Errorf("%s(%q) = %v; want %v (New took it)", c.name, tc.name, err, fs.ErrExist)
				case tc.valid && i != 1 && err != nil:
					t.Errorf("%s(%q) = %v; want nil", c.name, tc.name, err)
				}
			}
		})
	}
	// Invalid names created nothing, not even outside the directory.
	infos, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 4 {
		t.Errorf("List() has %d keys; want the 4 valid ones", len(infos))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(string(d)), "escape.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key was written outside the directory")
	}
}

// TestSetAccount records the account of a rotated-to key beside its file:
// Show and List give it, AccountAddress prefers it, a second record
// replaces the first, the key file is untouched, and a malformed record is
// an error.
func TestSetAccount(t *testing.T) {
	d := Dir(t.TempDir())
	info, err := d.New("phone", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.AccountAddress(); got != info.Address {
		t.Fatalf("AccountAddress() with no record = %s; want the derived %s", got, info.Address)
	}
	keyFile, err := os.ReadFile(info.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, acct := range []tx.Address{{1, 2, 3}, {4, 5, 6}} {
		if err := SetAccount(info.Path, acct); err != nil {
			t.Fatalf("SetAccount(%s) = %v", acct, err)
		}
		shown, err := d.Show("phone")
		if err != nil || shown.Account != acct || shown.AccountAddress() != acct || shown.Address != info.Address {
			t.Errorf("Show after SetAccount(%s) = %+v, %v; want account %s, address %s", acct, shown, err, acct, info.Address)
		}
		list, err := d.List()
		if err != nil || len(list) != 1 || list[0] != shown {
			t.Errorf("List after SetAccount(%s) = %+v, %v; want [%+v]", acct, list, err, shown)
		}
	}
	if after, err := os.ReadFile(info.Path); err != nil || !bytes.Equal(after, keyFile) {
		t.Errorf("key file changed by SetAccount: %v", err)
	}
	if entries, _ := os.ReadDir(string(d)); len(entries) != 2 {
		t.Errorf("key directory holds %d files; want the key and its account", len(entries))
	}
	if err := os.WriteFile(filepath.Join(string(d), "phone.account"), []byte("not an address\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Show("phone"); err == nil {
		t.Error("Show with a malformed account record = nil error; want an error")
	}
}
