// The node's APIs as the portal uses them: sign-in by signed challenge,
// JSON calls with the bearer token, transactions signed here and submitted,
// FHIR reads, and the event stream (read with fetch, since EventSource
// cannot send the Authorization header).
import { authSignBytes, delegationSignBytes, signTx } from "./tx.js";
import { fromHex } from "./proof.js";

// ApiError is an answer other than 2xx, with the API's stable code name
// (or the FHIR OperationOutcome's first issue).
export class ApiError extends Error {
  constructor(status, name, message) {
    super(message || name || `HTTP ${status}`);
    this.status = status;
    this.code = name;
  }
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

async function errorOf(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  if (body.error) return new ApiError(res.status, body.error.name, body.error.message);
  if (body.title && body.status) return new ApiError(res.status, body.title, body.detail || body.title); // an RFC 7807 problem (EPCIS)
  if (body.resourceType === "OperationOutcome") {
    const i = body.issue?.[0] ?? {};
    return new ApiError(res.status, i.code, i.diagnostics || i.details?.text || i.code);
  }
  return new ApiError(res.status, "", `HTTP ${res.status}`);
}

// Session is a signed-in key: its account, token and chain.
export class Session {
  constructor(key, chainId) {
    this.key = key; // { name, pub, address, privateKey }
    this.chainId = chainId;
    this.token = "";
    this.account = null;
  }

  static async chain() {
    return (await call("GET", "/v1/status")).chain_id;
  }

  // signIn obtains a token with the key's signature of a fresh challenge.
  async signIn() {
    const ch = await call("POST", "/v1/auth/challenge", { pub_key: this.key.pub });
    const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", this.key.privateKey, authSignBytes(this.chainId, ch.challenge)));
    const tok = await call("POST", "/v1/auth/token", { pub_key: this.key.pub, challenge: ch.challenge, signature: b64(sig) });
    this.token = tok.token;
    this.expires = Date.parse(tok.expires_at);
    this.account = await this.get("/v1/auth/whoami");
    return this.account;
  }

  async fresh() {
    if (!this.token || Date.now() > this.expires - 60000) await this.signIn();
  }

  async get(path) {
    await this.fresh();
    return call("GET", path, undefined, this.token);
  }

  // send signs msgs with the account's next sequence number, submits them
  // and waits for the commit. It throws the transaction's rejection.
  async send(...msgs) {
    await this.fresh();
    // A recovered key signs for the account it recovered, not its own address.
    const acct = await this.get(`/v1/accounts/${this.account?.address ?? this.key.address}`);
    const ans = await submit(this.key, this.chainId, acct.sequence, msgs);
    return ans;
  }

  // delegation returns, for the X-Delegation header, the account's signed
  // permission for this node to ask the other custodians for its records
  // for ten minutes (docs/TRANSACTIONS.md, "Delegation to a node").
  async delegation() {
    const { org } = await call("GET", "/v1/status");
    if (!org) return {};
    const expires = Math.floor(Date.now() / 1000) + 600;
    const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", this.key.privateKey, delegationSignBytes(this.chainId, org, expires)));
    return { "X-Delegation": `${expires}.${b64(sig)}` };
  }

  // fhir reads a FHIR path with the session's token and extra headers.
  async fhir(path, headers = {}) {
    await this.fresh();
    const res = await fetch("/fhir/" + path, { headers: { Accept: "application/fhir+json", Authorization: "Bearer " + this.token, ...headers } });
    if (!res.ok) throw await errorOf(res);
    return res.json();
  }

  // download fetches path as a Blob (reports, proofs).
  async download(path) {
    await this.fresh();
    const res = await fetch(path, { headers: { Authorization: "Bearer " + this.token } });
    if (!res.ok) throw await errorOf(res);
    return res.blob();
  }

  // stream calls onEvent with each event of the stream at path until
  // signal aborts; it reconnects after a dropped connection.
  async stream(path, onEvent, signal) {
    while (!signal.aborted) {
      try {
        await this.fresh();
        const res = await fetch(path, { headers: { Authorization: "Bearer " + this.token, Accept: "text/event-stream" }, signal });
        if (!res.ok) throw await errorOf(res);
        await readEvents(res.body, onEvent);
      } catch (e) {
        if (signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

// readEvents parses a text/event-stream body.
async function readEvents(body, onEvent) {
  const rd = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await rd.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (data) {
        try { onEvent(JSON.parse(data)); } catch { /* a comment or keep-alive */ }
      }
    }
  }
}

// call makes a JSON request.
export async function call(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

// submit signs and submits a transaction and waits for its commit.
export async function submit(key, chainId, sequence, msgs) {
  const signed = await signTx(key.privateKey, { chainId, signer: fromHex(key.pub), sequence, msgs });
  const ans = await call("POST", "/v1/txs", { tx: b64(signed), wait: "commit", timeout_ms: 20000 });
  if (ans.code !== 0) throw new ApiError(0, ans.code_name, ans.log || ans.code_name);
  return ans;
}
