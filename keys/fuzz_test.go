package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzPassphrase seals the sealed seeds, here and in testdata/fuzz. The fuzz
// target tries it too, so that mutated sealed files reach decryption.
var fuzzPassphrase = []byte("fuzz")

// maxFuzzScryptCost bounds n*r*p for the files the target decrypts, so that a
// mutation to the largest parameters Read accepts does not stall fuzzing.
const maxFuzzScryptCost = 1 << 14

func FuzzReadKeyFile(f *testing.F) {
	dir := f.TempDir()
	for _, tc := range []struct {
		name string
		pass []byte
	}{
		{"unsealed.key", nil},
		{"sealed.key", fuzzPassphrase},
	} {
		path := filepath.Join(dir, tc.name)
		if err := Write(path, Generate(), tc.pass); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add(bytes.Replace(data, []byte(`"type": "ed25519"`), []byte(`"type": "sr25519"`), 1))
		f.Add(bytes.Replace(data, []byte(`"n": 1024`), []byte(`"n": 1048576`), 1))
		f.Add(bytes.Replace(data, []byte(`"p": 1`), []byte(`"p": 0`), 1))
	}
	f.Add([]byte{})
	f.Add([]byte("null"))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"type":"ed25519","pub_key":"","address":"","priv_key":""}`))
	f.Add([]byte(`{"type":"ed25519","sealed":{"kdf":"scrypt","n":-1}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "k.key")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		info, infoErr := ReadInfo(path)
		key, err := Read(path, nil)

		// Without a passphrase, Read succeeds exactly for valid unsealed files.
		wantKey := infoErr == nil && !info.Sealed
		if (err == nil) != wantKey {
			t.Fatalf("Read(%q) = %v; want success %v (ReadInfo: %+v, %v)", path, err, wantKey, info, infoErr)
		}
		if infoErr == nil && info.Sealed && !errors.Is(err, ErrPassphrase) {
			t.Fatalf("Read(%q) = %v; want %v", path, err, ErrPassphrase)
		}
		if err == nil {
			checkFuzzKey(t, path, info, key)
		}

		if infoErr != nil || !info.Sealed {
			return
		}
		kf, err := parse(data)
		if err != nil {
			t.Fatalf("parse failed (%v) where ReadInfo succeeded", err)
		}
		if b := kf.sealed; int64(b.n)*int64(b.r)*int64(b.p) > maxFuzzScryptCost {
			return
		}
		if key, err := Read(path, fuzzPassphrase); err == nil {
			checkFuzzKey(t, path, info, key)
		}
	})
}

// checkFuzzKey checks that a key Read returned is consistent with its Info.
func checkFuzzKey(t *testing.T, path string, info Info, key []byte) {
	t.Helper()
	if len(key) != 64 {
		t.Fatalf("Read(%q) returned a %d-byte key; want 64", path, len(key))
	}
	if err := checkKeyPair(key, key[32:]); err != nil {
		t.Fatalf("Read(%q) returned an invalid key: %v", path, err)
	}
	if got := hex.EncodeToString(key[32:]); got != info.PubKey {
		t.Fatalf("Read(%q) returned public key %s; want %s from ReadInfo", path, got, info.PubKey)
	}
}
