package disclosure

import (
	"encoding/csv"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteCSV writes the report's entries as CSV, one disclosure per row.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"date", "recipient", "recipient_organization", "custodian", "purpose", "description", "break_the_glass", "break_the_glass_reason", "access", "log_index"})
	for _, d := range r.Entries {
		cw.Write([]string{
			d.Time.UTC().Format(time.RFC3339), d.Recipient.String(), d.RecipientOrg, d.Custodian, d.Purpose,
			d.Description, strconv.FormatBool(d.BreakGlass), d.GlassReason, strconv.FormatUint(d.Access, 10), strconv.FormatUint(d.Leaves[0].Index, 10),
		})
	}
	cw.Flush()
	return cw.Error()
}

// purposeNames are the purposes of use in words, for the printable report.
var purposeNames = map[string]string{
	"TREAT": "treatment", "ETREAT": "emergency treatment", "COC": "coordination of care", "CAREMGT": "care management",
	"HPAYMT": "payment", "HOPERAT": "health care operations", "HRESCH": "research", "CLINTRCH": "clinical trial research",
	"PUBHLTH": "public health", "HLEGAL": "legal", "PATRQT": "your own request", "FAMRQT": "family request", "HSYSADMIN": "system administration",
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"date":        func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
	"day":         func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"glassReason": func(r string) string { return strings.ReplaceAll(r, "_", " ") },
	"purpose": func(p string) string {
		if n, ok := purposeNames[p]; ok {
			return n
		}
		return p
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Accounting of disclosures</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.4em;text-align:left;vertical-align:top}
th{background:#eee}.glass{font-weight:bold;color:#a00}@media print{body{margin:0}}</style></head><body>
<h1>Accounting of disclosures</h1>
<p>Patient (pseudonym): <code>{{.Patient}}</code><br>
Period: {{day .From}} to {{day .To}}<br>
{{if .All}}This is a full access report: every read of your records.{{else}}As 45 CFR 164.528 allows, reads for treatment, payment and health care operations, and your own, are left out, unless someone broke the glass.{{end}}</p>
<p>Every line below is an event in CareLedger's audit log, proven in the log of {{.LogSize}} events certified by block {{.Height}}'s successor. Check this report with <code>careledger verify report</code>.</p>
{{if .Entries}}<table><tr><th>Date</th><th>Recipient</th><th>Held by</th><th>What</th><th>Purpose</th></tr>
{{range .Entries}}<tr><td>{{date .Time}}</td><td>{{if .RecipientOrg}}{{.RecipientOrg}}, {{end}}<code>{{.Recipient}}</code></td><td>{{.Custodian}}</td><td>{{.Description}}</td><td>{{purpose .Purpose}}{{if .BreakGlass}} <span class="glass">(emergency, break the glass: {{glassReason .GlassReason}})</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p>No disclosures in this period.</p>{{end}}
</body></html>
`))

// WriteHTML writes the report as a printable page a patient can read.
func WriteHTML(w io.Writer, r *Report) error { return page.Execute(w, r) }
