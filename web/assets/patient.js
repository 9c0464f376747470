// The patient's view: access requests to answer as they arrive, grants,
// the verified timeline of who saw what, the accounting of disclosures,
// records, care teams, appointments, rewards (rewards.js) and delegates.
import { answer, grant, revoke, scheduleBook, scheduleCancel, setDelegate, setTeam } from "./tx.js";
import { fromHex, verifyReport } from "./proof.js";
import { svg } from "./qr.js";
import { findPatient, loadRecords, recordsSection, recordsView } from "./records.js";
import { rewardsSection, showRewards } from "./rewards.js";
import { act, field, form, glassReasonName, h, mark, PURPOSES, purposeName, save, say, section, short, table, when } from "./ui.js";

const day = 24 * 3600;

export async function patientView({ main, session, signal }) {
  const me = session.account.address;
  const link = `${location.origin}/#/clinician?patient=${me}`;
  main.append(
    section("Your account", "account",
      h("p", {}, "Your pseudonym (no name is on the ledger): ", h("code", { id: "patient-address", text: me })),
      h("p", {}, "To let a clinician find you, show them this link or its QR code: ", h("a", { id: "patient-link", class: "wrap", href: link, text: link })),
      svg(link, "QR code of your link for clinicians"),
      h("p", { class: "hint", text: "The link names only your pseudonym; a clinician still needs your grant, or an emergency, to read anything." })),
    section("Access requests", "requests", h("p", { class: "hint", text: "Requests appear here as they arrive." }),
      h("ul", { id: "request-list", "aria-live": "assertive", "aria-relevant": "additions" })),
    section("Grants", "grants", h("div", { id: "grant-table" }), grantForm(session)),
    section("Care teams", "teams", h("p", { class: "hint", text: "Grant a team once: whoever is on it when your records are read is covered, and whoever leaves it loses access at once." }),
      h("div", { id: "team-table" }), teamForm(session)),
    section("Who saw your records", "timeline",
      h("p", {}, h("button", { type: "button", id: "download-json", onclick: (ev) => act(ev.currentTarget, () => download(session, "json")) }, "Download the accounting of disclosures (JSON, signed)"),
        " ", h("button", { type: "button", id: "download-csv", onclick: (ev) => act(ev.currentTarget, () => download(session, "csv")) }, "Download as CSV"),
        " ", h("button", { type: "button", id: "refresh-timeline", onclick: (ev) => act(ev.currentTarget, () => showTimeline(session)) }, "Refresh")),
      h("div", { id: "timeline-body", "aria-live": "polite" })),
    recordsSection("records"),
    section("Explanations of benefits", "eobs",
      h("p", {}, h("button", { type: "button", id: "load-eobs", onclick: (ev) => act(ev.currentTarget, () => showEOBs(session)) }, "Show what your plan paid")),
      h("div", { id: "eob-table", "aria-live": "polite" })),
    section("Appointments", "appointments",
      h("p", {}, "Your balance: ", h("strong", { id: "balance", text: "…" }), h("span", { class: "hint", text: " (deposits are held from it while a booking lasts)" })),
      h("div", { id: "schedule-choices" }),
      form("Find open slots", [
        field("Provider", "provider", { required: true, hint: "Its identifier, such as mercy-hospital" }),
        field("Schedule", "schedule", { required: true, hint: "The schedule's identifier, such as gp" }),
      ], "Show slots", async (fd) => {
        slotQuery = { provider: fd.get("provider").trim(), schedule: fd.get("schedule").trim() };
        await showSlots(session);
      }, { id: "slot-search" }),
      h("div", { id: "slot-table", "aria-live": "polite" })),
    rewardsSection(session, () => Promise.all([showBalance(session), showRewards(session)])),
    section("Delegates", "delegates", h("div", { id: "delegate-table" }), delegateForm(session)),
  );
  const records = document.getElementById("records-body");
  records.append(h("button", { type: "button", id: "load-records", onclick: (ev) => act(ev.currentTarget, async () => {
    records.replaceChildren(recordsView(await loadRecords(session, me, await session.delegation())));
  }) }, "Show my records"));
  session.stream(`/v1/events?account=${me}`, (e) => onEvent(session, e), signal);
  await Promise.all([showGrants(session), showPending(session), showTimeline(session), showDelegates(session), showTeams(session), showBalance(session), showRewards(session), showScheduleChoices(session)]);
}

function onEvent(session, e) {
  const a = Object.fromEntries((e.attrs ?? []).map((x) => [x.key, x.value]));
  switch (e.type) {
    case "consent.requested": addRequest(session, { id: a.request, requester: a.requester, org: a.org, purpose: a.purpose, reason: a.reason, duration: a.duration }); say(`New access request from ${a.org}.`); break;
    case "consent.answered": document.getElementById(`request-${a.request}`)?.remove(); showGrants(session); break;
    case "consent.granted": case "consent.revoked": showGrants(session); break;
    case "consent.team": showTeams(session); break;
    case "consent.access": case "consent.break_glass": setTimeout(() => showTimeline(session), 1500); break;
    default:
      if (/^(ledger|schedule|rewards)\./.test(e.type)) { showBalance(session); showSlots(session); showRewards(session); }
  }
}

// showPending lists requests still pending, from the account's audit
// events, so that requests made while the page was closed show too.
async function showPending(session) {
  const me = session.account.address;
  const { events } = await session.get(`/v1/audit/events?account=${me}&limit=1000`);
  for (const { event: ev } of events) {
    if (ev.event.type !== "consent.requested") continue;
    const a = Object.fromEntries(ev.event.attrs.map((x) => [x.key, x.value]));
    const q = await session.get(`/v1/requests/${a.request}`).catch(() => null);
    if (q?.status === "pending") addRequest(session, { id: a.request, requester: a.requester, org: a.org, purpose: a.purpose, reason: a.reason, duration: a.duration });
  }
}

function addRequest(session, q) {
  const list = document.getElementById("request-list");
  if (!list || document.getElementById(`request-${q.id}`)) return;
  const days = Math.round(Number(q.duration) / day * 10) / 10;
  const decide = (approve) => (ev) => act(ev.currentTarget, async () => {
    await session.send(answer(Number(q.id), approve));
    document.getElementById(`request-${q.id}`)?.remove();
    say(`Request ${q.id} ${approve ? "approved" : "denied"}.`);
    await showGrants(session);
  });
  list.append(h("li", { id: `request-${q.id}`, class: "request" },
    h("p", {}, h("strong", { text: q.org || "A member" }), ` (${short(q.requester)}) asks to read your records for `,
      h("strong", { text: purposeName(q.purpose) }), `, reason: ${q.reason.replaceAll("_", " ")}, for ${days} days.`),
    h("button", { type: "button", class: "approve", "data-request": q.id, onclick: decide(true) }, "Approve"), " ",
    h("button", { type: "button", class: "deny", "data-request": q.id, onclick: decide(false) }, "Deny")));
}

const granteeText = ({ grantee: e }) => (e.team ? `care team ${e.team}` : e.member && !/^0+$/.test(e.member) ? `member ${short(e.member)}` : `${e.role ? e.role + "s of " : ""}${e.org}`);
const scopeText = (s) => [s.types?.join(", ") || "all types", s.categories?.length ? `categories ${s.categories.join(", ")}` : "", s.records?.length ? `records ${s.records.join(", ")}` : ""].filter(Boolean).join("; ");
const expiry = (t) => (t ? when(t * 1000) : "no end");

async function showGrants(session) {
  const el = document.getElementById("grant-table");
  if (!el) return;
  const { grants } = await session.get(`/v1/patients/${session.account.address}/grants`);
  const rows = grants.slice().reverse().map((g) => [String(g.id), granteeText(g), scopeText(g.scope), g.purposes.map(purposeName).join(", "), expiry(g.not_after),
    g.revoked ? mark(false, "", `revoked at block ${g.revoked}`) : mark(true, "active", ""),
    g.revoked ? "" : h("button", { type: "button", class: "revoke", "data-grant": g.id, "aria-label": `Revoke grant ${g.id}`, onclick: (ev) => act(ev.currentTarget, async () => {
      await session.send(revoke(g.id));
      say(`Grant ${g.id} revoked.`);
      await showGrants(session);
    }) }, "Revoke")]);
  el.replaceChildren(table("Your grants", ["No.", "Who", "What", "Why", "Until", "Status", ""], rows));
}

function grantForm(session) {
  return h("details", {}, h("summary", { text: "Grant access" }), form("Grant access", [
    field("Care team", "team", { id: "grant-team" }, [["", "None: an organization"]]),
    field("Organization", "org", { hint: "Its identifier, such as mercy-hospital; not needed for a care team" }),
    field("Role", "role", {}, [["", "Any member"], ["physician", "Physicians"], ["nurse", "Nurses"], ["pharmacist", "Pharmacists"], ["researcher", "Researchers"], ["claims_agent", "Claims agents"]]),
    field("Record types", "types", { required: true, value: "Observation, Condition", hint: "FHIR resource types, separated by commas" }),
    field("Purpose", "purpose", {}, PURPOSES),
    field("Days valid", "days", { type: "number", min: "1", max: "3650", value: "30", required: true }),
  ], "Grant", async (fd) => {
    const now = Math.floor(Date.now() / 1000);
    const team = Number(fd.get("team"));
    const org = fd.get("org").trim();
    if (!team && !org) throw new Error("Name an organization, or choose a care team.");
    await session.send(grant({
      patient: fromHex(session.account.address),
      grantee: team ? { team } : { org, role: fd.get("role") },
      scope: { types: fd.get("types").split(",").map((s) => s.trim()).filter(Boolean) },
      purposes: [fd.get("purpose")], notBefore: 0, notAfter: now + Number(fd.get("days")) * day,
    }));
    say("Access granted.");
    await showGrants(session);
  }));
}

// showTimeline shows the accounting of disclosures, every entry checked
// here against its inclusion proof and the signed block header.
async function showTimeline(session) {
  const el = document.getElementById("timeline-body");
  if (!el) return;
  const rep = await session.get(`/v1/audit/disclosures/${session.account.address}?all=true`);
  const { validators } = await session.get("/v1/validators");
  const checks = await verifyReport(rep, validators);
  const entries = rep.entries.map((e, i) => ({ e, c: checks[i] })).reverse();
  if (!entries.length) { el.replaceChildren(h("p", { class: "empty", text: "Nobody has read your records yet." })); return; }
  el.replaceChildren(h("ol", { class: "timeline", reversed: true }, entries.map(({ e, c }) => h("li", { class: e.break_glass ? "glass" : "", "data-access": e.access },
    e.break_glass ? h("p", { class: "glass-label" }, h("span", { "aria-hidden": "true", text: "⚠ " }), h("strong", { text: "Emergency access (break the glass): flagged for review" }),
      " · reason: ", h("span", { class: "glass-reason", "data-reason": e.glass_reason ?? "", text: glassReasonName(c.event?.attrs.glass_reason ?? e.glass_reason) })) : null,
    h("p", {}, h("time", { datetime: e.time, text: when(e.time) }), " · ",
      e.recipient === session.account.address ? h("strong", { text: "You" }) : [h("strong", { text: e.recipient_org || short(e.recipient) }), ` (${short(e.recipient)})`],
      ` at ${e.custodian}, for ${purposeName(e.purpose)}: ${e.description}`),
    h("p", { class: "proof" }, mark(c.ok, `Verified in this browser: in the log of block ${rep.height}, signed by the validators`, `Not verified: ${c.reason}`))))));
}

async function download(session, format) {
  const me = session.account.address;
  const blob = await session.download(`/v1/audit/disclosures/${me}?all=true${format === "csv" ? "&format=csv" : ""}`);
  save(blob, `disclosures-${me.slice(0, 8)}.${format}`);
  say("The accounting of disclosures is downloaded.");
}

const splitList = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
const addresses = (s) => splitList(s).map((a) => {
  if (!/^[0-9a-f]{40}$/.test(a)) throw new Error(`${a} is not an account address (40 hexadecimal characters).`);
  return fromHex(a);
});

// showTeams lists the patient's care teams, each with a form to change
// who is on it, and offers them to the grant form.
async function showTeams(session) {
  const el = document.getElementById("team-table");
  if (!el) return;
  const { teams } = await session.get(`/v1/patients/${session.account.address}/teams`);
  const choice = document.getElementById("grant-team");
  choice?.replaceChildren(h("option", { value: "", text: "None: an organization" }), ...teams.map((t) => h("option", { value: t.id, text: `Care team ${t.id}` })));
  el.replaceChildren(table("Your care teams", ["No.", "Accounts", "Organizations", ""], teams.map((t) => [String(t.id),
    t.members?.length ? t.members.map(short).join(", ") : "none", t.orgs?.length ? t.orgs.join(", ") : "none",
    h("details", {}, h("summary", { text: `Change team ${t.id}` }), teamFields(session, `Change care team ${t.id}`, "Save", t)),
  ])));
}

function teamForm(session) {
  return h("details", { id: "new-team" }, h("summary", { text: "Form a care team" }), teamFields(session, "Form a care team", "Form team", null));
}

// teamFields is the form that forms team t (null: a new one) or replaces
// who is on it.
function teamFields(session, label, button, t) {
  return form(label, [
    field("Accounts", "members", { value: (t?.members ?? []).join(", "), hint: "Addresses of 40 hexadecimal characters, separated by commas: your doctor, a nurse, a caregiver" }),
    field("Organizations", "orgs", { value: (t?.orgs ?? []).join(", "), hint: "Identifiers, separated by commas: every member of each is on the team" }),
  ], button, async (fd) => {
    await session.send(setTeam({
      patient: fromHex(session.account.address), team: t?.id ?? 0,
      members: addresses(fd.get("members")), orgs: splitList(fd.get("orgs")),
    }));
    say(t ? `Care team ${t.id} changed.` : "Care team formed.");
    await showTeams(session);
  }, { class: "team-form" });
}

const money = (minor) => (Number(minor) / 100).toFixed(2);

async function showBalance(session) {
  const { balance } = await session.get(`/v1/patients/${session.account.address}/balance`);
  document.getElementById("balance").textContent = money(balance);
}

// showEOBs lists the patient's claims as their payers decided them: what
// was billed, what the plan paid and what the patient owes.
async function showEOBs(session) {
  const bundle = await session.fhir(`ExplanationOfBenefit?patient=${session.account.address}`);
  const total = (eob, code) => money(Math.round((eob.total ?? []).find((t) => t.category?.coding?.[0]?.code === code)?.amount?.value * 100 || 0));
  const rows = (bundle.entry ?? []).map(({ resource: eob }) => [when(eob.created), eob.provider?.identifier?.value ?? "", eob.insurer?.identifier?.value ?? "",
    total(eob, "submitted"), total(eob, "benefit"), total(eob, "memberliability"), eob.disposition ?? ""]);
  document.getElementById("eob-table").replaceChildren(table("Your explanations of benefits", ["Date", "Provider", "Plan", "Billed", "Plan paid", "You owe", "Decision"], rows));
}

let slotQuery = null;

// showScheduleChoices offers every provider's published schedules, so
// that a patient need not know their identifiers.
async function showScheduleChoices(session) {
  const el = document.getElementById("schedule-choices");
  if (!el) return;
  const { orgs } = await session.get("/v1/orgs");
  const providers = orgs.filter((o) => o.type === "provider" && !o.suspended);
  const lists = await Promise.all(providers.map((o) => session.get(`/v1/orgs/${encodeURIComponent(o.id)}/schedules`).then((l) => l.schedules, () => [])));
  const choose = (provider, schedule) => (ev) => act(ev.currentTarget, async () => {
    slotQuery = { provider, schedule };
    const search = document.getElementById("slot-search");
    search.elements.provider.value = provider;
    search.elements.schedule.value = schedule;
    await showSlots(session);
  });
  const items = providers.flatMap((o, i) => lists[i].map((s) => h("li", {},
    h("button", { type: "button", class: "link schedule-choice", "data-provider": o.id, "data-schedule": s.id, onclick: choose(o.id, s.id) }, `${o.name || o.id}: ${s.id}`),
    ` (${s.category.replaceAll("-", " ")}${s.virtual ? ", virtual" : ""}${s.policy.deposit ? `, a deposit of ${money(s.policy.deposit)}` : ""})`)));
  el.replaceChildren(items.length
    ? h("div", {}, h("p", { text: "Open schedules (choose one to see its slots):" }), h("ul", { class: "schedule-choices" }, items))
    : h("p", { class: "empty", text: "No provider has published a schedule yet." }));
}

// showSlots lists the chosen schedule's slots: a free one that has not
// started can be booked (its deposit moves into escrow in the same block),
// and the patient's own booking cancelled (refunded before the deadline,
// else as the provider's policy says).
async function showSlots(session) {
  const el = document.getElementById("slot-table");
  if (!el || !slotQuery) return;
  const { provider, schedule } = slotQuery;
  const list = await session.get(`/v1/schedules/${encodeURIComponent(provider)}/${encodeURIComponent(schedule)}/slots`);
  const me = session.account.address;
  const now = Date.now() / 1000;
  const slotAct = (build, done) => (ev) => act(ev.currentTarget, async () => {
    await session.send(build());
    say(done);
    await Promise.all([showSlots(session), showBalance(session)]);
  });
  const rows = list.slots.map((sl) => {
    const ref = { provider, schedule, start: Number(sl.start) };
    const mine = sl.patient === me;
    const state = mine && sl.state === "booked" ? "booked by you" : sl.state.replaceAll("_", " ");
    let action = "";
    if (sl.state === "free" && sl.start > now) {
      action = h("button", { type: "button", class: "book", "aria-label": `Book ${when(sl.start * 1000)}`,
        onclick: slotAct(() => scheduleBook(fromHex(me), ref), "Booked.") }, "Book");
    } else if (mine && sl.state === "booked") {
      action = h("button", { type: "button", class: "cancel-booking", "aria-label": `Cancel the booking of ${when(sl.start * 1000)}`,
        onclick: slotAct(() => scheduleCancel(ref), "Booking cancelled.") }, "Cancel");
    }
    return [h("time", { datetime: new Date(sl.start * 1000).toISOString(), text: when(sl.start * 1000) }), `${sl.minutes} min`, state, money(sl.state === "free" ? list.policy.deposit : sl.held), action];
  });
  el.replaceChildren(h("p", {}, `${list.category.replaceAll("-", " ")}${list.virtual ? ", virtual" : ""}: a deposit of ${money(list.policy.deposit)}, refunded on cancellation until ${Math.round(list.policy.cancel_before / 3600)} hours before.`),
    table(`Slots of ${schedule} at ${provider}`, ["When", "Length", "State", "Deposit", ""], rows));
}

async function showDelegates(session) {
  const el = document.getElementById("delegate-table");
  if (!el) return;
  const { delegates } = await session.get(`/v1/patients/${session.account.address}/delegates`);
  el.replaceChildren(table("Your delegates", ["Account", "Relation", "Since block", ""], delegates.map((d) => [h("code", { text: d.address }), d.relation, String(d.since),
    h("button", { type: "button", "aria-label": `Remove delegate ${short(d.address)}`, onclick: (ev) => act(ev.currentTarget, async () => {
      await session.send(setDelegate(fromHex(d.address), d.relation, true));
      await showDelegates(session);
    }) }, "Remove")])));
}

function delegateForm(session) {
  return h("details", {}, h("summary", { text: "Name a delegate" }), form("Name a delegate", [
    field("Their account address", "address", { required: true, pattern: "[0-9a-f]{40}", hint: "40 hexadecimal characters" }),
    field("Relation", "relation", {}, [["caregiver", "Caregiver"], ["parent", "Parent"], ["guardian", "Legal guardian"]]),
  ], "Name delegate", async (fd) => {
    await session.send(setDelegate(fromHex(fd.get("address").trim()), fd.get("relation"), false));
    say("Delegate named.");
    await showDelegates(session);
  }));
}
