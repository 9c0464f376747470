// The payer's view (members of payer organizations): the organization's
// ledger balance and the payables its funds have yet to cover, its claims
// queue (newest first, filtered by status and dates of service, each claim
// with its decision, amounts, edits and policy versions), its policy
// versions, its history page by page with each payment linked to its
// claim, and a claim's
// decision: per-line amounts, X12 reason codes, the edits that fired, the
// policy version, and its appeals (a claims agent decides an open one).
import { claimsDecideAppeal } from "./tx.js";
import { fromHex } from "./proof.js";
import { act, field, form, h, mark, say, section, short, table } from "./ui.js";

const PAGE = 20; // history entries per page

// money shows integer minor units with two decimals (never a float).
export function money(n) {
  const v = Math.trunc(Number(n ?? 0));
  const sign = v < 0 ? "-" : "";
  const a = Math.abs(v);
  return `${sign}${Math.floor(a / 100).toLocaleString("en-US")}.${String(a % 100).padStart(2, "0")}`;
}

// CARC names the X12 claim adjustment reason codes the adjudicator uses.
const CARC = {
  1: "deductible", 2: "co-insurance", 3: "copay", 18: "duplicate claim or service", 26: "before coverage began",
  27: "after coverage ended", 45: "charge exceeds the fee schedule", 96: "not covered", 97: "bundled into another service",
  119: "unit or benefit maximum reached", 197: "prior authorization absent", 198: "authorization exceeded (already used)",
};
const carc = (code) => (CARC[code] ? `${code} (${CARC[code]})` : String(code));

// stacked marks a table to show each row as a card on a narrow screen:
// every cell carries its column's heading (style.css shows it there), and
// explicit roles keep the table's meaning for screen readers.
function stacked(el) {
  const t = el.querySelector("table");
  if (!t) return el;
  el.classList.add("stack");
  const heads = [...t.querySelectorAll("thead th")].map((th) => th.textContent);
  t.setAttribute("role", "table");
  for (const g of t.querySelectorAll("thead, tbody")) g.setAttribute("role", "rowgroup");
  for (const tr of t.querySelectorAll("tr")) tr.setAttribute("role", "row");
  for (const th of t.querySelectorAll("th")) th.setAttribute("role", "columnheader");
  for (const tr of t.querySelectorAll("tbody tr")) [...tr.children].forEach((td, i) => { td.setAttribute("role", "cell"); td.dataset.label = heads[i]; });
  return el;
}

const KINDS = { deposit: "Deposit", paid: "Paid", received: "Received" };
const claimLink = (id) => h("a", { href: `#/payer?claim=${id}`, class: "claim-link", "data-claim": id, "aria-label": `Claim ${id}`, text: short(id) });

export async function payerView({ main, session, params, signal }) {
  const org = session.account.org;
  if (!org) {
    main.append(h("p", { class: "empty", text: "This view is for members of a payer organization; this account belongs to none." }));
    return;
  }
  const claim = params.get("claim");
  if (claim) main.append(await claimSection(session, claim));
  let account = await accountSection(session, org);
  let history = await historySection(session, org);
  const queue = await queueSection(session, org);
  main.append(account, queue, await policySection(session, org), history, lookupSection());
  // The organization's claims events (deposits, payments, decisions)
  // redraw the balance, the claims queue and the history's first page,
  // once per burst.
  let soon = 0;
  const redraw = async () => {
    const [a, hs] = [await accountSection(session, org), await historySection(session, org)];
    await queue.reload();
    account.replaceWith(a);
    history.replaceWith(hs);
    [account, history] = [a, hs];
    say(`The account changed: balance ${a.querySelector("#balance").textContent}.`);
  };
  signal.addEventListener("abort", () => clearTimeout(soon));
  session.stream("/v1/events", (e) => {
    const a = Object.fromEntries((e.attrs ?? []).map((x) => [x.key, x.value]));
    if (!e.type?.startsWith("claims.") || (a.payer !== org && a.provider !== org)) return;
    clearTimeout(soon);
    soon = setTimeout(() => redraw().catch((err) => say(err.message, "error")), 300);
  }, signal);
}

async function accountSection(session, org) {
  const a = await session.get(`/v1/ledger/${encodeURIComponent(org)}`);
  const pending = (a.pending ?? []).map((p) => [claimLink(p.claim), p.provider, money(p.amount), String(p.height)]);
  return section(`Account of ${a.account}`, "account",
    h("dl", { class: "facts" },
      h("dt", { text: "Balance" }), h("dd", { id: "balance", "data-minor": String(a.balance), text: money(a.balance) }),
      h("dt", { text: "Entries in the history" }), h("dd", { text: String(a.entries) }),
      h("dt", { text: "As of block" }), h("dd", { text: String(a.height) })),
    h("p", { class: "hint", text: "Pending payables are approved benefits waiting for funds: each deposit pays them in this order." }),
    h("div", { id: "pending" }, table("Pending payables", ["Claim", "Provider", "Amount due", "Adjudicated at block"], pending)));
}

// historySection shows the newest page of the history; "Older entries"
// appends the next page (entries before the last one's seq).
async function historySection(session, org) {
  const body = h("div", { id: "history-body" });
  const more = h("button", { type: "button", id: "history-more", text: "Older entries" });
  let before = 0;
  const rows = [];
  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (before) q.set("before", String(before));
    const page = await session.get(`/v1/ledger/${encodeURIComponent(org)}/history?${q}`);
    for (const e of page.entries) {
      rows.push([String(e.seq), String(e.height), KINDS[e.kind] ?? e.kind,
        h("span", { class: "amount" }, e.kind === "paid" ? "−" : "+", money(e.amount)),
        e.counterparty ?? "", e.claim ? claimLink(e.claim) : "", money(e.balance)]);
    }
    const last = page.entries.at(-1);
    before = last ? last.seq : 0;
    body.replaceChildren(stacked(table("Ledger history, newest first", ["Entry", "Block", "Kind", "Amount", "Counterparty", "Claim", "Balance after"], rows)));
    more.hidden = !last || last.seq === 0 || page.entries.length < PAGE;
    if (rows.length > PAGE) say(`${page.entries.length} older entries shown.`);
  };
  // At the history's start the button hides: keep focus in the table.
  more.addEventListener("click", () => act(more, load).then(() => { if (more.hidden) body.querySelector(".scroll")?.focus(); }));
  await load();
  return section("History", "history", body, more);
}

const STATUSES = [["", "Any status"], ["approved", "Approved"], ["denied", "Denied"], ["pending_payment", "Pending payment"], ["appealed", "Appealed"]];
const statusName = (st) => (STATUSES.find((x) => x[0] === st)?.[1] ?? st);
const ymd = (n) => { const d = String(n); return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`; };
const codes = (xs) => (xs.length ? h("ul", { class: "codes" }, xs.map((x) => h("li", {}, h("code", { text: x })))) : "none");

// queueSection shows the organization's claims, newest first, filtered by
// status and dates of service; "Older claims" appends the next page.
// reload() starts again from the newest (after a claims event).
async function queueSection(session, org) {
  const body = h("div", { id: "queue-body" });
  const more = h("button", { type: "button", id: "queue-more", text: "Older claims" });
  let filter = {}, before = 0, rows = [];
  const load = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    if (before) q.set("before", String(before));
    const page = await session.get(`/v1/orgs/${encodeURIComponent(org)}/claims?${q}`);
    for (const c of page.claims) {
      rows.push([h("span", {}, claimLink(c.claim), c.use === "preauthorization" ? " (preauthorization)" : ""), c.provider,
        c.from === c.to ? ymd(c.from) : `${ymd(c.from)} to ${ymd(c.to)}`,
        h("span", { class: "claim-status", "data-status": c.status, text: `${statusName(c.status)}${c.outcome === "partial" ? " in part" : ""}` }),
        money(c.submitted), money(c.eligible), money(c.benefit), money(c.patient_amount), codes(c.edits), c.versions.join(", ") || "none"]);
    }
    before = page.next ?? 0;
    body.replaceChildren(stacked(table("Claims, newest first", ["Claim", "Provider", "Dates of service", "Status",
      "Submitted", "Eligible", "Plan pays", "Patient owes", "Edits that fired", "Policy version"], rows)));
    more.hidden = !before;
  };
  const reload = () => { before = 0; rows = []; return load(); };
  more.addEventListener("click", () => act(more, load));
  const filters = form("Filter the claims", [
    field("Status", "status", { id: "queue-status" }, STATUSES),
    field("Dates of service from", "from", { type: "date", id: "queue-from" }),
    field("Dates of service to", "to", { type: "date", id: "queue-to" }),
  ], "Show claims", async (fd) => {
    const date = (k) => (fd.get(k) ?? "").replaceAll("-", "");
    filter = { status: fd.get("status"), from: date("from"), to: date("to") };
    await reload();
    say(`Claims shown: ${rows.length}.`);
  }, { id: "queue-filter", class: "filters" });
  await load();
  const el = section("Claims queue", "queue", filters, body, more);
  el.reload = reload;
  return el;
}

// policySection lists the payer's policy versions: published ones with
// the date they take effect, then drafts still loading.
async function policySection(session, org) {
  const vs = await session.get(`/v1/orgs/${encodeURIComponent(org)}/policies`);
  const rows = vs.versions.map((v) => [String(v.version), v.complete ? ymd(v.effective) : "", mark(v.complete, "published", "draft, loading"),
    v.fees.toLocaleString("en-US"), v.pairs.toLocaleString("en-US"), v.units.toLocaleString("en-US"), v.rules.toLocaleString("en-US")]);
  return section("Policy versions", "policies",
    h("p", { class: "hint", text: "A claim line is judged by the version in force on its date of service; a version takes effect whole, once every row is loaded." }),
    h("div", { id: "policy-body" }, stacked(table("Policy versions, oldest first", ["Version", "Effective", "State", "Fee codes", "Code pairs", "Unit limits", "Rules"], rows))));
}

function lookupSection() {
  return section("Open a claim", "lookup", form("Open a claim by its ID", [
    field("Claim ID (64 hex characters)", "claim", { required: true, pattern: "[0-9a-fA-F]{64}", autocomplete: "off", id: "claim-id", spellcheck: "false" }),
  ], "Open claim", async (fd) => { location.hash = `#/payer?claim=${fd.get("claim").trim().toLowerCase()}`; }, { id: "lookup-form" }));
}

// claimSection shows a claim's decision as the chain holds it.
async function claimSection(session, id) {
  let c;
  try {
    c = await session.get(`/v1/claims/${encodeURIComponent(id)}`);
  } catch (e) {
    return section("Claim", "claim", h("p", { class: "error", role: "alert", id: "claim-error", text: `Claim ${short(id)}: ${e.message}` }));
  }
  const lines = c.lines.map((l, i) => [String(i + 1), mark(l.status === 1, "approved", "denied"), l.version ? String(l.version) : "none",
    money(l.submitted), money(l.eligible), money(l.benefit), money(l.patient),
    h("ul", { class: "codes" }, (l.adjustments ?? []).map((a) => h("li", {}, h("code", { text: carc(a.reason) }), `: ${money(a.amount)}`))),
    h("ul", { class: "codes" }, (l.edits ?? []).map((e) => h("li", {}, h("code", { text: e }))))]);
  const outcome = { approved: "✓ Approved", partial: "◐ Partly approved", denied: "✗ Denied" }[c.outcome] ?? c.outcome;
  return section(`Claim ${short(c.claim)}`, "claim",
    h("p", { id: "claim-outcome", class: `outcome ${c.outcome}`, text: `${outcome} (${c.use === "preauthorization" ? "preauthorization" : "claim"})` }),
    h("dl", { class: "facts" },
      h("dt", { text: "Claim ID" }), h("dd", {}, h("code", { class: "wrap", text: c.claim })),
      h("dt", { text: "Provider" }), h("dd", { text: c.provider }),
      h("dt", { text: "Payer" }), h("dd", { text: c.payer }),
      h("dt", { text: "Coverage" }), h("dd", { text: c.coverage }),
      h("dt", { text: "Patient account" }), h("dd", {}, h("code", { text: short(c.patient) })),
      h("dt", { text: "Adjudicated at block" }), h("dd", { text: String(c.height) }),
      h("dt", { text: "Plan pays" }), h("dd", { id: "claim-benefit", text: money(c.benefit) }),
      h("dt", { text: "Patient owes" }), h("dd", { text: money(c.patient_amount) }),
      h("dt", { text: "Paid to the provider" }), h("dd", {}, mark(c.paid, `paid in full (${money(c.settled)})`, `${money(c.settled)} of ${money(c.benefit)} paid`))),
    h("div", { id: "claim-lines" }, stacked(table("Lines: amounts, X12 reason codes and the edits that fired",
      ["Line", "Result", "Policy version", "Submitted", "Eligible", "Plan pays", "Patient owes", "Reason codes (CARC)", "Edits"], lines))),
    appealsPart(session, c));
}

function appealsPart(session, c) {
  const rows = c.appeals.map((a, i) => [String(i + 1), a.lines?.length ? a.lines.map((n) => n + 1).join(", ") : "all", a.reason,
    a.state, String(a.filed), a.decided ? String(a.decided) : "", a.decision_reason ?? "", a.state === "overturned" ? money(a.benefit ?? 0) : ""]);
  const open = c.appeals.some((a) => a.state === "open");
  const agent = (session.account.roles ?? []).includes("claims_agent") && session.account.org === c.payer;
  return h("div", { id: "appeals" }, h("h4", { text: "Appeals" }),
    table("Appeals", ["Appeal", "Lines", "Reason", "State", "Filed at block", "Decided at block", "Decision", "Added benefit"], rows),
    open && agent ? form("Decide the open appeal", [
      field("Decision", "overturn", { id: "appeal-decision" }, [["uphold", "Uphold the denial"], ["overturn", "Overturn: re-price the appealed lines and pay"]]),
      field("Reason code", "reason", { required: true, id: "appeal-reason", autocomplete: "off", pattern: "[a-z\\-]+", maxlength: "64", spellcheck: "false",
        hint: "Lowercase letters and hyphens, such as documentation-supports-service: it is on the chain, so never a patient's details." }),
    ], "Sign and send the decision", async (fd) => {
      await session.send(claimsDecideAppeal({ claim: fromHex(c.claim), overturn: fd.get("overturn") === "overturn", reason: fd.get("reason").trim() }));
      say("Appeal decided.");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    }, { id: "appeal-form" }) : null);
}
