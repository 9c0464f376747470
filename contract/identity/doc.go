// Package identity is the identity contract: organizations, their members
// with roles, and patients.
//
// Genesis names the founding organizations, their validator keys and their
// first admins. An organization's admin registers members with roles,
// changes their roles, and suspends or reinstates them. Patients register
// themselves with their own key; their account address (tx.AddressOf their
// first key) is their pseudonym, and no name or national identifier is ever
// stored. Every account can rotate its key, proving possession of the new one.
// A patient may name delegates who act for them, and guardians, k of whom
// can move the account to a new key after a delay in block time
// (recovery.go).
//
// identity imports contract, tx, wire and the standard library.
package identity
