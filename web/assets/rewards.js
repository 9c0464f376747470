// The patient's rewards: what reward programs paid them (each payment an
// audit event of their account: the program, the event, who attested it,
// the amount), the programs they are in and the open ones they could earn
// from, and redeeming from their ledger balance to a payer's account (for
// example against a co-pay), signed in this browser as ledger/send.
import { ledgerSend } from "./tx.js";
import { act, field, form, h, say, section, table, when } from "./ui.js";

const money = (minor) => (Number(minor) / 100).toFixed(2);
const eventName = { attended: "appointment attended", dispensed: "prescription dispensed", in_range: "lab result in range", screening: "screening done" };

export function rewardsSection(session, onRedeemed) {
  const payers = h("select", { id: "redeem-payer", name: "payer", required: true });
  const redeem = form("Redeem to a payer", [
    h("div", { class: "field" }, h("label", { for: "redeem-payer", text: "Payer" }), payers),
    field("Amount", "amount", { id: "redeem-amount", type: "number", min: "0.01", step: "0.01", required: true, hint: "Moved from your balance to the payer's account, for example against a co-pay" }),
  ], "Redeem", async (fd) => {
    const amount = Math.round(Number(fd.get("amount")) * 100);
    if (!(amount > 0)) throw new Error("Enter an amount above 0.");
    await session.send(ledgerSend({ toOrg: fd.get("payer"), amount }));
    say(`Redeemed ${money(amount)} to ${fd.get("payer")}.`);
    await onRedeemed?.();
  }, { id: "redeem-form" });
  const el = section("Rewards", "rewards",
    h("p", {}, "Rewards received: ", h("strong", { id: "rewards-total", text: "…" }),
      h("span", { class: "hint", text: " (paid into your balance, shown under Appointments, in the block that records the event)" })),
    h("div", { id: "reward-history", "aria-live": "polite" }),
    h("div", { id: "reward-programs" }),
    h("details", { id: "redeem" }, h("summary", { text: "Redeem to a payer" }), redeem));
  session.get("/v1/orgs").then(({ orgs }) => payers.replaceChildren(...(orgs ?? []).filter((o) => o.type === "payer" && !o.removed)
    .map((o) => h("option", { value: o.id, text: o.name ? `${o.name} (${o.id})` : o.id })))).catch(() => {});
  return el;
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
  const [history, { programs }] = await Promise.all([rewardHistory(session), session.get("/v1/programs")]);
  const received = new Map();
  for (const r of history) received.set(r.program, (received.get(r.program) ?? 0) + r.paid);
  total.textContent = money(history.reduce((s, r) => s + r.paid, 0));
  document.getElementById("reward-history").replaceChildren(table("Rewards paid to you", ["When", "Program", "For", "Attested by", "Paid"], history.map((r) => [
    h("time", { datetime: r.time, text: when(r.time) }), r.program, eventName[r.event] ?? r.event, r.attester,
    r.paid ? `+${money(r.paid)}` : "nothing (a cap was reached)"])));
  const now = Date.now() / 1000;
  const shown = programs.filter((p) => received.has(p.id) || (!p.closed && p.end > now));
  const pays = (p) => p.rules.map((r) => `${money(r.amount)} per ${eventName[r.event] ?? r.event}`).join("; ");
  document.getElementById("reward-programs").replaceChildren(table("Reward programs", ["Program", "Sponsor", "Pays", "You received", "Ends", "Status"], shown.map((p) => [
    p.id, p.sponsor, pays(p), `${money(received.get(p.id) ?? 0)} of at most ${money(p.patient_cap)}`, when(p.end * 1000),
    h("span", { class: "program-status", "data-program": p.id, text: `${received.has(p.id) ? "you are in it" : "open to you"}${p.closed || p.end <= now ? ", ended" : ""}` })])));
}
