// Recovery by guardians (docs/TRANSACTIONS.md 6.7 to 6.11): the patient
// names guardians, a threshold and a delay; on a new device, a patient who
// lost their key makes a new one and shows a guardian its recovery request;
// guardians propose and approve; the patient's current key or a delegate
// sees a pending recovery at once and may cancel it; after the delay the
// new key completes it and signs for the account.
import * as keys from "./keys.js";
import { Session, submit } from "./api.js";
import { approveRecovery, cancelRecovery, completeRecovery, proposeRecovery, rotationSignBytes, setGuardians } from "./tx.js";
import { fromHex, toHex } from "./proof.js";
import { svg } from "./qr.js";
import { act, field, form, h, say, section, short, table, when } from "./ui.js";

const hour = 3600;
const isAddress = (s) => /^[0-9a-f]{40}$/.test(s);

export async function recoveryView({ main, session, params, signal, signIn }) {
  if (!session) {
    if (params.get("proof")) {
      sessionStorage.setItem("after", location.hash);
      main.append(h("p", { class: "warning" }, "A guardian proposes this recovery once signed in: ", h("a", { href: "#/", text: "sign in" }), ", and this request opens again."));
    }
    main.append(await newKeySection(params, signIn));
    return;
  }
  const me = session.account.address;
  if (session.account.kind === "patient") {
    main.append(section("Your guardians", "guardians", h("div", { id: "guardian-set", "aria-live": "polite" }), await guardianForm(session)));
  }
  main.append(
    section("Recoveries you can act on", "recoveries",
      h("p", { class: "hint", text: "Recoveries of your account, and of the patients you guard or are a delegate of, appear here as they happen." }),
      h("div", { id: "recovery-list", "aria-live": "assertive" })),
    section("Propose a recovery (guardians)", "propose", proposeForm(session, params)),
  );
  const refresh = () => Promise.all([showSet(session), showRecoveries(session)]);
  session.stream(`/v1/events?account=${me}`, (e) => {
    if (e.type.startsWith("identity.recovery_") || e.type.startsWith("identity.guardians_")) {
      refresh();
      if (e.type === "identity.recovery_proposed") say("A recovery has been proposed: see the recoveries below.");
    }
  }, signal);
  await refresh();
}

// showSet shows the signed-in patient's guardians.
async function showSet(session) {
  const el = document.getElementById("guardian-set");
  if (!el) return;
  const { guardians: g, min_delay: min } = await session.get(`/v1/patients/${session.account.address}/recovery`);
  if (!g) { el.replaceChildren(h("p", { class: "empty", text: "You have named no guardians: if you lose your key and its backup, your account is lost." })); return; }
  el.replaceChildren(
    h("p", { id: "guardian-summary", text: `Any ${g.threshold} of these ${g.guardians.length} may recover your account; it takes effect ${delayText(g.delay)} after they agree, and you can cancel it until then.` }),
    table("Your guardians", ["Account"], g.guardians.map((a) => [h("code", { text: a })])));
}

const delayText = (s) => (s >= hour ? `${Math.round((s / hour) * 10) / 10} hours` : `${s} second${s === 1 ? "" : "s"}`);

// guardianForm names guardians: accounts by address, or the patient's
// delegates ticked from a list.
async function guardianForm(session) {
  const { delegates } = await session.get(`/v1/patients/${session.account.address}/delegates`);
  const { min_delay: min } = await session.get(`/v1/patients/${session.account.address}/recovery`);
  const picks = delegates.length
    ? h("fieldset", {}, h("legend", { text: "Your delegates" }), delegates.map((d, i) => h("div", { class: "field check" },
      h("input", { type: "checkbox", id: `pick-${i}`, name: "pick", value: d.address }),
      h("label", { for: `pick-${i}` }, `${d.relation} `, h("code", { text: short(d.address) })))))
    : null;
  const minHours = min / hour;
  return h("details", {}, h("summary", { text: "Name guardians" }), form("Name guardians", [
    picks,
    field("Other guardians' account addresses, one a line", "addresses", { type: "textarea", id: "guardian-addresses", rows: "3", hint: "40 hexadecimal characters each: a relative's, your physician's, an advocacy organization's account" }),
    field("How many must agree", "threshold", { type: "number", id: "guardian-threshold", min: "1", max: "8", value: "2", required: true }),
    field("Delay before a recovery takes effect (hours)", "hours", { type: "number", id: "guardian-delay", min: String(minHours), step: "any", value: String(Math.max(72, minHours)), required: true, hint: `At least ${delayText(min)} on this network; you can cancel a recovery during the delay` }),
  ], "Name guardians", async (fd) => {
    const typed = fd.get("addresses").split(/\s+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
    const bad = typed.find((a) => !isAddress(a));
    if (bad) throw new Error(`${short(bad) || bad} is not an account address (40 hexadecimal characters).`);
    const all = [...new Set([...fd.getAll("pick"), ...typed])];
    const delay = Math.max(min, Math.round(Number(fd.get("hours")) * hour));
    await session.send(setGuardians(all.map(fromHex), Number(fd.get("threshold")), delay));
    say(`${all.length} guardians named.`);
    await showSet(session);
  }));
}

// patientsConcerned returns the patients whose recoveries the signed-in
// account may act on: its own, and those whose guardian or delegate it is,
// as the audit events on its account name them.
async function patientsConcerned(session) {
  const me = session.account.address;
  const out = new Set(session.account.kind === "patient" ? [me] : []);
  const { events } = await session.get(`/v1/audit/events?account=${me}&limit=1000`);
  for (const { event: ev } of events) {
    if (!ev.event.type.startsWith("identity.recovery_") && ev.event.type !== "identity.guardians_set") continue;
    const p = ev.event.attrs.find((a) => a.key === "patient")?.value;
    if (p) out.add(p);
  }
  return [...out];
}

async function showRecoveries(session) {
  const el = document.getElementById("recovery-list");
  if (!el) return;
  const me = session.account.address;
  const items = [];
  for (const p of await patientsConcerned(session)) {
    const ans = await session.get(`/v1/patients/${p}/recovery`).catch(() => null);
    const r = ans?.guardians?.pending;
    if (!r) continue;
    // A delegate may cancel; the list is open to the patient and delegates.
    const ds = p === me ? [] : (await session.get(`/v1/patients/${p}/delegates`).catch(() => ({ delegates: [] }))).delegates;
    items.push(recoveryItem(session, p, ans.guardians, r, me, ds.some((d) => d.address === me)));
  }
  el.replaceChildren(items.length ? h("ul", { class: "recoveries" }, items) : h("p", { class: "empty", text: "No recovery is pending." }));
}

function recoveryItem(session, patient, g, r, me, delegate) {
  const mine = patient === me;
  const guardian = g.guardians.includes(me);
  const now = Date.now() / 1000;
  const reached = r.effective_at > 0;
  const due = reached && r.effective_at <= now;
  const run = (label, msg, cls) => h("button", { type: "button", class: cls, "data-recovery": r.id, onclick: (ev) => act(ev.currentTarget, async () => {
    await session.send(msg);
    say(`Recovery ${r.id}: ${label.toLowerCase()} done.`);
    await showRecoveries(session);
  }) }, label);
  const buttons = [];
  if (guardian && !r.approvals.includes(me)) buttons.push(run("Approve", approveRecovery(fromHex(patient), r.id), "approve-recovery"));
  if (mine || delegate) buttons.push(run("Cancel this recovery", cancelRecovery(fromHex(patient), r.id), "cancel-recovery"));
  if (due) buttons.push(run("Complete", completeRecovery(fromHex(patient), r.id), "complete-recovery"));
  return h("li", { id: `recovery-${r.id}`, class: "request recovery", "data-patient": patient },
    h("p", {}, h("span", { "aria-hidden": "true", text: "⚠ " }), h("strong", { text: mine ? "Your account is being recovered to a new key." : `Recovery of patient ${short(patient)}.` }),
      ` Recovery ${r.id}, to the key `, h("code", { text: short(r.new_pub_key) }), `, proposed by ${r.proposer === me ? "you" : short(r.proposer)} at ${when(r.proposed_at * 1000)}; `,
      h("span", { class: "approvals", text: `${r.approvals.length} of ${g.threshold} approvals` }), "; ",
      reached ? `takes effect from ${when(r.effective_at * 1000)}.` : "not yet enough approvals to take effect."),
    mine ? h("p", { class: "warning", text: "If you did not ask for this, cancel it now: otherwise the new key will sign for your account." }) : null,
    buttons.flatMap((b) => [b, " "]));
}

// request is a recovery request: the account, the new key, and its proof.
const requestLink = (q) => `${location.origin}/#/recovery?${new URLSearchParams({ patient: q.patient, new_pub_key: q.new_pub_key, proof: q.proof })}`;

function parseRequest(text) {
  const s = String(text).trim();
  let q;
  if (s.startsWith("{")) q = JSON.parse(s);
  else {
    const query = s.includes("?") ? s.slice(s.indexOf("?") + 1) : s;
    q = Object.fromEntries(new URLSearchParams(query));
  }
  if (!isAddress(q.patient ?? "") || !/^[0-9a-f]{64}$/.test(q.new_pub_key ?? "") || !/^[0-9a-f]{128}$/.test(q.proof ?? "")) {
    throw new Error("That is not a recovery request: paste the link or the text the patient's new device shows.");
  }
  return q;
}

function proposeForm(session, params) {
  const request = field("Recovery request", "request", { type: "textarea", id: "recovery-request", rows: "3", required: true });
  if (params.get("patient") && params.get("new_pub_key")) request.querySelector("textarea").value = requestLink(Object.fromEntries(params));
  return form("Propose a recovery", [
    h("p", { text: "The patient's new device shows a recovery request, as a link, a QR code or text. Check with the patient, in person or by a call you trust, that the request is theirs." }),
    request,
  ], "Propose the recovery", async (fd) => {
    const q = parseRequest(fd.get("request"));
    const ans = await session.send(proposeRecovery(fromHex(q.patient), fromHex(q.new_pub_key), fromHex(q.proof)));
    const id = ans.result?.events?.find((e) => e.type === "identity.recovery_proposed")?.attrs?.find((a) => a.key === "recovery")?.value ?? "";
    document.getElementById("proposed")?.remove();
    document.getElementById("propose").append(h("p", { id: "proposed", "data-recovery": id, class: "ok" },
      h("span", { "aria-hidden": "true", text: "✓ " }), `Recovery ${id} proposed. Tell the patient its number, ${id}: their new device completes it after the delay.`));
    say(`Recovery ${id} proposed.`);
    await showRecoveries(session);
  });
}

// newKeySection is for a patient who lost their key: a new key made here,
// its request for the guardians, and, after the delay, completion. Keys
// made here for a recovery stay listed until they complete it.
async function newKeySection(params, signIn) {
  const chainId = await Session.chain();
  const out = h("div", { id: "request-out", "aria-live": "polite" });
  const pending = h("div", { id: "pending-keys" });
  const show = async () => {
    const waiting = (await keys.list()).filter((k) => k.account);
    pending.replaceChildren(...(waiting.length ? [h("h4", { text: "Keys in this browser waiting for a recovery" }),
      h("ul", { class: "recoveries" }, await Promise.all(waiting.map((k) => pendingKey(k, chainId, signIn))))] : []));
  };
  const make = form("Make a new key for your account", [
    field("Your account's pseudonym", "patient", { id: "recover-patient", required: true, pattern: "[0-9a-f]{40}", hint: "40 hexadecimal characters: your guardians or your papers have it" }),
    field("Name for the new key (kept only in this browser)", "name", { id: "recover-name", required: true, autocomplete: "off" }),
    field("Backup passphrase (at least 8 characters)", "pass", { id: "recover-pass", type: "password", required: true, minlength: "8", autocomplete: "new-password" }),
  ], "Make the key and its recovery request", async (fd) => {
    const { key, backup } = await keys.create(fd.get("name").trim(), fd.get("pass"), fd.get("patient").trim().toLowerCase());
    out.replaceChildren(h("p", {}, "Your new key's backup, sealed with your passphrase: ",
      h("a", { href: URL.createObjectURL(new Blob([backup], { type: "application/json" })), download: `${key.name}.key`, text: `download ${key.name}.key` }),
      ". Its recovery request is below."));
    await show();
    pending.querySelector(`li[data-key="${CSS.escape(key.name)}"] .recovery-link`)?.focus();
  }, { id: "recover-form" });
  await show();
  return section("Recover your account on this device", "recover",
    h("p", { text: "Lost your key? Make a new one here. Your guardians approve moving your account to it; after the delay you complete the recovery here, and this key signs for your account. Until then it cannot sign in." }),
    make, out, pending);
}

// pendingKey shows a key's recovery request (link, QR code, text) and the
// form that completes the recovery with it.
async function pendingKey(key, chainId, signIn) {
  const proof = new Uint8Array(await crypto.subtle.sign("Ed25519", key.privateKey, rotationSignBytes(chainId, fromHex(key.account), fromHex(key.pub))));
  const q = { patient: key.account, new_pub_key: key.pub, proof: toHex(proof) };
  const link = requestLink(q);
  const complete = form(`Complete the recovery with ${key.name}`, [
    field("Recovery number (your guardian tells you)", "recovery", { type: "number", min: "1", required: true, class: "recovery-number" }),
  ], "Complete the recovery and sign in", async (fd) => {
    // The new key is not registered yet: it sends at sequence 0 (section 8).
    await submit(key, chainId, 0, [completeRecovery(fromHex(q.patient), Number(fd.get("recovery")))]);
    say("Your account is recovered: this key signs for it now.");
    await signIn(key);
  }, { class: "complete-form" });
  return h("li", { class: "recovery", "data-key": key.name },
    h("p", {}, h("strong", { text: key.name }), " for the account ", h("code", { text: short(key.account) })),
    h("p", { text: "Show this recovery request to a guardian: they open the link or scan the code, and propose the recovery." }),
    h("p", {}, h("a", { class: "recovery-link wrap", href: link, text: link })),
    svg(link, `QR code of the recovery request of ${key.name}`),
    h("details", {}, h("summary", { text: "The request as text" }), h("pre", { class: "wrap", text: JSON.stringify(q) })),
    complete);
}
