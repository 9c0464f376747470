// Audit proofs checked in the browser, trusting nothing the node says but
// the validator set it is given: RFC 6962 leaf and node hashes, inclusion
// proofs (RFC 9162 section 2.1.3.2), the app hash that binds the log to a
// block header, the validators' signatures on that header (CometBFT's
// header hash and vote sign bytes), and the audit leaf's canonical bytes,
// decoded so that what is shown is what was proven.
import { sha256, uvarint } from "./tx.js";

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
// chainId, which the trusted validators signed. It returns a reason for a
// failure, or "".
export async function verifyCheckpoint({ chainId, logSize, logRoot, stateRoot, height, signedHeader }, validators) {
  const h = signedHeader?.header;
  if (!h) return "no signed header";
  if (h.chain_id !== chainId) return `the header is of chain ${h.chain_id}`;
  if (Number(h.height) !== height + 1) return `the header is of block ${h.height}, not ${height + 1}`;
  const want = await appHash(stateRoot, logSize, logRoot);
  if (toHex(want) !== String(h.app_hash).toLowerCase()) return "the log and state root do not give the header's app hash";
  const c = signedHeader.commit;
  if (!c || Number(c.height) !== Number(h.height)) return "the header has no commit";
  return verifyCommit(chainId, signedHeader, validators);
}

// Protocol Buffers, as much of it as CometBFT's header hash and vote sign
// bytes use. proto3 leaves out zero values; gogoproto's non-nullable
// messages (part set headers, vote timestamps) are always written.
const pbKey = (field, wire) => uvarint((field << 3) | wire);
const pbUint = (field, n) => (BigInt(n) ? [...pbKey(field, 0), ...uvarint(n)] : []);
const pbBytes = (field, b) => (b.length ? [...pbKey(field, 2), ...uvarint(b.length), ...b] : []);
const pbMsg = (field, b) => [...pbKey(field, 2), ...uvarint(b.length), ...b];
function pbFixed64(field, n) {
  if (!BigInt(n)) return [];
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
  return [...pbKey(field, 1), ...b];
}

// timestamp encodes an RFC 3339 time with nanoseconds as a
// google.protobuf.Timestamp.
function timestamp(t) {
  const m = String(t).match(/^(.*?)(?:\.(\d{1,9}))?Z$/);
  if (!m) throw new Error("bad time " + t);
  const secs = BigInt(Date.parse(m[1] + "Z")) / 1000n;
  return [...pbUint(1, secs), ...pbUint(2, BigInt((m[2] ?? "").padEnd(9, "0")))];
}

const blockID = (id) => [...pbBytes(1, fromHex(id.hash.toLowerCase())), ...pbMsg(2, [...pbUint(1, id.parts.total), ...pbBytes(2, fromHex(id.parts.hash.toLowerCase()))])];

// merkleRoot is CometBFT's merkle.HashFromByteSlices (RFC 6962 hashing).
async function merkleRoot(items) {
  if (items.length === 1) return leafHash(items[0]);
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  return nodeHash(await merkleRoot(items.slice(0, k)), await merkleRoot(items.slice(k)));
}

// headerHash is CometBFT's Header.Hash.
function headerHash(h) {
  const b = (x) => pbBytes(1, fromHex((x ?? "").toLowerCase()));
  return merkleRoot([
    [...pbUint(1, h.version.block), ...pbUint(2, h.version.app ?? 0)],
    pbBytes(1, utf8.encode(h.chain_id)),
    pbUint(1, h.height),
    timestamp(h.time),
    blockID(h.last_block_id),
    b(h.last_commit_hash), b(h.data_hash), b(h.validators_hash), b(h.next_validators_hash), b(h.consensus_hash),
    b(h.app_hash), b(h.last_results_hash), b(h.evidence_hash), b(h.proposer_address),
  ]);
}

// voteSignBytes is CometBFT's VoteSignBytes for a precommit of the commit.
function voteSignBytes(chainId, c, sig) {
  const v = [...pbUint(1, 2), ...pbFixed64(2, c.height), ...pbFixed64(3, c.round), ...pbMsg(4, blockID(c.block_id)),
    ...pbMsg(5, timestamp(sig.timestamp)), ...pbBytes(6, utf8.encode(chainId))];
  return new Uint8Array([...uvarint(v.length), ...v]);
}

// verifyCommit checks that validators holding more than two thirds of the
// trusted validators' power signed the signed header, as CometBFT's
// VerifyCommitLight does. validators: [{ key (hex Ed25519), power }].
// It returns a reason for a failure, or "".
export async function verifyCommit(chainId, sh, validators) {
  const h = sh.header, c = sh.commit;
  if (toHex(await headerHash(h)) !== c.block_id.hash.toLowerCase()) return "the commit is not for this header";
  let total = 0n, signed = 0n;
  const byAddress = new Map();
  for (const v of validators) {
    const pub = fromHex(v.key);
    byAddress.set(toHex((await sha256(pub)).slice(0, 20)), { pub, power: BigInt(v.power) });
    total += BigInt(v.power);
  }
  for (const s of c.signatures ?? []) {
    if (s.block_id_flag !== 2) continue;
    const v = byAddress.get(String(s.validator_address).toLowerCase());
    if (!v) continue;
    const key = await crypto.subtle.importKey("raw", v.pub, { name: "Ed25519" }, false, ["verify"]);
    if (!await crypto.subtle.verify("Ed25519", key, fromBase64(s.signature), voteSignBytes(chainId, c, s))) return `a signature of validator ${s.validator_address} does not verify`;
    signed += v.power;
    byAddress.delete(String(s.validator_address).toLowerCase()); // each validator counts once
  }
  if (total === 0n || signed * 3n <= total * 2n) return `validators with ${signed} of ${total} voting power signed; more than two thirds must`;
  return "";
}

// verifyLeaves checks each { index, leaf, proof } against a checkpoint and
// returns, per leaf, its decoded event or the reason it fails.
export async function verifyLeaves(cp, leaves, validators) {
  const why = await verifyCheckpoint(cp, validators);
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

// verifyReport checks every leaf of an accounting of disclosures against
// the trusted validators; entry i of the answer says whether entry i of the
// report is proven.
export async function verifyReport(rep, validators) {
  const cp = checkpointOf(rep);
  return Promise.all((rep.entries ?? []).map(async (e) => {
    const rs = await verifyLeaves(cp, e.leaves ?? [], validators);
    const bad = rs.find((r) => !r.ok);
    if (bad) return bad;
    if (!rs.length) return { ok: false, reason: "the entry has no proven event" };
    const ev = rs[0].event;
    if (ev.type !== "consent.access" || ev.attrs.access !== String(e.access) || ev.attrs.break_glass !== String(!!e.break_glass) ||
      (ev.attrs.glass_reason ?? "") !== (e.glass_reason ?? "")) return { ok: false, reason: "the entry is not what its first event says" };
    return { ok: true, event: ev };
  }));
}

// verifyBundle checks a proof bundle of one event (audit.Bundle) against
// the trusted validators.
export async function verifyBundle(b, validators) {
  const [r] = await verifyLeaves(checkpointOf(b), [{ index: b.index, leaf: b.leaf, proof: b.inclusion }], validators);
  return r;
}
