// Views of the chain: the privacy officer's break-the-glass review queue,
// the auditor's chain health, proof checks and event search, and the
// explorer's blocks and transactions.
import { review } from "./tx.js";
import { fromBase64, toHex, verifyBundle, verifyReport } from "./proof.js";
import { act, field, form, glassReasonName, h, mark, purposeName, say, section, short, table, when } from "./ui.js";

export async function officerView({ main, session, signal }) {
  const org = session.account.org;
  const body = h("div", { id: "review-queue", "aria-live": "polite" });
  main.append(section(`Break-the-glass reviews at ${org}`, "reviews", body));
  const show = async () => {
    const { reviews } = await session.get(`/v1/orgs/${encodeURIComponent(org)}/reviews`);
    const decide = (r, justified) => (ev) => act(ev.currentTarget, async () => {
      await session.send(review(r.access, justified));
      say(`Access ${r.access} reviewed: ${justified ? "justified" : "not justified"}.`);
      await show();
    });
    body.replaceChildren(table("Emergency reads awaiting review", ["Access", "Patient", "Clinician", "Purpose", "Reason", "Block", "Decision"], reviews.map((r) => [
      String(r.access), h("code", { text: short(r.patient) }), h("code", { text: short(r.requester) }), purposeName(r.purpose),
      h("span", { class: "glass-reason", "data-reason": r.reason, text: glassReasonName(r.reason) }), String(r.height),
      h("span", {}, h("button", { type: "button", class: "justified", "data-access": r.access, onclick: decide(r, true) }, "Justified"), " ",
        h("button", { type: "button", class: "unjustified", "data-access": r.access, onclick: decide(r, false) }, "Not justified"))])));
  };
  await show();
  session.stream("/v1/events", (e) => { if (e.type === "consent.break_glass") show(); }, signal);
}

export async function auditorView({ main, session }) {
  const health = h("div", { id: "health" });
  const checked = h("div", { id: "verify-result", "aria-live": "polite" });
  const found = h("div", { id: "search-result", "aria-live": "polite" });
  const upload = form("Verify a file", [
    field("Accounting of disclosures (JSON) or proof bundle", "file", { type: "file", required: true, accept: "application/json,.json", id: "verify-file" }),
    field("Trusted genesis (genesis.json); without it, the node's validators are trusted", "genesis", { type: "file", accept: "application/json,.json", id: "verify-genesis" }),
  ], "Verify in this browser", async (fd) => {
    const doc = await readJSON(fd.get("file"));
    const g = fd.get("genesis");
    const validators = g?.size ? genesisValidators(await readJSON(g)) : (await session.get("/v1/validators")).validators;
    checked.replaceChildren(await verifyDocument(doc, validators, g?.size ? "the uploaded genesis" : "the node's validators"));
  });
  const search = form("Search audit events", [
    field("Account (pseudonym)", "account", { pattern: "[0-9a-f]{40}" }),
    field("Organization", "org"),
    field("From", "from", { type: "date" }),
    field("To", "to", { type: "date" }),
  ], "Search", async (fd) => {
    const q = new URLSearchParams({ limit: "200" });
    for (const k of ["account", "org"]) if (fd.get(k)) q.set(k, fd.get(k).trim());
    for (const k of ["from", "to"]) if (fd.get(k)) q.set(k, new Date(fd.get(k)).toISOString().replace(/\.\d+Z$/, "Z"));
    const { events } = await session.get(`/v1/audit/events?${q}`);
    found.replaceChildren(eventTable(session, events));
  });
  main.append(
    section("Chain health", "chain-health", health),
    section("Verify a proof bundle or a disclosure report", "verify",
      h("p", { text: "The file is checked here: each event's inclusion proof, the app hash of the block header the file carries, and the validators' signatures on that header. Upload the network's genesis file to trust nothing the node says." }), upload, checked),
    section("Audit events", "search", search, found),
  );
  await showHealth(session, health);
}

async function showHealth(session, el) {
  const st = await session.get("/v1/status");
  const { validators } = await session.get("/v1/validators");
  const blocks = await lastBlocks(session, st.height, 5);
  el.replaceChildren(
    h("dl", { class: "facts" },
      h("dt", { text: "Chain" }), h("dd", { text: st.chain_id }),
      h("dt", { text: "Height" }), h("dd", { id: "height", text: String(st.height) }),
      h("dt", { text: "Last block" }), h("dd", { text: when(st.block_time) }),
      h("dt", { text: "App hash" }), h("dd", {}, h("code", { class: "wrap", text: st.app_hash })),
      h("dt", { text: "Pending transactions" }), h("dd", { text: String(st.pending_txs) })),
    table("Validators", ["Organization", "Key", "Power"], validators.map((v) => [v.org, h("code", { text: short(v.key) }), String(v.power)])),
    blockTable(blocks));
}

async function lastBlocks(session, height, n) {
  const hs = [];
  for (let x = height; x > 0 && hs.length < n; x--) hs.push(x);
  return Promise.all(hs.map((x) => session.get(`/v1/blocks/${x}`)));
}

const blockTable = (blocks) => table("Last blocks", ["Height", "Time", "Transactions", "Proposer"],
  blocks.map((b) => [h("a", { href: `#/explorer?height=${b.height}`, text: String(b.height) }), when(b.time), String(b.txs.length), h("code", { text: short(b.proposer) })]));

async function readJSON(file) {
  try { return JSON.parse(await file.text()); } catch { throw new Error(`${file.name} is not JSON.`); }
}

// genesisValidators reads the validators of a CometBFT genesis file.
function genesisValidators(g) {
  if (!Array.isArray(g.validators)) throw new Error("The genesis file lists no validators.");
  return g.validators.map((v) => ({ key: toHex(fromBase64(v.pub_key?.value)), power: v.power }));
}

// verifyDocument checks an uploaded report or bundle against validators.
async function verifyDocument(doc, validators, trusted) {
  if (Array.isArray(doc.entries)) {
    const rs = await verifyReport(doc, validators);
    const bad = rs.filter((r) => !r.ok).length;
    return h("div", {}, h("p", { id: "verify-summary" }, mark(bad === 0 && rs.length > 0, `All ${rs.length} disclosures verified against the log of block ${doc.height}, signed by ${trusted}.`, `${bad} of ${rs.length} disclosures not verified.`)),
      table("Disclosures", ["Time", "Recipient", "Purpose", "Check"], doc.entries.map((e, i) => [when(e.time), e.recipient_org || short(e.recipient), purposeName(e.purpose), mark(rs[i].ok, "verified", rs[i].reason ?? "")])));
  }
  if (doc.leaf && doc.inclusion) {
    const r = await verifyBundle(doc, validators);
    return h("p", { id: "verify-summary" }, mark(r.ok, `Event ${doc.index} (${r.event?.type}) is in the log of block ${doc.height}.`, `Not verified: ${r.reason}`));
  }
  throw new Error("The file is neither an accounting of disclosures nor a proof bundle.");
}

function eventTable(session, events) {
  return table("Events", ["No.", "Time", "Type", "Details", "Proof"], events.map((a) => {
    const e = a.event;
    const check = h("button", { type: "button", "aria-label": `Verify event ${a.index}`, onclick: (ev) => act(ev.currentTarget, async () => {
      const { validators } = await session.get("/v1/validators");
      const r = await verifyBundle(await session.get(`/v1/audit/bundles/${a.index}`), validators);
      ev.target.replaceWith(mark(r.ok, "verified", r.reason ?? ""));
    }) }, "Verify");
    return [String(a.index), when(e.time), e.event.type, (e.event.attrs ?? []).map((x) => `${x.key}=${x.value}`).join(" "), check];
  }));
}

export async function explorerView({ main, session, params }) {
  const st = await session.get("/v1/status");
  const detail = h("div", { id: "block-detail", "aria-live": "polite" });
  const lookup = form("Find a block or transaction", [field("Block height or transaction hash", "q", { required: true, id: "explore-q" })], "Find", async (fd) => {
    await show(fd.get("q").trim());
  });
  const show = async (q) => {
    if (/^\d+$/.test(q)) {
      const b = await session.get(`/v1/blocks/${q}`);
      detail.replaceChildren(h("h4", { text: `Block ${b.height}` }), h("p", { text: `${when(b.time)} · ${b.signatures.length} signatures · app hash ${b.app_hash}` }),
        table("Transactions", ["Hash", "Code", "Messages"], b.txs.map((t) => [h("button", { type: "button", class: "link", onclick: () => show(t.hash) }, short(t.hash)), String(t.code), (t.messages ?? []).join(", ")])));
    } else {
      const t = await session.get(`/v1/txs/${q}`);
      const r = t.result ?? {};
      detail.replaceChildren(h("h4", { text: `Transaction ${short(q)}` }), h("p", { text: `${t.status} · ${t.code_name} · block ${t.height ?? ""} · signer ${short(r.signer)}` }),
        table("Events", ["Type", "Attributes"], (r.events ?? []).map((e) => [e.type, (e.attrs ?? []).map((a) => `${a.key}=${a.value}`).join(" ")])));
    }
  };
  main.append(section("Blocks", "blocks", blockTable(await lastBlocks(session, st.height, 10))), section("Look up", "lookup", lookup, detail));
  if (params.get("height")) await show(params.get("height"));
}
