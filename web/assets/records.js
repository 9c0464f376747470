// FHIR records shown grouped by resource type, newest first.
import { h, section } from "./ui.js";

// dateOf returns the clinically relevant date of a resource, if any.
function dateOf(r) {
  return r.effectiveDateTime ?? r.effectivePeriod?.start ?? r.onsetDateTime ?? r.recordedDate ?? r.authoredOn ??
    r.issued ?? r.period?.start ?? r.occurrenceDateTime ?? r.date ?? r.birthDate ?? r.meta?.lastUpdated ?? "";
}

const codeText = (c) => c?.text ?? c?.coding?.map((x) => x.display ?? x.code).filter(Boolean).join(", ") ?? "";

// summary says in a line what a resource is.
function summary(r) {
  const what = codeText(r.code) || codeText(r.type?.[0]) || codeText(r.medicationCodeableConcept) || r.name?.[0]?.text || r.resourceType;
  const q = r.valueQuantity;
  const value = q ? `${q.value} ${q.unit ?? q.code ?? ""}` : r.valueString ?? codeText(r.valueCodeableConcept);
  const status = r.clinicalStatus ? codeText(r.clinicalStatus) : r.status;
  return [what, value, status].filter(Boolean).join(" · ");
}

// recordsView renders a $everything Bundle; warnings (OperationOutcome
// entries: a custodian that could not be reached) are shown first.
export function recordsView(bundle) {
  const groups = new Map();
  const warnings = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (!r) continue;
    if (r.resourceType === "OperationOutcome") { warnings.push(...(r.issue ?? []).map((i) => i.diagnostics)); continue; }
    if (!groups.has(r.resourceType)) groups.set(r.resourceType, []);
    groups.get(r.resourceType).push(r);
  }
  const types = [...groups.keys()].sort();
  return h("div", { class: "records" },
    warnings.map((w) => h("p", { class: "warning", role: "note" }, h("strong", { text: "Incomplete: " }), w)),
    types.length ? null : h("p", { class: "empty", text: "No records." }),
    types.map((t) => {
      const rs = groups.get(t).sort((a, b) => String(dateOf(b)).localeCompare(String(dateOf(a))));
      return h("section", { class: "group", "aria-label": `${t} (${rs.length})` },
        h("h4", { text: `${t} (${rs.length})` }),
        h("ul", {}, rs.map((r) => h("li", { "data-type": t },
          h("time", { datetime: String(dateOf(r)), text: String(dateOf(r)).slice(0, 10) || "no date" }), " ", summary(r)))));
    }));
}

const identifier = (patient) => `identifier=${encodeURIComponent("urn:careledger:patient|" + patient)}`;

// findPatient finds the Patient resource of a pseudonym by its blind-indexed
// identifier, or null if none is open to the reader. The search is itself
// a read the chain records (a disclosure when permitted).
export async function findPatient(session, patient, headers = {}) {
  const b = await session.fhir(`Patient?${identifier(patient)}`, headers).catch(() => null);
  return b?.entry?.find((e) => e.resource?.resourceType === "Patient")?.resource ?? null;
}

// loadRecords reads a patient's records with one request, so one decision
// and one receipt: Patient/$everything by the patient's pseudonym, which
// the node gathers from every custodian it may ask.
export async function loadRecords(session, patient, headers = {}) {
  return session.fhir(`Patient/$everything?${identifier(patient)}`, headers);
}

export const recordsSection = (id) => section("Records", id, h("div", { id: id + "-body", "aria-live": "polite" }));
