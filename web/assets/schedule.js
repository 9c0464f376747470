// The clinician's schedule: their organization's schedules and slots (free
// or booked), its booked appointments, and marking one attended or a
// no-show, signed in this browser. Marking attended also attests it, in
// the same transaction, to every open reward program that rewards an
// attended appointment attested by an organization of this one's type, so
// the patient is paid in the block that records the visit.
import { rewardsAttest, scheduleMark, sha256, utf8 } from "./tx.js";
import { fromHex } from "./proof.js";
import { act, h, say, section, short, table, when } from "./ui.js";

const money = (minor) => (Number(minor) / 100).toFixed(2);
const stateName = { free: "free", booked: "booked", attended: "attended", no_show: "no-show" };

// appointmentRef is the attester's commitment to an appointment, as
// `careledger schedule mark --attest` makes it: one per slot, so a program
// pays one appointment once.
const appointmentRef = (ref) => sha256(utf8.encode(`${ref.provider}/${ref.schedule}/${ref.start}`));

export function scheduleSection(session, signal) {
  const org = session.account.org;
  const body = h("div", { id: "schedule-body", "aria-live": "polite" });
  const el = section(`Schedule of ${org ?? "your organization"}`, "schedule", body);
  if (!org) return el;
  // The view redraws when a booked appointment starts, to offer marking it.
  let timer = 0;
  const show = async () => {
    try {
      const next = await showSchedule(session, org, body, show);
      clearTimeout(timer);
      if (next && !signal.aborted) timer = setTimeout(show, Math.min((next - Date.now() / 1000) * 1000 + 1500, 3600 * 1000));
    } catch (e) {
      body.replaceChildren(h("p", { class: "error", role: "alert", text: e.message }));
    }
  };
  signal.addEventListener("abort", () => clearTimeout(timer));
  show();
  session.stream("/v1/events", (e) => {
    if (/^(schedule|rewards)\./.test(e.type) && (e.attrs ?? []).some((a) => a.key === "provider" && a.value === org)) show();
  }, signal);
  return el;
}

// attendedPrograms returns the open programs that reward an attended
// appointment attested by an organization of type orgType.
async function attendedPrograms(session, orgType) {
  const now = Date.now() / 1000;
  const { programs } = await session.get("/v1/programs");
  return programs.filter((p) => !p.closed && p.end > now + 60 && p.paid < p.funding &&
    p.rules.some((r) => r.event === "attended" && r.attesters.includes(orgType)));
}

// showSchedule draws the schedules and appointments, and returns the start
// of the next booked appointment (0 for none).
async function showSchedule(session, org, body, redraw) {
  const [{ schedules }, info] = await Promise.all([session.get(`/v1/orgs/${encodeURIComponent(org)}/schedules`), session.get(`/v1/orgs/${encodeURIComponent(org)}`)]);
  if (!schedules.length) { body.replaceChildren(h("p", { class: "empty", text: `${org} has published no schedule.` })); return 0; }
  const programs = await attendedPrograms(session, info.type);
  const lists = await Promise.all(schedules.map((s) => session.get(`/v1/schedules/${encodeURIComponent(org)}/${encodeURIComponent(s.id)}/slots`)));
  const now = Date.now() / 1000;
  const appointments = [];
  const tables = schedules.map((s, i) => {
    const all = lists[i].slots;
    for (const sl of all) if (sl.state !== "free") appointments.push({ schedule: s.id, sl });
    // Slots of the past day and ahead: older appointments stay in the
    // appointments' table.
    const slots = all.filter((sl) => sl.start > now - 24 * 3600);
    const free = slots.filter((sl) => sl.state === "free" && sl.start > now).length;
    return h("div", { class: "schedule", "data-schedule": s.id },
      h("h4", { text: `${s.id}: ${s.category.replaceAll("-", " ")}${s.virtual ? ", virtual" : ""}` }),
      h("p", { class: "hint", text: `${free} free slot${free === 1 ? "" : "s"} ahead; deposit ${money(s.policy.deposit)}, kept ${s.policy.no_show_keep_bps / 100}% on a no-show.` }),
      table(`Slots of ${s.id}`, ["When", "Length", "State", "Patient"], slots.map((sl) => [
        h("time", { datetime: new Date(sl.start * 1000).toISOString(), text: when(sl.start * 1000) }), `${sl.minutes} min`, stateName[sl.state] ?? sl.state,
        sl.state === "free" ? "" : h("code", { text: short(sl.patient) })])));
  });
  // Booked appointments first, soonest first; then those marked, latest first.
  const marked = (a) => (a.sl.state === "booked" ? 0 : 1);
  appointments.sort((a, b) => marked(a) - marked(b) || (marked(a) ? b.sl.start - a.sl.start : a.sl.start - b.sl.start));
  const markButton = (ref, sl, outcome, label, cls) => h("button", {
    type: "button", class: cls, "data-start": sl.start, "aria-label": `${label}: ${when(sl.start * 1000)}, ${ref.schedule}`,
    onclick: (ev) => act(ev.currentTarget, async () => {
      const msgs = [scheduleMark(ref, outcome)];
      if (outcome === 1) {
        const commitment = await appointmentRef(ref);
        for (const p of programs) msgs.push(rewardsAttest({ program: p.id, patient: fromHex(sl.patient), event: "attended", ref: commitment }));
      }
      await session.send(...msgs);
      say(outcome === 1 ? `Marked attended${programs.length ? ", and attested to " + programs.map((p) => p.id).join(", ") : ""}.` : "Marked a no-show.");
      await redraw();
    }) }, label);
  const rows = appointments.map(({ schedule, sl }) => {
    const ref = { provider: org, schedule, start: Number(sl.start) };
    let action = "";
    if (sl.state === "booked" && sl.start <= now) action = h("span", {}, markButton(ref, sl, 1, "Attended", "attended"), " ", markButton(ref, sl, 2, "No-show", "no-show"));
    else if (sl.state === "booked") action = h("span", { class: "hint", text: "to mark once it starts" });
    return [h("time", { datetime: new Date(sl.start * 1000).toISOString(), text: when(sl.start * 1000) }), schedule, h("code", { text: short(sl.patient) }),
      money(sl.held), h("span", { class: "state", "data-start": sl.start, text: stateName[sl.state] ?? sl.state }), action];
  });
  body.replaceChildren(
    h("div", { id: "appointment-table" }, table("Booked appointments", ["When", "Schedule", "Patient", "Deposit held", "State", ""], rows)),
    h("p", { class: "hint", id: "attest-programs", text: programs.length
      ? `Marking attended also attests it to ${programs.map((p) => `${p.id} (${p.sponsor})`).join(", ")}, which pays the patient in the same block.`
      : "No open reward program pays for appointments attended here." }),
    ...tables);
  return appointments.find(({ sl }) => sl.state === "booked" && sl.start > now)?.sl.start ?? 0;
}
