package verify

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/syndtr/goleveldb/leveldb"
	lerrors "github.com/syndtr/goleveldb/leveldb/errors"
	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// strict opens a LevelDB store so that nothing in it is written and every
// stored byte read is checked: the journal's chunk checksums (a chunk that
// does not match is an error, where LevelDB's default drops it silently on
// recovery), the manifest's, and every table block's.
// The filter is the Bloom filter the node's stores use: the stores that
// wrote filter blocks have them read too.
var strict = &opt.Options{ReadOnly: true, ErrorIfMissing: true, Strict: opt.StrictAll, Filter: filter.NewBloomFilter(10)}

// levelDBs returns the LevelDB stores under data, relative to the home:
// every directory holding a CURRENT file.
func levelDBs(home string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(filepath.Join(home, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "CURRENT" {
			rel, err := filepath.Rel(home, filepath.Dir(p))
			if err != nil {
				return err
			}
			dirs = append(dirs, rel)
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs, err
}

// readStore reads every key and value of the LevelDB store in dir, with
// every checksum checked, and returns how many entries it holds. Iterating
// reads every block of every table the store's manifest names, the
// shadowed entries too; looking each key up reads the tables' filter
// blocks, which a lookup trusts to say a key is absent.
func readStore(dir string) (n int, err error) {
	if err := current(dir); err != nil {
		return 0, err
	}
	db, err := leveldb.OpenFile(dir, strict)
	if err != nil {
		return 0, storeError(err)
	}
	defer db.Close()
	ro := &opt.ReadOptions{Strict: opt.StrictAll}
	it := db.NewIterator(nil, ro)
	defer it.Release()
	for it.Next() {
		n++
		if _, err := db.Get(it.Key(), ro); err != nil {
			return n, storeError(fmt.Errorf("entry %d: %w", n, lookupError(err)))
		}
	}
	return n, storeError(it.Error())
}

// lookupError is a lookup's error; an entry the iterator read and a lookup
// does not find is a damaged filter block.
func lookupError(err error) error {
	if errors.Is(err, leveldb.ErrNotFound) {
		return errors.New("a table's filter says an entry the table holds is absent")
	}
	return err
}

// storeError keeps LevelDB's description of a corruption (a file, an
// offset and a reason) but not a corrupt key, which LevelDB quotes and which
// may be an identifier.
func storeError(err error) error {
	var ce *lerrors.ErrCorrupted
	if errors.As(err, &ce) {
		var ke *leveldb.ErrInternalKeyCorrupted
		if errors.As(err, &ke) {
			return fmt.Errorf("corrupt: a key of file %v is corrupt: %s", ce.Fd, ke.Reason)
		}
		return fmt.Errorf("corrupt: %w", err)
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("missing: %w", err)
	}
	return err
}

// remedyFor says what to do with a damaged store.
func remedyFor(store string) string {
	switch filepath.ToSlash(store) {
	case "data/app/index.db", "data/app/audit.db":
		return remedyRebuild
	case "data/evidence.db":
		return "it holds evidence of misbehaving validators not yet committed; " + remedyBackup
	}
	return remedyBackup
}

// stores reads every LevelDB store of the home, checking every stored
// byte, and returns the damaged ones.
func (c *checker) stores() error {
	dirs, err := levelDBs(c.home)
	if err != nil {
		return err
	}
	for _, rel := range dirs {
		n, err := readStore(filepath.Join(c.home, rel))
		if err != nil {
			c.damage(Damage{Part: rel, Problem: err.Error(), Remedy: remedyFor(rel)})
			continue
		}
		fmt.Fprintf(c.out, "store %s: %d entries read, every checksum matches\n", filepath.ToSlash(rel), n)
	}
	return nil
}

// current requires the store's CURRENT file to name a manifest the store
// holds. LevelDB, finding it damaged, would silently fall back to
// CURRENT.bak, which names an older manifest.
func current(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "CURRENT"))
	if err != nil {
		return err
	}
	name, ok := strings.CutSuffix(string(b), "\n")
	digits, isManifest := strings.CutPrefix(name, "MANIFEST-")
	if _, perr := strconv.ParseUint(digits, 10, 64); !ok || !isManifest || perr != nil || len(digits) < 6 {
		return errors.New("corrupt: CURRENT does not name a manifest")
	}
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		return errors.New("corrupt: the manifest CURRENT names is missing")
	}
	return nil
}
