// Package vault is a custodian's encrypted store of FHIR resources: the
// health records that stay off the chain, at the organization that holds
// them. The chain holds only each version's salted Commitment; the vault
// holds the content, encrypted, and can destroy it for good
// (crypto-shredding) when a record or a patient is erased.
//
// # Keys
//
// Every ciphertext is AES-256-GCM with a random 12-byte nonce from
// crypto/rand (the vault is not part of the deterministic state machine).
// The keys form a hierarchy:
//
//	KeyWrapper (master key file; later a KMS or HSM)
//	└─ patient key: one per patient pseudonym, random, wrapped by the KeyWrapper;
//	   the resources about no patient (Organization, Practitioner, Location...)
//	   have patient "" and its key is the custodian's directory key
//	   └─ data key: one per record (type and id), random, sealed under the patient key
//	      └─ each version's salt and content, sealed under the data key
//
// A data key is shared by the versions of its record, not made per version:
// erasure is of a record or a patient (a FHIR delete is a new version, not
// an erasure), so per-version keys would only cost a key unwrap per version
// read in a history. Destroying one record's data key erases all its
// versions and touches no other record; destroying a patient key erases
// every record of the patient at once.
//
// The additional data of each ciphertext names what it is, so that a value
// copied to another place fails authentication (ErrCorrupt):
//
//	patient key  "careledger/vault/v1/patient-key" 0 PATIENT
//	data key     "careledger/vault/v1/record-key" 0 PATIENT 0 TYPE 0 ID
//	content      "careledger/vault/v1/content" 0 PATIENT 0 TYPE 0 ID 0 VERSION(4, big-endian)
//	             followed by the version value's plaintext header (format, updated, flags)
//	key check    "careledger/vault/v1/check"
//
// The name key, beside the hierarchy, keys KeyedHash: HMAC-SHA-256 of
// identifying values (the names records go by outside the custodian, the
// tokens of a blind search index), which only the vault's holder can
// compute or test a guess against. A vault that holds records but no name
// key was written before record IDs were keyed hashes; Open refuses it
// (ErrOldFormat), since its records are under the old names.
//
// Random nonces are safe up to about 2^32 messages per key: a data key seals
// one record's versions, a patient key one patient's data keys, and the
// master key one key per patient.
//
// The master key file (CreateMasterKey, LoadMasterKey) is 32 random bytes,
// mode 0600. Open checks the KeyWrapper against a check value wrapped when
// the vault was created, so that a wrong master key is an error at once
// (ErrWrongKey), not ErrCorrupt on every read.
//
// # Storage
//
// One LevelDB database, DIR/vault.db, written with synced batches: a Put is
// all or nothing, and so is an erasure. Patients are 40 lowercase hex digits
// or "", types FHIR resource type names, and IDs the names the caller gives
// records: the custodian gives each record's ref, a keyed hash of its type
// and FHIR id in lowercase hex (package custodian), so that no FHIR id,
// which a client chooses and may be a medical record number, is stored
// outside the encrypted content. None holds a 0 byte, so 0 separates them,
// and key order is type-then-ID order.
// The keys (one tag byte, then fields):
//
//	m                                  → 1, the key check wrapped by the KeyWrapper
//	n                                  → 1, the name key wrapped by the KeyWrapper (KeyedHash)
//	l TYPE 0 ID                        → the locator: 1, PATIENT (which patient holds the record),
//	                                     or 2, PATIENT, a tombstone: the record was erased
//	k PATIENT                          → 1, the patient key wrapped by the KeyWrapper,
//	                                     or 2, a tombstone: the patient was erased
//	r PATIENT 0 TYPE 0 ID              → 1, LATEST(4), the data key sealed under the patient key (60)
//	v PATIENT 0 TYPE 0 ID 0 VERSION(4) → 1, UPDATED(8, Unix ns), FLAGS(1, 1 = deleted),
//	                                     then salt || content sealed under the data key
//	s TOKEN(32) TYPE 0 ID              → empty: a blind index entry (blindindex.go)
//	t PATIENT 0 TYPE 0 ID              → 1, TOKENS: the record's blind index tokens
//	w r PATIENT 0 TYPE 0 ID            → empty: a record erasure whose compaction is pending
//	w p PATIENT                        → empty: a patient erasure whose compaction is pending
//
// A tombstone takes the place of the live value, so that one read tells a
// record (or patient) that is there from one that never was and from one
// that was erased: reading or putting an erased record, or putting a new
// record of an erased patient, gives ErrErased. A record's tombstone keeps
// its patient's pseudonym (PatientOf), which is no health data and is on
// the chain anyway: erasure destroys content, not the accounting of who
// read it, and that accounting is kept by pseudonym.
//
// Plaintext is limited to what listing needs: the pseudonym, type, id,
// version numbers, updated time and deleted flag. Salts and content are
// encrypted; the updated time and deleted flag are bound into the content's
// additional data, so they cannot be changed unnoticed either. A patient's
// keys, records and versions are each contiguous, so that erasing a patient
// compacts three short key ranges. Keys never hold key material: LevelDB
// prints keys in its LOG file.
//
// Every stored value is decoded by a function that checks its length and
// fields and returns an error, never panics, on any input (they are
// fuzzed). A value that does not decode or authenticate gives ErrCorrupt,
// whose message names the record's type and id and never quotes content.
//
// # Erasure
//
// EraseRecord and ErasePatient, in one synced batch, delete the wrapped data
// keys and the ciphertexts, and replace the locators (and, for a patient,
// the wrapped patient key) with tombstones, so that later reads and puts
// get ErrErased. They also record the erasure as pending; then they compact
// (LevelDB CompactRange) the key ranges that held what was deleted, which
// rewrites the tables holding them without the deleted values, drop the
// pending entry, and close and reopen the database: goleveldb unlinks the
// replaced table files only minutes later, or when it opens. If the process
// stops before this is done, Open does it.
//
// After erasure returns, the live files of the database hold neither the
// wrapped keys nor the ciphertexts, so no one, not even the holder of the
// master key, can decrypt the erased content from them. It does not reach
// what is outside those files: disk blocks of deleted files that the file
// system or an SSD has not yet overwritten, file-system or volume snapshots,
// backups and replicas of the data directory (a backup plus the master key
// restores erased records: backups need their own erasure policy), swap and
// crash dumps, and copies that the caller made (an index, a cache, a FHIR
// response). Full-disk encryption limits the first; the rest are the
// operator's. The old values of a patient's locators (type and id →
// pseudonym, no key material), now tombstones naming the same pseudonym, are left to LevelDB's own
// compactions, since compacting ranges spread over the whole key space
// would rewrite most of the database; a single record's locator is
// compacted. Go does not let the vault wipe unwrapped keys from memory
// reliably; it clears the buffers it owns.
//
// Erasure holds out every reader and writer while it runs (the compactions
// and the reopening: milliseconds on a small vault, longer on a large one),
// since a reader's LevelDB iterator would keep the old values alive through
// the compaction. It is rare; reads and puts otherwise run concurrently.
//
// # Tampering
//
// GCM authentication detects a changed, truncated or moved ciphertext or
// wrapped key, and a changed updated time or deleted flag. What a holder of
// the database can still do unnoticed is roll a record back (restore an
// older record value, with an older latest version), delete entries, or
// write a tombstone in place of a locator. Reads then serve an older
// authentic version, nothing, or ErrErased. The chain's commitments and
// version numbers are the check against that: the FHIR layer compares what
// it serves with them.
//
// vault imports goleveldb, keys (to write the master key file) and the
// standard library.
package vault
