// Audit proofs checked in the browser, trusting nothing the node says: RFC
// 6962 leaf and node hashes, inclusion proofs (RFC 9162 section 2.1.3.2),
// the app hash that binds the log to a block header, and the audit leaf's
// canonical bytes, decoded so that what is shown is what was proven.
import { sha256 } from "./tx.js";

const utf8 = new TextEncoder();
const text = new TextDecoder("utf-8", { fatal: true });

export const fromBase64 = (s) => Uint8Array.from(atob(s ?? ""), (c) => c.charCodeAt(0));
export const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export const leafHash = (leaf) => sha256([0, ...leaf]);
const nodeHash = (l, r) => sha256([1, ...l, ...r]);

// verifyInclusion reports whether leaf is entry index of the log of size
// entries whose root is root, by the audit path proof.
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1;
  let r = await leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// appHash is audit.AppHash: what a block header commits to.
export async function appHash(stateRoot, logSize, logRoot) {
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(logSize));
  return sha256([...utf8.encode("careledger/app-hash/v1\n"), ...stateRoot, ...size, ...logRoot]);
}

// reader reads the canonical encoding (wire/): LEB128 integers,
// length-prefixed strings, fixed-size byte strings.
function reader(b) {
  let i = 0;
  const need = (n) => { if (i + n > b.length) throw new Error("leaf ends early"); };
  const r = {
    uint() {
      let n = 0n, shift = 0n;
      for (;;) {
        need(1);
        const x = b[i++];
        n |= BigInt(x & 0x7f) << shift;
        if (x < 0x80) return n;
        shift += 7n;
        if (shift > 63n) throw new Error("integer too long");
      }
    },
    raw(n) { need(n); const out = b.slice(i, i + n); i += n; return out; },
    string() { return text.decode(r.raw(Number(r.uint()))); },
    done() { if (i !== b.length) throw new Error("bytes after the leaf"); },
  };
  return r;
}

// decodeLeaf is audit.DecodeEvent.
export function decodeLeaf(leaf) {
  const r = reader(leaf);
  if (text.decode(r.raw(26)) !== "careledger/audit-event/v1\n") throw new Error("not a CareLedger audit leaf");
  const ev = { height: Number(r.uint()), time: new Date(Number(r.uint() / 1000000n)) };
  ev.tx = toHex(r.raw(32));
  ev.txIndex = Number(r.uint());
  ev.index = Number(r.uint());
  ev.type = r.string();
  ev.attrs = {};
  for (let n = Number(r.uint()); n > 0; n--) ev.attrs[r.string()] = r.string();
  ev.accounts = [];
  for (let n = Number(r.uint()); n > 0; n--) ev.accounts.push(toHex(r.raw(20)));
  r.done();
  return ev;
}

// verifyCheckpoint checks that the log (size, root) beside the state root
// gives the app hash of the signed header of block height+1, of chain
// chainId. It returns a reason for a failure, or "".
export async function verifyCheckpoint({ chainId, logSize, logRoot, stateRoot, height, signedHeader }) {
  const h = signedHeader?.header;
  if (!h) return "no signed header";
  if (h.chain_id !== chainId) return `the header is of chain ${h.chain_id}`;
  if (Number(h.height) !== height + 1) return `the header is of block ${h.height}, not ${height + 1}`;
  const want = await appHash(stateRoot, logSize, logRoot);
  if (toHex(want) !== String(h.app_hash).toLowerCase()) return "the log and state root do not give the header's app hash";
  const c = signedHeader.commit;
  if (!c || Number(c.height) !== Number(h.height) || !(c.signatures ?? []).some((s) => s.signature)) return "the header has no commit";
  return "";
}

// verifyLeaves checks each { index, leaf, proof } against a checkpoint and
// returns, per leaf, its decoded event or the reason it fails.
export async function verifyLeaves(cp, leaves) {
  const why = await verifyCheckpoint(cp);
  return Promise.all(leaves.map(async (l) => {
    if (why) return { ok: false, reason: why };
    try {
      const leaf = fromBase64(l.leaf);
      const ok = await verifyInclusion(leaf, l.index, cp.logSize, (l.proof ?? []).map(fromBase64), cp.logRoot);
      return ok ? { ok, event: decodeLeaf(leaf) } : { ok, reason: `event ${l.index} is not in the log` };
    } catch (e) {
      return { ok: false, reason: e.message };
    }
  }));
}

// checkpointOf reads the checkpoint of a disclosure report or a proof
// bundle (both carry the same fields).
export const checkpointOf = (x) => ({
  chainId: x.chain_id, logSize: x.log_size, logRoot: fromBase64(x.log_root), stateRoot: fromBase64(x.state_root),
  height: x.height, signedHeader: x.signed_header,
});

// verifyReport checks every leaf of an accounting of disclosures; entry i
// of the answer says whether entry i of the report is proven.
export async function verifyReport(rep) {
  const cp = checkpointOf(rep);
  return Promise.all((rep.entries ?? []).map(async (e) => {
    const rs = await verifyLeaves(cp, e.leaves ?? []);
    const bad = rs.find((r) => !r.ok);
    if (bad) return bad;
    if (!rs.length) return { ok: false, reason: "the entry has no proven event" };
    const ev = rs[0].event;
    if (ev.type !== "consent.access" || ev.attrs.access !== String(e.access)) return { ok: false, reason: "the entry is not what its first event says" };
    return { ok: true, event: ev };
  }));
}

// verifyBundle checks a proof bundle of one event (audit.Bundle).
export async function verifyBundle(b) {
  const [r] = await verifyLeaves(checkpointOf(b), [{ index: b.index, leaf: b.leaf, proof: b.inclusion }]);
  return r;
}
