// Package keys manages the Ed25519 key files with which the CareLedger CLI
// signs transactions.
//
// A key file is one JSON object. Its public fields let a key be listed and
// shown without its passphrase:
//
//	{"type":"ed25519","pub_key":"<hex>","address":"<hex>","priv_key":"<hex>"}
//
// priv_key is the 64-byte private key (seed followed by public key). A key
// written with a passphrase has, instead of priv_key, a sealed private key:
//
//	"sealed":{"kdf":"scrypt","n":32768,"r":8,"p":1,
//	          "salt":"<hex>","nonce":"<hex>","ciphertext":"<hex>"}
//
// scrypt derives a 32-byte key from the passphrase and a 16-byte random salt;
// AES-256-GCM with a 12-byte random nonce seals the private key. The
// additional data is
//
//	"careledger/keyfile/v1" 0x00 "ed25519" 0x00 pub_key(32 bytes) address(20 bytes)
//
// so the public fields cannot be swapped for another key's without the
// passphrase. The KDF parameters, salt and nonce need no such binding:
// changing any of them changes the key or keystream and opening fails.
//
// Reading trusts nothing in the file: it checks lengths, types and scrypt
// parameters, that the private key's public half is derived from its seed and
// equals pub_key, and that address is tx.AddressOf(pub_key). Its errors name
// the file and the field but never print key material. Writing never
// overwrites a file and makes the new file durable before returning, because
// a lost or clobbered key cannot be recovered.
//
// After a key rotation the new key signs for the account of the first,
// whose address is not the new key's. SetAccount records that account's
// address in NAME.account beside NAME.key (the hex address and a newline),
// replacing any earlier record; Info.Account gives it. It is only a hint of
// which account to look up: the chain decides which account a key signs for.
//
// keys imports only the standard library, golang.org/x/crypto/scrypt,
// CometBFT's crypto/ed25519 (the key type the rest of CareLedger signs with)
// and tx (for addresses).
package keys
