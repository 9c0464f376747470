// The patient's rewards: what reward programs rewarded them (each reward an
// audit event of their account: the program, the event, who attested it,
// the amount), the programs they are in and the open ones they could earn
// from, with what each rewarded them and holds for them
// (GET /v1/programs/{id}/patients/{address}), and redeeming held rewards
// to one of the organizations the program names in redeem_to (for example
// against a co-pay at a payer), signed in this browser as rewards/redeem.
// A program with no redeem_to pays into the balance and has nothing to
// redeem.
import { fromHex } from "./proof.js";
import { rewardsRedeem } from "./tx.js";
import { field, form, h, say, section, table, when } from "./ui.js";

const money = (minor) => (Number(minor) / 100).toFixed(2);
const eventName = { attended: "appointment attended", dispensed: "prescription dispensed", in_range: "lab result in range", screening: "screening done" };

// rewarded returns what program id rewarded the signed-in patient and
// holds for them.
const rewarded = (session, id) => session.get(`/v1/programs/${encodeURIComponent(id)}/patients/${session.account.address}`);

export function rewardsSection(session, onRedeemed) {
  const programs = h("select", { id: "redeem-program", name: "program", required: true });
  const orgs = h("select", { id: "redeem-to", name: "to", required: true });
  programs.addEventListener("change", () => showRedeemTo(programs, orgs));
  const redeem = form("Redeem held rewards", [
    h("div", { class: "field" }, h("label", { for: "redeem-program", text: "Program" }), programs),
    h("div", { class: "field" }, h("label", { for: "redeem-to", text: "To" }), orgs),
    field("Amount", "amount", { id: "redeem-amount", type: "number", min: "0.01", step: "0.01", required: true, hint: "Moved from what the program holds for you to the organization's account, for example against a co-pay" }),
  ], "Redeem", async (fd) => {
    const program = fd.get("program"), to = fd.get("to");
    const amount = Math.round(Number(fd.get("amount")) * 100);
    if (!(amount > 0)) throw new Error("Enter an amount above 0.");
    // Asked again, not taken from the page, which may be older than the
    // chain; the contract refuses an overdraft all the same.
    const { held } = await rewarded(session, program);
    if (amount > held) throw new Error(`${program} holds ${money(held)} for you: you cannot redeem ${money(amount)}.`);
    await session.send(rewardsRedeem({ program, patient: fromHex(session.account.address), to, amount }));
    say(`Redeemed ${money(amount)} of ${program} to ${to}.`);
    await onRedeemed?.();
  }, { id: "redeem-form", hidden: true });
  return section("Rewards", "rewards",
    h("p", {}, "Rewards received: ", h("strong", { id: "rewards-total", text: "…" }), "; held for you to redeem: ", h("strong", { id: "rewards-held", text: "…" }),
      h("span", { class: "hint", text: " (each program either pays its rewards into your balance, shown under Appointments, or holds them for you to redeem where it says, in the block that records the event)" })),
    h("div", { id: "reward-history", "aria-live": "polite" }),
    h("div", { id: "reward-programs" }),
    h("details", { id: "redeem" }, h("summary", { text: "Redeem held rewards" }),
      h("p", { id: "redeem-none", class: "empty", text: "No program holds rewards for you to redeem." }), redeem));
}

// showRedeemTo offers the organizations the chosen program redeems to.
function showRedeemTo(programs, orgs) {
  const to = JSON.parse(programs.selectedOptions[0]?.dataset.to ?? "[]");
  orgs.replaceChildren(...to.map(([id, label]) => h("option", { value: id, text: label })));
}

// showRedeemable offers the programs that hold something for the patient,
// keeping the one chosen if it still does.
function showRedeemable(rows, orgLabel) {
  const programs = document.getElementById("redeem-program");
  if (!programs) return;
  const chosen = programs.value;
  programs.replaceChildren(...rows.map(({ p, got }) => h("option", {
    value: p.id, text: `${p.id} (${money(got.held)} held)`, selected: p.id === chosen,
    "data-to": JSON.stringify(p.redeem_to.map((id) => [id, orgLabel(id)])),
  })));
  showRedeemTo(programs, document.getElementById("redeem-to"));
  document.getElementById("redeem-form").hidden = rows.length === 0;
  document.getElementById("redeem-none").hidden = rows.length > 0;
}

// rewardHistory returns the rewards.attested events of the patient's
// account, newest first.
async function rewardHistory(session) {
  const me = session.account.address;
  const out = [];
  let after = null;
  for (;;) {
    const { events } = await session.get(`/v1/audit/events?account=${me}&limit=1000${after === null ? "" : "&after=" + after}`);
    for (const { index, event: ev } of events) {
      if (ev.event.type !== "rewards.attested") continue;
      const a = Object.fromEntries(ev.event.attrs.map((x) => [x.key, x.value]));
      out.push({ index, time: ev.time, program: a.program, event: a.event, attester: a.attester, paid: Number(a.paid) });
    }
    if (events.length < 1000) break;
    after = events[events.length - 1].index;
  }
  return out.reverse();
}

export async function showRewards(session) {
  const total = document.getElementById("rewards-total");
  if (!total) return;
  const [history, { programs }, { orgs }] = await Promise.all([rewardHistory(session), session.get("/v1/programs"),
    session.get("/v1/orgs").catch(() => ({ orgs: [] }))]);
  const names = new Map((orgs ?? []).map((o) => [o.id, o.name]));
  const orgLabel = (id) => (names.get(id) ? `${names.get(id)} (${id})` : id);
  const inIt = new Set(history.map((r) => r.program));
  const now = Date.now() / 1000;
  // A program can hold rewards only for a patient it rewarded, so the
  // programs in the history and the open ones are all there is to show.
  const shown = programs.filter((p) => inIt.has(p.id) || (!p.closed && p.end > now));
  const rows = await Promise.all(shown.map(async (p) => ({ p, got: await rewarded(session, p.id) })));
  total.textContent = money(rows.reduce((s, r) => s + r.got.total, 0));
  document.getElementById("rewards-held").textContent = money(rows.reduce((s, r) => s + r.got.held, 0));
  document.getElementById("reward-history").replaceChildren(table("Your rewards", ["When", "Program", "For", "Attested by", "Amount"], history.map((r) => [
    h("time", { datetime: r.time, text: when(r.time) }), r.program, eventName[r.event] ?? r.event, r.attester,
    r.paid ? `+${money(r.paid)}` : "nothing (a cap was reached)"])));
  const pays = (p) => p.rules.map((r) => `${money(r.amount)} per ${eventName[r.event] ?? r.event}`).join("; ");
  const held = ({ p, got }) => (p.redeem_to?.length
    ? h("span", {}, h("strong", { class: "held", "data-held": p.id, text: money(got.held) }), ` to redeem at ${p.redeem_to.map(orgLabel).join(" or ")}`)
    : "nothing: it pays into your balance");
  document.getElementById("reward-programs").replaceChildren(table("Reward programs", ["Program", "Sponsor", "Pays", "You received", "Held for you", "Ends", "Status"], rows.map((r) => [
    r.p.id, r.p.sponsor, pays(r.p), `${money(r.got.total)} of at most ${money(r.p.patient_cap)}`, held(r), when(r.p.end * 1000),
    h("span", { class: "program-status", "data-program": r.p.id, text: `${inIt.has(r.p.id) ? "you are in it" : "open to you"}${r.p.closed || r.p.end <= now ? ", ended" : ""}` })])));
  showRedeemable(rows.filter((r) => r.p.redeem_to?.length && r.got.held > 0), orgLabel);
}
