package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"

	"github.com/careledger/careledger/contract"
	"github.com/careledger/careledger/tx"
	"github.com/careledger/careledger/wire"
)

// MaxDeviceCodes bounds the LOINC codes one device may write.
const MaxDeviceCodes = 16

// Which readings a device takes says what its patient is treated for, so
// the chain holds no LOINC code of a device: it holds a commitment to each
// (CommitCode), under a salt of DeviceSaltSize or more random bytes that the
// patient's app shares with the device when it pairs them and that never
// reaches the chain. The device names its salt with each write; its
// custodian commits the reading's codes under it and finds them among the
// device's commitments. Without the salt, nobody can tell a commitment's
// code by trying every LOINC code.
const (
	DeviceSaltSize = 16
	codeDomain     = "careledger/device-code/v1\n"
)

// commitmentPattern is a code commitment's shape: 32 lowercase hex digits.
var commitmentPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// CommitCode returns the commitment to LOINC code under a device's salt:
// the first 16 bytes of SHA-256 over a domain, the salt and the code, in
// hex.
func CommitCode(salt []byte, code string) string {
	h := sha256.New()
	h.Write([]byte(codeDomain))
	h.Write(salt)
	h.Write([]byte(code))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CommitCodes returns the commitments to codes under salt.
func CommitCodes(salt []byte, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = CommitCode(salt, c)
	}
	return out
}

// MonitoringDevice is a monitoring device a patient authorized: its key is an
// account of kind Device, which signs no transaction and may only write
// Observations about Patient to Custodian's FHIR API, of the LOINC codes
// whose commitments Codes holds (CommitCode). It is no delegate: it never
// acts for the patient.
type MonitoringDevice struct {
	Address   tx.Address `json:"address"`
	Patient   tx.Address `json:"patient"`
	Custodian string     `json:"custodian"`
	Codes     []string   `json:"codes"`
	// Revoked is set by a removal: the device's account is suspended at
	// once, and only its patient may authorize it again.
	Revoked bool  `json:"revoked"`
	Since   int64 `json:"since"` // height of the last authorization or removal
}

// Allows reports whether the device may write a reading of LOINC code,
// which its salt commits to.
func (d *MonitoringDevice) Allows(salt []byte, code string) bool {
	return !d.Revoked && slices.Contains(d.Codes, CommitCode(salt, code))
}

// deviceKey is D/ and the device's address ("v/" is consent's reviews).
func deviceKey(a tx.Address) []byte { return append([]byte("D/"), a[:]...) }

// LoadDevice returns the device whose account is at addr, or nil.
func LoadDevice(s Reader, addr tx.Address) (*MonitoringDevice, error) {
	b, err := s.Get(deviceKey(addr))
	if err != nil || b == nil {
		return nil, err
	}
	r := wire.NewReader(b)
	d := &MonitoringDevice{Address: addr, Patient: readAddress(r), Custodian: r.String(64), Codes: r.Strings(MaxDeviceCodes, 32), Revoked: r.Bool(), Since: int64(r.Uint())}
	if err := r.Done(); err != nil {
		return nil, fmt.Errorf("decode device %s: %w", addr, err)
	}
	return d, nil
}

func saveDevice(s contract.Store, d *MonitoringDevice) error {
	w := wire.NewWriter(64 + 10*len(d.Codes))
	w.Raw(d.Patient[:])
	w.String(d.Custodian)
	w.Strings(d.Codes)
	w.Bool(d.Revoked)
	w.Uint(uint64(d.Since))
	return s.Set(deviceKey(d.Address), w.Bytes())
}

// normalizeCodes checks a device's code commitments and returns them
// sorted without duplicates. A raw LOINC code is refused: none may reach
// the chain.
func normalizeCodes(codes []string) ([]string, error) {
	if len(codes) == 0 || len(codes) > MaxDeviceCodes {
		return nil, tx.Rejectf(tx.CodeInvalid, "a device needs 1 to %d code commitments", MaxDeviceCodes)
	}
	for _, c := range codes {
		if !commitmentPattern.MatchString(c) {
			return nil, tx.Rejectf(tx.CodeInvalid, "a device's codes are commitments, 32 lowercase hex digits (identity.CommitCode), never the codes")
		}
	}
	out := slices.Clone(codes)
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (m SetDevice) validate() error {
	if m.Remove {
		if m.Custodian != "" || len(m.Codes) > 0 {
			return tx.Rejectf(tx.CodeInvalid, "a removal names only the patient and the device")
		}
		return nil
	}
	if err := ValidateOrgID(m.Custodian); err != nil {
		return err
	}
	_, err := normalizeCodes(m.Codes)
	return err
}

// setDevice authorizes, changes or revokes a patient's device.
func setDevice(ctx *contract.Context, m SetDevice) error {
	if err := RequireActsFor(ctx, m.Patient); err != nil {
		return err
	}
	if _, err := RequirePatient(ctx.Store, m.Patient); err != nil {
		return err
	}
	addr := tx.AddressOf(m.PubKey)
	d, err := LoadDevice(ctx.Store, addr)
	if err != nil {
		return err
	}
	if d != nil && d.Patient != m.Patient {
		return tx.Rejectf(tx.CodeKeyInUse, "key is registered to account %s", addr)
	}
	if m.Remove {
		return removeDevice(ctx, d)
	}
	return authorizeDevice(ctx, m, d)
}

func authorizeDevice(ctx *contract.Context, m SetDevice, d *MonitoringDevice) error {
	codes, err := normalizeCodes(m.Codes)
	if err != nil {
		return err
	}
	if o, err := LoadOrg(ctx.Store, m.Custodian); err != nil {
		return err
	} else if o == nil {
		return tx.Rejectf(tx.CodeNotFound, "organization %s does not exist", m.Custodian)
	} else if o.Suspended {
		return tx.Rejectf(tx.CodeSuspended, "organization %s is suspended", o.ID)
	}
	addr := tx.AddressOf(m.PubKey)
	if d == nil {
		a := &Account{Address: addr, PubKey: m.PubKey, Kind: Device, Since: ctx.Height}
		if err := createAccount(ctx.Store, a); err != nil {
			return err
		}
		d = &MonitoringDevice{Address: addr, Patient: m.Patient}
	} else if err := setDeviceSuspended(ctx.Store, addr, false); err != nil {
		return err
	}
	d.Custodian, d.Codes, d.Revoked, d.Since = m.Custodian, codes, false, ctx.Height
	if err := saveDevice(ctx.Store, d); err != nil {
		return err
	}
	ctx.Emit(deviceEvent(EventDeviceSet, d, ctx.Signer))
	return nil
}

func removeDevice(ctx *contract.Context, d *MonitoringDevice) error {
	if d == nil || d.Revoked {
		return tx.Rejectf(tx.CodeNotFound, "no device of this patient holds that key")
	}
	d.Revoked, d.Since = true, ctx.Height
	if err := setDeviceSuspended(ctx.Store, d.Address, true); err != nil {
		return err
	}
	if err := saveDevice(ctx.Store, d); err != nil {
		return err
	}
	ctx.Emit(deviceEvent(EventDeviceRemoved, d, ctx.Signer))
	return nil
}

func setDeviceSuspended(s contract.Store, addr tx.Address, suspended bool) error {
	a, err := LoadAccount(s, addr)
	if err != nil {
		return err
	}
	if a == nil || a.Kind != Device {
		return fmt.Errorf("device %s has no device account", addr)
	}
	a.Suspended = suspended
	return saveAccount(s, a)
}

// deviceEvent names the device, its patient and custodian, never its codes:
// which readings a patient's device takes says what they are treated for.
func deviceEvent(typ string, d *MonitoringDevice, by tx.Address) contract.Event {
	return contract.Event{
		Type: typ,
		Attrs: []contract.Attr{
			{Key: "patient", Value: d.Patient.String()},
			{Key: "device", Value: d.Address.String()},
			{Key: "custodian", Value: d.Custodian},
			{Key: "by", Value: by.String()},
		},
		Accounts: []tx.Address{d.Patient, d.Address, by},
	}
}
