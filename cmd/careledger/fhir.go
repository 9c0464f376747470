package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/careledger/careledger/client"
	"github.com/careledger/careledger/fhirapi"
)

// runFHIR makes one FHIR request as the holder of a key: it gets a bearer
// token with the key, sends the request, and prints the answer. A body is
// read from FILE, or from standard input when FILE is "-".
func runFHIR(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fhir", flag.ContinueOnError)
	keyName, keyDir := keyFlag(fs)
	nodeURL := nodeFlag(fs)
	purpose := fs.String("purpose", "", "purpose of use (HL7 PurposeOfUse code; default TREAT for members, PATRQT for patients)")
	glass := fs.Bool("break-glass", false, "an emergency read without a grant (with --purpose ETREAT and --glass-reason, physicians only)")
	reason := fs.String("glass-reason", "", "why the glass is broken: unconscious, life_threatening, unable_to_consent or other")
	scope := scopeFlag(fs)
	salt := fs.String("device-salt", "", "a monitoring device's salt, in hex (tx set-device --salt), which its writes name")
	if err := parse(fs, args, -1, "METHOD PATH [FILE|-]"); err != nil {
		return err
	}
	if fs.NArg() < 2 || fs.NArg() > 3 {
		return usageError("fhir takes METHOD PATH [FILE|-], such as: fhir GET Observation?patient=p1")
	}
	key, err := loadKey(*keyName, *keyDir)
	if err != nil {
		return err
	}
	var body []byte
	switch f := fs.Arg(2); f {
	case "":
	case "-":
		body, err = io.ReadAll(os.Stdin)
	default:
		body, err = os.ReadFile(f)
	}
	if err != nil {
		return err
	}
	c := client.New(*nodeURL)
	tok, err := c.ScopedToken(ctx, key, *scope)
	if err != nil {
		return err
	}
	status, out, err := c.FHIR(ctx, client.FHIRRequest{
		Method: strings.ToUpper(fs.Arg(0)), Path: fs.Arg(1), Body: body, Token: tok.Token, Purpose: *purpose, BreakGlass: *glass, GlassReason: *reason,
		Header: deviceHeader(*salt),
	})
	if err != nil {
		return err
	}
	os.Stdout.Write(out)
	fmt.Println()
	if status >= 400 {
		return fmt.Errorf("FHIR server answered %d", status)
	}
	return nil
}

// deviceHeader returns the header naming a device's salt, if any.
func deviceHeader(salt string) http.Header {
	if salt == "" {
		return nil
	}
	return http.Header{fhirapi.DeviceSaltHeader: {salt}}
}
