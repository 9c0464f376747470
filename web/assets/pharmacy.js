// The pharmacy and trading-partner view (members of pharma and regulator
// organizations): verify a product identifier as DSCSA asks (typed, or a
// GS1 Digital Link or barcode text pasted or scanned), see the item's
// journey on the ledger, receive and ship (an EPCIS event captured at this
// node, for its own organization), search EPCIS events, and look up a
// lot's recall.
import { act, field, form, h, section, table } from "./ui.js";

const GS = "\u001d"; // the FNC1 separator of a GS1 barcode's text

// AIs are the GS1 application identifiers a package's barcode carries:
// GTIN, expiry and the variable-length lot and serial.
const AIS = { "01": { key: "gtin", len: 14 }, "17": { key: "expiry", len: 6 }, "10": { key: "lot" }, "21": { key: "serial" } };

// parseIdentifier reads a product identifier from a GS1 Digital Link URI
// (https://id.gs1.org/01/…/21/…?10=…&17=…), an element string
// ((01)…(21)…(10)…(17)…), a barcode's raw text (AIs run together, variable
// fields ended by FNC1: the GS character, or "<GS>" or a space where a
// keyboard lost it) or an SGTIN EPC URN. It returns { gtin, serial, lot,
// expiry } with what it found, or throws.
export function parseIdentifier(text) {
  const s = text.trim().replace(/^\]d2|^\]C1|^\]Q3/, "");
  if (!s) throw new Error("Enter or scan an identifier.");
  if (/^https?:/i.test(s)) return fromDigitalLink(s);
  if (s.startsWith("urn:epc:id:sgtin:")) return fromURN(s);
  if (s.startsWith("(")) {
    const out = {};
    for (const m of s.matchAll(/\((\d{2,4})\)([^(]*)/g)) if (AIS[m[1]]) out[AIS[m[1]].key] = m[2].trim();
    return check(out);
  }
  return check(fromBarcode(s.replaceAll("<GS>", GS).replace(/\s+/g, GS)));
}

function fromDigitalLink(s) {
  const u = new URL(s);
  const seg = u.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const out = {};
  for (let i = seg.indexOf("01"); i >= 0 && i + 1 < seg.length; i += 2) if (AIS[seg[i]]) out[AIS[seg[i]].key] = seg[i + 1];
  for (const [ai, v] of u.searchParams) if (AIS[ai] && !out[AIS[ai].key]) out[AIS[ai].key] = v;
  return check(out);
}

function fromBarcode(s) {
  const out = {};
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) { i++; continue; }
    const ai = AIS[s.slice(i, i + 2)];
    if (!ai) throw new Error(`The barcode text has an application identifier this page does not read at "${s.slice(i, i + 6)}".`);
    i += 2;
    const end = ai.len ? i + ai.len : (s.indexOf(GS, i) < 0 ? s.length : s.indexOf(GS, i));
    out[ai.key] = s.slice(i, end);
    i = end;
  }
  return out;
}

// fromURN converts urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial.
function fromURN(s) {
  const [cp, ref, serial] = s.slice("urn:epc:id:sgtin:".length).split(".");
  if (!cp || !ref || serial === undefined || cp.length + ref.length !== 13) throw new Error("The SGTIN URN is CompanyPrefix.IndicatorItemRef.Serial, 13 digits before the serial.");
  const body = ref[0] + cp + ref.slice(1);
  return check({ gtin: body + checkDigit(body), serial: decodeURIComponent(serial) });
}

export function checkDigit(body) {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10);
}

function check(id) {
  if (!id.gtin || !id.serial) throw new Error("The identifier needs a GTIN (01) and a serial number (21).");
  return id;
}

// gtin14 pads a GTIN-8, -12 or -13 to 14 digits and checks its check digit.
function gtin14(g) {
  const s = g.trim();
  if (!/^(\d{8}|\d{12,14})$/.test(s)) throw new Error("A GTIN is 8, 12, 13 or 14 digits.");
  const p = s.padStart(14, "0");
  if (checkDigit(p.slice(0, 13)) !== p[13]) throw new Error(`The GTIN's check digit is wrong (for ${p.slice(0, 13)} it is ${checkDigit(p.slice(0, 13))}).`);
  return p;
}

// VERDICTS say what each answer means to the person holding the package.
// kind: ok, bad (do not dispense) or warn; the symbol and words carry the
// meaning, colour only repeats it.
const VERDICTS = {
  "": ["ok", "✓", "Verified", "The brand owner commissioned this serial, and the lot and expiry asked match."],
  unknown_identifier: ["bad", "✗", "Not verified: unknown identifier", "No such serial of this GTIN was commissioned by its brand owner. Do not dispense: quarantine the package and investigate it as suspect."],
  lot_mismatch: ["bad", "✗", "Not verified: the lot does not match", "The serial exists, but under another lot than the one on the package."],
  expiry_mismatch: ["bad", "✗", "Not verified: the expiry does not match", "The serial exists, but with another expiry than the one on the package."],
  lot_expiry_mismatch: ["bad", "✗", "Not verified: lot and expiry do not match", "The serial exists, but neither its lot nor its expiry is the one on the package."],
  recalled: ["bad", "⚠", "Recalled", "The brand owner recalled this lot. Do not dispense: set the package aside for the recall."],
  quarantined: ["bad", "⚠", "Quarantined", "The item is quarantined (a cold-chain excursion or a hold) until its brand owner releases it. Do not dispense."],
};
const SUSPECT = ["bad", "⚠", "Suspect: possible counterfeit or clone", "This serial already left the supply chain (%s). A package bearing it now is suspect: do not dispense, quarantine it and notify the brand owner."];

function verdict(a) {
  const reason = a.reason ?? "";
  let [kind, sym, title, text] = VERDICTS[reason] ?? SUSPECT;
  if (!VERDICTS[reason]) text = text.replace("%s", a.status || a.reason);
  const lines = [h("p", { class: "verdict-text", text })];
  if (a.data.additionalInfo === "Expired") lines.push(h("p", { class: "bad", text: "⚠ Expired: the expiry asked is past. Do not dispense." }));
  lines.push(h("dl", { class: "facts" },
    h("dt", { text: "GTIN" }), h("dd", { text: a.gtin }), h("dt", { text: "Serial" }), h("dd", { text: a.serialNumber }),
    a.status ? [h("dt", { text: "Status" }), h("dd", { text: a.status.replace("_", " ") })] : null,
    a.brandOwner ? [h("dt", { text: "Brand owner" }), h("dd", { text: a.brandOwner })] : null,
    a.data.verificationFailureReason ? [h("dt", { text: "Failure reason (GS1)" }), h("dd", {}, h("code", { text: a.data.verificationFailureReason }))] : null,
    h("dt", { text: "Answered by" }), h("dd", { text: `${a.responder}, from the ledger at block ${a.height}` })));
  return h("div", { id: "verdict", class: `verdict ${kind}`, "data-reason": reason, "data-verified": String(a.data.verified) },
    h("h4", {}, h("span", { "aria-hidden": "true", text: sym + " " }), title), lines);
}

const yyyymmdd = (n) => (n ? `${String(n).slice(0, 4)}-${String(n).slice(4, 6)}-${String(n).slice(6, 8)}` : "");
const cbv = (uri) => (uri ?? "").replace(/^https:\/\/ref\.gs1\.org\/cbv\/(BizStep|Disp)-/, "").replace(/^urn:epcglobal:cbv:(bizstep|disp):/, "");

// journeyView shows an item's (or a case's) state and the events that
// named it, each with its CBV 2.0 hash ID.
function journeyView(j, open) {
  const facts = h("dl", { class: "facts" },
    h("dt", { text: "Identifier" }), h("dd", {}, h("code", { text: j.epc })),
    h("dt", { text: "Status" }), h("dd", { text: j.status.replace("_", " ") }),
    j.holder ? [h("dt", { text: "Holder" }), h("dd", { text: j.holder })] : null,
    j.destination ? [h("dt", { text: "On its way to" }), h("dd", { text: j.destination })] : null,
    j.lot ? [h("dt", { text: "Lot" }), h("dd", { text: j.lot })] : null,
    j.expiry ? [h("dt", { text: "Expiry" }), h("dd", { text: yyyymmdd(j.expiry) })] : null,
    j.parent ? [h("dt", { text: "Packed in" }), h("dd", {}, h("button", { type: "button", class: "link", id: "open-parent", onclick: () => open(j.parent) }, `${j.parent} (show its journey)`))] : null,
    j.children?.length ? [h("dt", { text: "Contains" }), h("dd", { text: `${j.children.length} item${j.children.length === 1 ? "" : "s"}` })] : null);
  // A list, not a table: each event's hash ID is long, and a list reads
  // as well on a phone as on a desktop.
  const events = j.events.map((e) => h("li", { class: "journey-event" },
    h("p", {}, h("strong", { text: cbv(e.bizStep) || "(no step)" }), ` · ${e.type}${e.action ? " " + e.action : ""}${e.disposition ? " · " + cbv(e.disposition) : ""}`),
    h("p", {}, `Captured by ${e.org}, block ${e.height}`, e.declaredBy ? h("span", { class: "bad", text: " · corrected by an error declaration" }) : null),
    h("p", {}, h("span", { class: "visually-hidden", text: "Event hash ID: " }), h("code", { class: "wrap hash", text: e.eventID }))));
  return h("div", { class: "journey", "data-epc": j.epc }, h("h4", { text: `Journey of ${j.epc}` }), facts,
    events.length ? h("ol", { class: "events" }, events) : h("p", { class: "empty", text: "No event names it." }));
}

// eventRow summarizes one event of a query answer: its body, or the
// chain's summary when the body is withheld from the asker.
function eventView(e) {
  const withheld = e["careledger:bodyWithheld"] === "true";
  const epcs = [...(e.epcList ?? []), ...(e.childEPCs ?? []), ...(e.inputEPCList ?? []), ...(e.outputEPCList ?? []), e.parentID].filter(Boolean);
  return h("li", { class: withheld ? "event withheld" : "event" },
    h("p", {}, h("strong", { text: `${cbv(e.bizStep) || "(no step)"}` }), ` · ${e.type}${e.action ? " " + e.action : ""}`, e.disposition ? ` · ${cbv(e.disposition)}` : "",
      e.eventTime ? ` · ${e.eventTime}` : ""),
    h("p", {}, "Event ID ", h("code", { class: "wrap", text: e.eventID ?? "" })),
    withheld
      ? h("p", { class: "hint" }, `Body not shown: captured by ${e["careledger:capturedBy"]}, whose node keeps it and shows it to the parties the event names and to regulators. This is the chain's summary.`)
      : [epcs.length ? h("p", {}, "EPCs: ", epcs.map((x, i) => [i ? ", " : "", h("code", { class: "wrap", text: x })])) : null,
        h("details", {}, h("summary", { text: "Full event" }), h("pre", { class: "wrap", text: JSON.stringify(e, null, 2) }))]);
}

// epcOf turns what the searcher typed (an identifier in any form the
// verify box reads, an SSCC, or an EPC URI) into an EPC the query matches.
function epcOf(s) {
  const t = s.trim();
  if (/^\d{18}$/.test(t)) return `https://id.gs1.org/00/${t}`;
  if (/^(urn:|https?:)/.test(t) && !/\/01\/|^urn:epc:id:sgtin:/.test(t)) return t;
  const id = parseIdentifier(t);
  return `https://id.gs1.org/01/${gtin14(id.gtin)}/21/${encodeURIComponent(id.serial)}`;
}

// captureEvent posts one EPCIS event to /epcis/capture and waits for its
// job; it returns the job, or throws its problem.
async function captureEvent(session, event) {
  await session.fresh();
  const doc = { "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], type: "EPCISDocument", schemaVersion: "2.0",
    creationDate: new Date().toISOString(), epcisBody: { eventList: [event] } };
  const res = await fetch("/epcis/capture", { method: "POST", body: JSON.stringify(doc),
    headers: { Authorization: "Bearer " + session.token, "Content-Type": "application/ld+json", Accept: "application/json" } });
  if (res.status !== 202) {
    const p = await res.json().catch(() => ({}));
    throw new Error(p.detail || p.title || `HTTP ${res.status}`);
  }
  const location = res.headers.get("Location");
  for (let i = 0; i < 150; i++) {
    const job = await session.get(location);
    if (!job.running) {
      if (!job.success) throw new Error(job.errors?.map((e) => e.detail || e.title).join("; ") || "The capture failed.");
      return job;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("The capture is still running; look for it in the events below.");
}

// zoneOffset is the browser's UTC offset as EPCIS writes it (+01:00).
function zoneOffset(d) {
  const m = -d.getTimezoneOffset();
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${m < 0 ? "-" : "+"}${pad(m / 60)}:${pad(m % 60)}`;
}

const STEPS = ["commissioning", "packing", "unpacking", "shipping", "receiving", "dispensing", "decommissioning", "destroying", "inspecting", "holding", "storing", "retail_selling"];

export async function pharmacyView({ main, session, params }) {
  const org = session.account.org ? await session.get(`/v1/orgs/${encodeURIComponent(session.account.org)}`).catch(() => null) : null;
  if (!org || (org.type !== "pharma" && org.type !== "regulator")) {
    main.append(h("p", { class: "warning", role: "note", text: "Verification, journeys and recalls are for members of pharma and regulator organizations: the node will refuse this account's requests." }));
  }

  // Verify.
  const answer = h("div", { id: "verify-answer", "aria-live": "polite" });
  const journey = h("div", { id: "journey" });
  const scan = field("Scan or paste (GS1 Digital Link, barcode text or EPC URN)", "scan", { id: "scan", autocomplete: "off", value: params.get("id") ?? "",
    hint: "For example https://id.gs1.org/01/09521234543213/21/PK0001?10=DEMO-LOT1&17=281231, or (01)09521234543213(21)PK0001(10)DEMO-LOT1(17)281231" });
  const fields = [
    field("GTIN", "gtin", { id: "v-gtin", required: true, inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{8,14}" }),
    field("Serial number", "serial", { id: "v-serial", required: true, autocomplete: "off", maxlength: "20" }),
    field("Lot (optional)", "lot", { id: "v-lot", autocomplete: "off", maxlength: "20" }),
    field("Expiry (optional, YYMMDD as printed)", "expiry", { id: "v-expiry", autocomplete: "off", inputmode: "numeric", pattern: "[0-9]{6}" }),
  ];
  const input = (id) => main.querySelector("#" + id);
  const fill = () => {
    const id = parseIdentifier(input("scan").value);
    input("v-gtin").value = id.gtin; input("v-serial").value = id.serial;
    input("v-lot").value = id.lot ?? ""; input("v-expiry").value = id.expiry ?? "";
  };
  const openJourney = async (epc) => {
    try {
      journey.replaceChildren(journeyView(await session.get(`${epc}?linkType=gs1:traceability`), (p) => openJourney(p)));
    } catch (e) {
      journey.replaceChildren(h("p", { class: "hint", id: "no-journey", text: e.status === 404 ? `The ledger has no journey of ${epc}.` : `Journey: ${e.message}` }));
    }
  };
  const verify = form("Verify a product identifier", [
    scan, h("button", { type: "button", id: "read-scan", class: "secondary", onclick: (ev) => act(ev.currentTarget, async () => fill()) }, "Read into the fields below"),
    h("fieldset", {}, h("legend", { text: "Product identifier" }), fields),
  ], "Verify", async (fd) => {
    if (input("scan").value.trim() && !fd.get("gtin")) fill();
    const gtin = gtin14(input("v-gtin").value);
    const serial = input("v-serial").value.trim();
    const q = new URLSearchParams();
    if (input("v-lot").value.trim()) q.set("10", input("v-lot").value.trim());
    if (input("v-expiry").value.trim()) q.set("17", input("v-expiry").value.trim());
    const path = `/01/${gtin}/21/${encodeURIComponent(serial)}`;
    answer.replaceChildren(h("p", { text: "Asking the ledger…" }));
    answer.replaceChildren(verdict(await session.get(`${path}${q.size ? "?" + q : ""}`)));
    await openJourney(path);
  }, { id: "verify-form" });
  // A scan (a scanner types and presses Enter) submits the form; fill the
  // fields from it first, whatever they held.
  scan.querySelector("input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { try { fill(); } catch { /* the submission reports it */ } }
  });

  // Search EPCIS events.
  const found = h("div", { id: "events-result", "aria-live": "polite" });
  const search = form("Search EPCIS events", [
    field("Item or case (an identifier as above, an SSCC or an EPC URI)", "epc", { id: "q-epc", autocomplete: "off" }),
    field("Business step", "step", { id: "q-step" }, [["", "Any step"], ...STEPS.map((s) => [s, s.replace("_", " ")])]),
    field("Event time from", "from", { id: "q-from", type: "datetime-local" }),
    field("Event time before", "to", { id: "q-to", type: "datetime-local" }),
  ], "Search events", async (fd) => {
    const q = new URLSearchParams({ perPage: "50" });
    if (fd.get("epc").trim()) q.set("MATCH_anyEPC", epcOf(fd.get("epc")));
    if (fd.get("step")) q.set("EQ_bizStep", fd.get("step"));
    if (fd.get("from")) q.set("GE_eventTime", new Date(fd.get("from")).toISOString());
    if (fd.get("to")) q.set("LT_eventTime", new Date(fd.get("to")).toISOString());
    const doc = await session.get(`/epcis/events?${q}`);
    const events = doc.epcisBody?.queryResults?.resultsBody?.eventList ?? [];
    const withheld = events.filter((e) => e["careledger:bodyWithheld"] === "true").length;
    found.replaceChildren(
      h("p", { id: "events-count", text: `${events.length} event${events.length === 1 ? "" : "s"}${withheld ? `, ${withheld} with the body withheld` : ""}${events.length === 50 ? " (the first 50)" : ""}.` }),
      events.length ? h("ol", { class: "events" }, events.map(eventView)) : null);
  }, { id: "events-form" });

  // Receive and ship: one event captured at this node for its own
  // organization (the node refuses members of other organizations).
  const moved = h("div", { id: "move-result", "aria-live": "polite" });
  const move = form("Receive or ship", [
    field("What happens", "step", { id: "m-step" }, [["receiving", "Receiving: it arrived here"], ["shipping", "Shipping: it leaves here"]]),
    field("Items or cases, one per line", "epcs", { id: "m-epcs", type: "textarea", rows: "3", required: true,
      hint: "Each as you would scan it: a Digital Link, an element string, an SSCC (18 digits) or an EPC URN" }),
    field("From: the shipper's owning party", "from", { id: "m-from", required: true, autocomplete: "off", hint: "Its PGLN or SGLN, such as urn:epc:id:pgln:0614141.00000" }),
    field("To: the receiver's owning party", "to", { id: "m-to", required: true, autocomplete: "off" }),
  ], "Record on the ledger", async (fd) => {
    const epcs = fd.get("epcs").split("\n").map((x) => x.trim()).filter(Boolean).map(epcOf);
    const receiving = fd.get("step") === "receiving";
    const now = new Date();
    const event = { type: "ObjectEvent", eventTime: now.toISOString(), eventTimeZoneOffset: zoneOffset(now), epcList: epcs, action: "OBSERVE",
      bizStep: fd.get("step"), disposition: receiving ? "in_progress" : "in_transit",
      sourceList: [{ type: "owning_party", source: fd.get("from").trim() }], destinationList: [{ type: "owning_party", destination: fd.get("to").trim() }] };
    moved.replaceChildren(h("p", { text: "Capturing…" }));
    try {
      await captureEvent(session, event);
      moved.replaceChildren(h("p", { id: "move-ok", class: "ok" }, h("span", { "aria-hidden": "true", text: "✓ " }),
        `${receiving ? "Receipt" : "Shipment"} of ${epcs.length} item${epcs.length === 1 ? "" : "s"} recorded on the ledger.`));
    } catch (e) {
      moved.replaceChildren(h("p", { id: "move-refused", class: "error", role: "alert" }, h("span", { "aria-hidden": "true", text: "✗ " }), `Not recorded: ${e.message}`));
    }
  }, { id: "move-form" });

  // Recall lookup.
  const lotResult = h("div", { id: "lot-result", "aria-live": "polite" });
  const recall = form("Recall lookup", [
    field("GTIN", "gtin", { id: "r-gtin", required: true, inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{8,14}" }),
    field("Lot", "lot", { id: "r-lot", required: true, autocomplete: "off", maxlength: "20" }),
  ], "Look up the lot", async (fd) => {
    const base = `/01/${gtin14(fd.get("gtin"))}/10/${encodeURIComponent(fd.get("lot").trim())}`;
    const first = await session.get(base);
    const units = h("tbody");
    const addUnits = (l) => units.append(...l.units.map((u) => h("tr", {}, h("td", { text: u.serialNumber }), h("td", { text: u.status.replace("_", " ") }), h("td", { text: u.holder ?? "—" }))));
    addUnits(first);
    let token = first.nextPageToken;
    const more = h("button", { type: "button", id: "more-units", hidden: !token, onclick: (ev) => act(ev.currentTarget, async () => {
      const l = await session.get(`${base}?nextPageToken=${encodeURIComponent(token)}`);
      addUnits(l); token = l.nextPageToken; more.hidden = !token;
    }) }, "More units");
    const state = !first.known
      ? h("p", { id: "lot-state", class: "hint", text: `The ledger knows no unit of lot ${first.lot} of ${first.gtin}.` })
      : first.recalled
        ? h("p", { id: "lot-state", class: "bad" }, h("span", { "aria-hidden": "true", text: "⚠ " }), `Recalled at block ${first.recalledAt}. Every unit below reports recalled while live; dispensing is refused.`)
        : h("p", { id: "lot-state", class: "ok" }, h("span", { "aria-hidden": "true", text: "✓ " }), "Not recalled.");
    lotResult.replaceChildren(state,
      table(`Holders of lot ${first.lot}`, ["Organization", "Live units held"], first.holders.map((x) => [x.org, String(x.items)])),
      first.units.length ? h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Units of the lot" },
        h("table", { id: "lot-units" }, h("caption", { text: `Units of lot ${first.lot}` }),
          h("thead", {}, h("tr", {}, ["Serial", "Status", "Holder"].map((t) => h("th", { scope: "col", text: t })))), units)) : null,
      more);
  }, { id: "recall-form" });

  main.append(
    section("Verify a product identifier", "verify-product", h("p", { class: "hint", text: "Every verification is answered from the ledger and recorded on it as a receipt naming you." }), verify, answer, journey),
    section("Receive and ship", "move", h("p", { class: "hint", text: "Records an EPCIS event at this node for your organization: only the holder may ship, and a receipt must match a shipment to you. Its body stays here." }), move, moved),
    section("Recall lookup", "recall", recall, lotResult),
    section("EPCIS events", "epcis-events", h("p", { class: "hint", text: "Events this node holds or the chain records. A body is shown to the parties an event names and to regulators; others see the chain's summary." }), search, found),
  );
  if (params.get("id")) { fill(); verify.requestSubmit(); }
}
