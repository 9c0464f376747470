// The clinician's view: find a patient by pseudonym (or the link the
// patient shows), request access, read the records once allowed, and break
// the glass in an emergency; and the organization's schedule (schedule.js).
import { request } from "./tx.js";
import { scheduleSection } from "./schedule.js";
import { fromHex } from "./proof.js";
import { findPatient, loadRecords, recordsView } from "./records.js";
import { act, field, form, GLASS_REASONS, h, PURPOSES, say, section } from "./ui.js";

const REASONS = [["referral", "Referral"], ["second_opinion", "Second opinion"], ["continuity_of_care", "Continuity of care"], ["emergency", "Emergency"], ["billing", "Billing"], ["research", "Research"], ["other", "Other"]];

// patientOf reads a pseudonym from an address or a patient's link.
function patientOf(s) {
  const m = String(s).match(/[0-9a-f]{40}/i);
  if (!m) throw new Error("Enter the patient's pseudonym: 40 hexadecimal characters, or the link they show you.");
  return m[0].toLowerCase();
}

export async function clinicianView({ main, session, params, signal }) {
  const result = h("div", { id: "read-result", "aria-live": "polite" });
  const find = field("Patient's pseudonym or link", "patient", { id: "patient", required: true, value: params.get("patient") ?? "", autocomplete: "off" });
  const patient = () => patientOf(find.querySelector("input").value);
  // found maps a pseudonym to the FHIR id its Patient search gave, so that
  // reads fan out to every custodian in one access each.
  const found = new Map();
  const findResult = h("div", { id: "find-result", "aria-live": "polite" });
  const findButton = h("button", { type: "button", id: "find-button", onclick: (ev) => act(ev.currentTarget, async () => {
    const p = patient();
    const res = await findPatient(session, p, { "X-Purpose-Of-Use": purpose.querySelector("select").value });
    if (res) found.set(p, res.id);
    findResult.replaceChildren(res
      ? h("p", { id: "found", class: "ok" }, h("span", { "aria-hidden": "true", text: "✓ " }), `Found: Patient/${res.id}`, res.gender ? `, ${res.gender}` : "", res.birthDate ? `, born ${res.birthDate}` : "", ". Reads gather the records of every custodian.")
      : h("p", { id: "not-found" }, "Their Patient record is not open to you (or not held here): reads ask this node's records by pseudonym."));
  }) }, "Find");

  const ask = form("Request access", [
    field("Record types", "types", { value: "Observation, Condition", required: true, hint: "FHIR resource types, separated by commas" }),
    field("Purpose", "purpose", { id: "request-purpose" }, PURPOSES),
    field("Reason", "reason", { id: "request-reason" }, REASONS),
    field("Days needed", "days", { type: "number", min: "1", max: "365", value: "30", required: true }),
  ], "Request access", async (fd) => {
    const ans = await session.send(request({
      patient: fromHex(patient()), scope: { types: fd.get("types").split(",").map((s) => s.trim()).filter(Boolean) },
      purpose: fd.get("purpose"), duration: Number(fd.get("days")) * 24 * 3600, reason: fd.get("reason"),
    }));
    const ev = ans.result?.events?.find((e) => e.type === "consent.requested");
    const id = ev?.attrs?.find((a) => a.key === "request")?.value ?? "";
    result.replaceChildren(h("p", { id: "request-sent", "data-request": id, text: `Request ${id} sent. The patient sees it now; read once they approve.` }));
    say("Access requested.");
  });

  const read = (headers, what) => async () => {
    result.replaceChildren(h("p", { text: `Reading (${what})…` }));
    try {
      const bundle = await loadRecords(session, patient(), headers, found.get(patient()));
      // A custodian releases only what the contract permits: an empty
      // answer is a refusal (or a patient with no records here).
      const held = (bundle.entry ?? []).filter((e) => e.resource && e.resource.resourceType !== "OperationOutcome");
      if (!held.length) {
        result.replaceChildren(h("p", { id: "read-denied", class: "error", role: "alert" }, h("span", { "aria-hidden": "true", text: "✗ " }),
          `No record is open to you (${what}): access refused, or none held.`), recordsView(bundle));
        return;
      }
      result.replaceChildren(h("p", { id: "read-ok", class: "ok" }, h("span", { "aria-hidden": "true", text: "✓ " }), `Read allowed (${what}): ${held.length} record${held.length === 1 ? "" : "s"}.`), recordsView(bundle));
    } catch (e) {
      result.replaceChildren(h("p", { id: "read-denied", class: "error", role: "alert" }, h("span", { "aria-hidden": "true", text: "✗ " }), `Read refused: ${e.message}`));
    }
  };
  const purpose = field("Purpose of this read", "read-purpose", { id: "read-purpose" }, PURPOSES.filter((p) => p[0] !== "ETREAT"));
  const readButton = h("button", { type: "button", id: "read", onclick: (ev) => act(ev.currentTarget, () => read({ "X-Purpose-Of-Use": purpose.querySelector("select").value }, "under a grant")()) }, "Read records");

  const confirmBox = h("input", { type: "checkbox", id: "glass-confirm", required: true });
  const glass = form("Break the glass", [
    h("p", { text: "Only in an emergency, when the patient cannot consent. The read is allowed at once, flagged on the ledger, shown to the patient and queued for your privacy officer's review." }),
    field("Reason (a code: the ledger carries no free text)", "reason", { id: "glass-reason", required: true }, [["", "Choose the reason"], ...GLASS_REASONS]),
    h("div", { class: "field check" }, confirmBox, h("label", { for: "glass-confirm", text: "This is an emergency and I take responsibility for this read." })),
  ], "Break the glass and read", async (fd) => {
    await read({ "X-Purpose-Of-Use": "ETREAT", "X-Break-Glass": "true", "X-Break-Glass-Reason": fd.get("reason") }, "break the glass")();
  }, { id: "glass-form" });

  main.append(
    section("Find a patient", "find", find, h("p", { class: "hint", text: "Finding reads their Patient record, which the ledger records like any read." }), findButton, findResult),
    section("Request access", "ask", ask),
    section("Read", "read-section", purpose, readButton, result),
    h("section", { id: "glass", class: "glass", "aria-labelledby": "glass-h" },
      h("h3", { id: "glass-h" }, h("span", { "aria-hidden": "true", text: "⚠ " }), "Emergency access (break the glass)"), glass),
    scheduleSection(session, signal),
  );
}
