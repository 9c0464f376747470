package claimfhir_test

import (
	"fmt"

	"github.com/careledger/careledger/claimfhir"
	"github.com/careledger/careledger/tx"
)

// A FHIR Claim becomes the message that adjudication needs: the lines with
// their codes, units, charges in minor units and dates, and the patient's
// age, never their name or birth date.
func ExampleDecode() {
	c, err := claimfhir.Decode([]byte(`{"resourceType": "Claim", "use": "claim",
 "patient": {"reference": "Patient/p1"},
 "insurer": {"identifier": {"system": "urn:careledger:org", "value": "acme-health"}},
 "insurance": [{"coverage": {"identifier": {"system": "urn:careledger:coverage", "value": "cov-1"}}}],
 "item": [{"productOrService": {"coding": [{"code": "99214"}]}, "servicedDate": "2026-11-01", "net": {"value": 200.00}}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := c.Submit([32]byte{1}, "mercy-hospital", tx.Address{2}, 19700101)
	fmt.Println(m.Payer, m.Coverage, m.Age, m.Lines[0].Code, m.Lines[0].Charge, m.Lines[0].Date, err)
	// Output: acme-health cov-1 56 99214 20000 20261101 <nil>
}
