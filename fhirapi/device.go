package fhirapi

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/careledger/careledger/contract/identity"
	"github.com/careledger/careledger/fhir"
)

// A monitoring device's token (identity.SetDevice) serves one thing: the
// creation of Observations about its patient, of its codes, at its
// custodian, one by POST /fhir/Observation or several in a Bundle, within
// its token's SMART scopes, which only narrow this further. Every
// other request it makes is forbidden before any handler sees it, so no
// route's own checks need to know of devices. The device names the salt
// of its code commitments (identity.CommitCode) in DeviceSaltHeader, in
// hex, with each write: the chain holds only the commitments.

// DeviceSaltHeader carries a device's salt.
const DeviceSaltHeader = "X-Device-Salt"

// deviceSalt returns the salt a device's request names.
func deviceSalt(r *http.Request) ([]byte, error) {
	salt, err := hex.DecodeString(r.Header.Get(DeviceSaltHeader))
	if err != nil || len(salt) < identity.DeviceSaltSize {
		return nil, fhir.NewError(fhir.ErrInvalid, fhir.Issue{Diagnostics: fmt.Sprintf(
			"a device names the salt of its code commitments in %s: at least %d bytes in hex", DeviceSaltHeader, identity.DeviceSaltSize)})
	}
	return salt, nil
}

func deviceForbidden(why string) error {
	return fhir.NewError(fhir.ErrForbidden, fhir.Issue{Diagnostics: why})
}

// serveDevice answers a request made with a device's token.
func (s *Server) serveDevice(w http.ResponseWriter, r *http.Request, who *identity.Account, rt route) error {
	d, err := identity.LoadDevice(s.state(), who.Address)
	if err != nil {
		return err
	}
	if d == nil || d.Revoked {
		return deviceForbidden("this device is not authorized")
	}
	one := rt.pattern == "POST /fhir/{type}" && r.PathValue("type") == "Observation"
	if !one && rt.pattern != "POST /fhir" && rt.pattern != "POST /fhir/{$}" {
		return deviceForbidden("a device may only create Observations")
	}
	salt, err := deviceSalt(r)
	if err != nil {
		return err
	}
	if one {
		return s.createReading(w, r, d, salt)
	}
	return s.createReadings(w, r, d, salt)
}

func (s *Server) createReading(w http.ResponseWriter, r *http.Request, d *identity.MonitoringDevice, salt []byte) error {
	res, err := s.body(r, "Observation")
	if err != nil {
		return err
	}
	if _, err := s.c.CreateReadings(r.Context(), d, salt, []*fhir.Resource{res}); err != nil {
		return err
	}
	w.Header().Set("Location", fhirBase(r)+"/Observation/"+res.ID()+"/_history/"+res.Meta().VersionID)
	writeResource(w, http.StatusCreated, res)
	return nil
}

// createReadings stores a Bundle of Observations a device sent, all or
// none, a batch as a transaction: its entries are all creations of one
// device's readings, stored in one vault batch and anchored together.
func (s *Server) createReadings(w http.ResponseWriter, r *http.Request, d *identity.MonitoringDevice, salt []byte) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(s.limits.MaxBundleBytes)+1))
	if err != nil {
		return err
	}
	bundle, err := s.limits.ParseBundle(b)
	if err != nil {
		return err
	}
	if err := scopeEntries(r, bundle); err != nil {
		return err
	}
	rs := make([]*fhir.Resource, len(bundle.Entries))
	for i, e := range bundle.Entries {
		if e.Err != nil {
			return e.Err
		}
		if e.Method != http.MethodPost || e.Type != "Observation" || e.Resource == nil || e.IfNoneExist != nil {
			return deviceForbidden("a device's Bundle may only create Observations")
		}
		rs[i] = e.Resource
	}
	if _, err := s.c.CreateReadings(r.Context(), d, salt, rs); err != nil {
		return err
	}
	results := make([]fhir.Result, len(rs))
	for i, res := range rs {
		m := res.Meta()
		results[i] = fhir.Result{Status: http.StatusCreated, Location: "Observation/" + res.ID() + "/_history/" + m.VersionID,
			ETag: `W/"` + m.VersionID + `"`, LastModified: m.LastUpdated}
	}
	write(w, http.StatusOK, fhir.ResponseBundle(bundle.Type, results).Canonical())
	return nil
}
