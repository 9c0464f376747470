package tx

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// AddressSize is the length of an account address.
const AddressSize = 20

// Address names an account. It is derived from the account's first public
// key and stays the same when the key is rotated, so it is a stable
// pseudonym: it says nothing about the person or organization behind it.
type Address [AddressSize]byte

const addressDomain = "careledger/account/v1"

// AddressOf returns the address of an account first registered with pubKey.
func AddressOf(pubKey []byte) Address {
	h := sha256.New()
	h.Write([]byte(addressDomain))
	h.Write(pubKey)
	var a Address
	copy(a[:], h.Sum(nil))
	return a
}

// String returns the address as 40 lowercase hex characters.
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// ParseAddress parses an address written in hex.
func ParseAddress(s string) (Address, error) {
	var a Address
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != AddressSize {
		return a, fmt.Errorf("address must be %d hex characters", 2*AddressSize)
	}
	copy(a[:], b)
	return a, nil
}

// MarshalText and UnmarshalText let addresses appear in JSON as hex strings.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// PubKey is an Ed25519 public key that appears in JSON as lowercase hex.
type PubKey []byte

// ParsePubKey parses a public key written in hex.
func ParsePubKey(s string) (PubKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != PubKeySize {
		return nil, fmt.Errorf("public key must be %d hex characters", 2*PubKeySize)
	}
	return b, nil
}

func (k PubKey) String() string { return hex.EncodeToString(k) }

func (k PubKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k *PubKey) UnmarshalText(b []byte) error {
	p, err := ParsePubKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}
