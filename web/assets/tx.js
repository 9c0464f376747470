// Generated from docs/TRANSACTIONS.md ("Reference code for browsers") by
// go test ./web -run TestTxModuleIsTheDocument -update. Do not edit.

const utf8 = new TextEncoder();

// uvarint returns the minimal LEB128 encoding of n (a Number or BigInt >= 0).
function uvarint(n) {
  n = BigInt(n);
  const out = [];
  while (n >= 0x80n) { out.push(Number(n & 0x7fn) | 0x80); n >>= 7n; }
  out.push(Number(n));
  return out;
}
const blob = (b) => [...uvarint(b.length), ...b];
const str = (s) => blob(utf8.encode(s)); // TextEncoder always yields valid UTF-8
const list = (items, enc) => [...uvarint(items.length), ...items.flatMap(enc)];
const bool = (b) => [b ? 1 : 0];
const raw = (b) => [...b]; // fixed-size bytes (keys, addresses, roots), no length

// envelope returns every field of a transaction but the signature.
function envelope({ chainId, signer, sequence, msgs }) {
  return [
    ...uvarint(1),                 // version
    ...str(chainId),
    ...signer,                     // 32-byte Ed25519 public key, no length
    ...uvarint(sequence),
    ...list(msgs, (m) => [...uvarint(m.type), ...blob(m.body)]),
  ];
}

// importSeed turns a 32-byte Ed25519 seed into a WebCrypto key (PKCS #8
// wrapping, since WebCrypto does not import raw private keys).
async function importSeed(seed) {
  const pkcs8 = new Uint8Array([
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
  return crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
}

async function publicKey(key) {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  return Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

// signTx returns the encoded, signed transaction.
async function signTx(key, t) {
  const body = envelope(t);
  const signBytes = new Uint8Array([...utf8.encode("careledger/tx/v1\n"), ...body]);
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key, signBytes));
  return new Uint8Array([...body, ...sig]);
}

const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(b)));
const address = async (pub) => (await sha256([...utf8.encode("careledger/account/v1"), ...pub])).slice(0, 20);

// Identity message bodies.
const registerPatient = () => ({ type: 1, body: [] });
const registerMember = (org, pub, roles) => ({ type: 2, body: [...str(org), ...pub, ...list(roles, str)] });
const setMemberRoles = (member, roles) => ({ type: 3, body: [...member, ...list(roles, str)] });
const setMemberStatus = (member, suspended) => ({ type: 4, body: [...member, ...bool(suspended)] });
const rotateKey = (newPub, proof) => ({ type: 5, body: [...newPub, ...proof] });
const setDelegate = (delegate, relation, remove) => ({ type: 6, body: [...delegate, ...str(relation), ...bool(remove)] });
// Recovery by guardians: addresses are 20 bytes, delay in seconds; a new key's
// proof is its signature over rotationSignBytes for the patient's address.
const setGuardians = (guardians, threshold, delay) =>
  ({ type: 7, body: [...list(guardians, raw), ...uvarint(threshold), ...uvarint(delay)] });
const proposeRecovery = (patient, newPub, proof) => ({ type: 8, body: [...patient, ...newPub, ...proof] });
const approveRecovery = (patient, recovery) => ({ type: 9, body: [...patient, ...uvarint(recovery)] });
const cancelRecovery = (patient, recovery) => ({ type: 10, body: [...patient, ...uvarint(recovery)] });
const completeRecovery = (patient, recovery) => ({ type: 11, body: [...patient, ...uvarint(recovery)] });
// A monitoring device: its 32-byte public key, custodian and the
// commitments to its LOINC codes under its salt (commitCode; empty, with
// remove, to revoke it).
const setDevice = ({ patient, pub, custodian = "", codes = [], remove = false }) =>
  ({ type: 12, body: [...patient, ...pub, ...str(custodian), ...list(codes, str), ...bool(remove)] });
const commitCode = async (salt, code) =>
  [...(await sha256([...utf8.encode("careledger/device-code/v1\n"), ...salt, ...utf8.encode(code)])).slice(0, 16)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
const rotationSignBytes = (chainId, account, newPub) =>
  new Uint8Array([...utf8.encode("careledger/rotate-key/v1\n"), ...str(chainId), ...account, ...newPub]);
const authSignBytes = (chainId, challenge) =>
  new Uint8Array([...utf8.encode("careledger/auth/v1\n"), ...str(chainId), ...str(challenge)]);
const delegationSignBytes = (chainId, org, expiresAt) =>
  new Uint8Array([...utf8.encode("careledger/delegate/v1\n"), ...str(chainId), ...str(org), ...uvarint(expiresAt)]);

// Records message bodies. Addresses are 20 bytes, roots 32.
const anchor = (custodian, patient, root, count) =>
  ({ type: 16, body: [...str(custodian), ...patient, ...root, ...uvarint(count)] });
const erase = (custodian, patient, record) => ({ type: 17, body: [...str(custodian), ...patient, ...str(record)] });

// Consent message bodies. A grantee is { org, role }, { member } or { team }.
const zeroAddress = new Uint8Array(20);
const grantee = ({ org = "", role = "", member = zeroAddress, team = 0 }) => [...str(org), ...str(role), ...member, ...uvarint(team)];
const scope = ({ types, categories = [], records = [] }) =>
  [...list(types, str), ...list(categories, str), ...list(records, str)];
const grant = ({ patient, grantee: g, scope: s, purposes, notBefore = 0, notAfter = 0, condition = "" }) => ({
  type: 32,
  body: [...patient, ...grantee(g), ...scope(s), ...list(purposes, str),
    ...uvarint(notBefore), ...uvarint(notAfter), ...str(condition)],
});
const revoke = (grantId) => ({ type: 33, body: uvarint(grantId) });
const request = ({ patient, scope: s, purpose, duration, reason }) =>
  ({ type: 34, body: [...patient, ...scope(s), ...str(purpose), ...uvarint(duration), ...str(reason)] });
const answer = (requestId, approve) => ({ type: 35, body: [...uvarint(requestId), ...bool(approve)] });
const item = ({ type, id = "", categories = [] }) => [...str(type), ...str(id), ...list(categories, str)];
// glassReason follows the items only when breakGlass is set.
const access = ({ requester, patient, purpose, breakGlass = false, items, glassReason = "" }) =>
  ({ type: 36, body: [...requester, ...patient, ...str(purpose), ...bool(breakGlass), ...list(items, item),
    ...(breakGlass ? str(glassReason) : [])] });
const review = (accessId, justified) => ({ type: 37, body: [...uvarint(accessId), ...bool(justified)] });
const setTeam = ({ patient, team = 0, members = [], orgs = [] }) =>
  ({ type: 38, body: [...patient, ...uvarint(team), ...list(members, raw), ...list(orgs, str)] });

// Governance message bodies. Fields the proposal's kind does not use stay zero.
const propose = ({ kind, org = {}, params = {}, deadline }) => ({
  type: 48,
  body: [
    ...str(kind), ...str(org.id ?? ""), ...str(org.name ?? ""), ...str(org.type ?? ""),
    ...blob(org.validatorKey ?? []), ...uvarint(org.power ?? 0),
    ...list(org.admins ?? [], raw), ...list(org.nodes ?? [], raw),
    ...uvarint(params.maxTxBytes ?? 0), ...uvarint(params.maxBlockBytes ?? 0), ...uvarint(params.celCostLimit ?? 0),
    ...str(params.defaultPolicy ?? ""), ...uvarint(deadline),
  ],
});
const vote = (proposal, yes) => ({ type: 49, body: [...uvarint(proposal), ...bool(yes)] });

// Supply message bodies. EPCs are Digital Link paths ("/01/{gtin}/21/{serial}",
// "/00/{sscc}"); hashes 32 bytes; reading values thousandths, zigzag-encoded.
const zigzag = (v) => { v = BigInt(v); return (v << 1n) ^ (v >> 63n); };
const registerProduct = ({ owner, gtin, ndc = "", excursion = "" }) =>
  ({ type: 64, body: [...str(owner), ...str(gtin), ...str(ndc), ...str(excursion)] });
const reading = ({ type, value, uom = "", exception = "" }) =>
  [...str(type), ...uvarint(zigzag(value)), ...str(uom), ...str(exception)];
const epcisEvent = (e) => [
  ...raw(e.hash), ...uvarint(e.kind), ...uvarint(e.action ?? 0), ...str(e.bizStep ?? ""), ...str(e.disposition ?? ""),
  ...list(e.epcs ?? [], str), ...str(e.parent ?? ""), ...list(e.inputs ?? [], str), ...list(e.outputs ?? [], str),
  ...str(e.source ?? ""), ...str(e.destination ?? ""), ...str(e.lot ?? ""), ...uvarint(e.expiry ?? 0),
  ...list(e.readings ?? [], reading), ...blob(e.corrects ?? []),
];
const record = (events) => ({ type: 65, body: list(events, epcisEvent) });
const release = (epcs) => ({ type: 66, body: list(epcs, str) });
const recall = (gtin, lot) => ({ type: 67, body: [...str(gtin), ...str(lot)] });
const receipt = ({ requester, gtin, serial, lot = "", expiry = 0, height, reason = "" }) =>
  [...requester, ...str(gtin), ...str(serial), ...str(lot), ...uvarint(expiry), ...uvarint(height), ...str(reason)];
const verifications = (receipts) => ({ type: 68, body: list(receipts, receipt) });
// The party directory: GLNs are 13 digits with their check digit.
const claimParties = ({ org, glns }) => ({ type: 69, body: [...str(org), ...list(glns, str)] });
const releaseParties = ({ org, glns }) => ({ type: 70, body: [...str(org), ...list(glns, str)] });

// Claims message bodies. Amounts in minor units, dates YYYYMMDD; claim IDs
// and authorizations 32 bytes (zeros for none), patients 20-byte addresses.
const claimsDeposit = ({ payer, amount }) => ({ type: 80, body: [...str(payer), ...uvarint(amount)] });
const claimsRegisterPlan = (p) => ({
  type: 81,
  body: [...str(p.payer), ...str(p.plan), ...uvarint(p.deductible), ...uvarint(p.coinsurance_bps),
    ...uvarint(p.copay), ...uvarint(p.oop_max), ...uvarint(p.year_start)],
});
const claimsRegisterCoverage = ({ payer, coverage, plan, patient, start, end = 0 }) =>
  ({ type: 82, body: [...str(payer), ...str(coverage), ...str(plan), ...patient, ...uvarint(start), ...uvarint(end)] });
const claimsFee = ({ code, modifier = "", allowed }) => [...str(code), ...str(modifier), ...uvarint(allowed)];
const claimsCodePair = ({ column1, column2, modifier }) => [...str(column1), ...str(column2), ...uvarint(modifier)];
const claimsUnitLimit = ({ code, max }) => [...str(code), ...uvarint(max)];
const claimsRule = ({ id, action, reason = "", expr }) => [...str(id), ...uvarint(action), ...str(reason), ...str(expr)];
const claimsPolicyLoad = ({ payer, version, fees = [], pairs = [], units = [], rules = [] }) => ({
  type: 83,
  body: [...str(payer), ...uvarint(version), ...list(fees, claimsFee), ...list(pairs, claimsCodePair), ...list(units, claimsUnitLimit), ...list(rules, claimsRule)],
});
const claimsPolicyPublish = ({ payer, version, effective }) =>
  ({ type: 84, body: [...str(payer), ...uvarint(version), ...uvarint(effective)] });
const claimsLine = ({ code, modifiers = [], units, charge, date, pointers = [], auth = new Uint8Array(32) }) =>
  [...str(code), ...list(modifiers, str), ...uvarint(units), ...uvarint(charge), ...uvarint(date), ...list(pointers, uvarint), ...raw(auth)];
const claimsSubmit = (c) => ({
  type: 85,
  body: [...raw(c.claim), ...uvarint(c.use), ...c.patient, ...str(c.provider), ...str(c.payer), ...str(c.coverage),
    ...uvarint(c.age), ...str(c.place), ...list(c.diagnoses ?? [], str), ...list(c.lines, claimsLine)],
});
const claimsAuthorize = ({ claim, lines }) => ({ type: 86, body: [...raw(claim), ...list(lines, uvarint)] });
const claimsAppeal = ({ claim, lines = [], reason, letter = new Uint8Array(32) }) =>
  ({ type: 87, body: [...raw(claim), ...list(lines, uvarint), ...str(reason), ...raw(letter)] });
const claimsDecideAppeal = ({ claim, overturn, reason }) => ({ type: 88, body: [...raw(claim), ...bool(overturn), ...str(reason)] });
const claimsRead = ({ reader, purpose, view, claims }) =>
  ({ type: 89, body: [...raw(reader), ...str(purpose), ...str(view), ...list(claims, raw)] });
// Trials message bodies. Roots and commitments are 32 bytes, addresses 20;
// outcome lists sorted bytewise.
const trialsRegister = (t) => ({ type: 96, body: [...str(t.trial), ...str(t.sponsor), ...str(t.board),
  ...raw(t.study), ...raw(t.protocol), ...raw(t.sap), ...list(t.primary, str), ...list(t.secondary ?? [], str)] });
const trialsAmend = (t) => ({ type: 97, body: [...str(t.trial), ...raw(t.protocol), ...raw(t.sap),
  ...list(t.primary, str), ...list(t.secondary ?? [], str)] });
const trialsApprove = ({ trial, version }) => ({ type: 98, body: [...str(trial), ...uvarint(version)] });
const trialsConsent = ({ trial, version }) => ({ type: 99, body: [...str(trial), ...uvarint(version)] });
const trialsEnroll = ({ trial, participant }) => ({ type: 100, body: [...str(trial), ...raw(participant)] });
const trialsWithdraw = ({ trial, participant }) => ({ type: 101, body: [...str(trial), ...raw(participant)] });
const trialsCommitData = (d) => ({ type: 102, body: [...str(d.trial), ...str(d.dataset), ...raw(d.root),
  ...uvarint(d.rows), ...uvarint(d.version), ...list(d.participants, raw)] });
const trialsReport = ({ trial, result, outcomes }) => ({ type: 103, body: [...str(trial), ...raw(result), ...list(outcomes, str)] });
const trialsCriteria = ({ trial, rule }) => ({ type: 104, body: [...str(trial), ...str(rule)] });
const trialsContact = ({ opt_in }) => ({ type: 105, body: [...bool(opt_in)] });
const trialsMatchCount = (m) => ({ type: 106, body: [...str(m.trial), ...uvarint(m.revision), ...str(m.custodian), ...uvarint(m.matched)] });

// Scheduling, rewards and ledger message bodies. Times in Unix seconds,
// amounts in minor units; a slot is { provider, schedule, start }.
const slotRef = ({ provider, schedule, start }) => [...str(provider), ...str(schedule), ...uvarint(start)];
const schedulePublish = (s) => ({
  type: 112,
  body: [...str(s.provider), ...str(s.schedule), ...str(s.category), ...bool(s.virtual ?? false), ...uvarint(s.deposit ?? 0),
    ...uvarint(s.cancel_before ?? 0), ...uvarint(s.late_cancel_keep_bps ?? 0), ...uvarint(s.no_show_keep_bps ?? 0)],
});
const scheduleOpenSlots = ({ provider, schedule, slots }) =>
  ({ type: 113, body: [...str(provider), ...str(schedule), ...list(slots, (s) => [...uvarint(s.start), ...uvarint(s.minutes)])] });
const scheduleBook = (patient, slot) => ({ type: 114, body: [...patient, ...slotRef(slot)] });
const scheduleCancel = (slot) => ({ type: 115, body: slotRef(slot) });
const scheduleReschedule = (slot, newStart) => ({ type: 116, body: [...slotRef(slot), ...uvarint(newStart)] });
const scheduleMark = (slot, outcome) => ({ type: 117, body: [...slotRef(slot), ...uvarint(outcome)] });
const rewardsRule = ({ event, amount, attesters, expr = "" }) => [...str(event), ...uvarint(amount), ...list(attesters, str), ...str(expr)];
const rewardsCreate = (p) => ({
  type: 120,
  body: [...str(p.sponsor), ...str(p.program), ...uvarint(p.funding), ...uvarint(p.patient_cap), ...uvarint(p.end), ...list(p.rules, rewardsRule),
    ...list(p.redeem_to ?? [], str)],
});
const rewardsAttest = ({ program, patient, event, ref }) => ({ type: 121, body: [...str(program), ...patient, ...str(event), ...raw(ref)] });
const rewardsClose = (program) => ({ type: 122, body: str(program) });
const rewardsRedeem = ({ program, patient, to, amount }) => ({ type: 123, body: [...str(program), ...patient, ...str(to), ...uvarint(amount)] });
const ledgerSend = ({ from = "", toOrg = "", toPatient = new Uint8Array(20), amount }) =>
  ({ type: 127, body: [...str(from), ...str(toOrg), ...raw(toPatient), ...uvarint(amount)] });

export {
  utf8, uvarint, blob, str, list, bool, raw, envelope, importSeed, publicKey, signTx, sha256, address, registerPatient, registerMember, setMemberRoles, setMemberStatus, rotateKey, setDelegate, setGuardians, proposeRecovery, approveRecovery, cancelRecovery, completeRecovery, setDevice, commitCode, rotationSignBytes, authSignBytes, delegationSignBytes, anchor, erase, zeroAddress, grantee, scope, grant, revoke, request, answer, item, access, review, setTeam, propose, vote, zigzag, registerProduct, reading, epcisEvent, record, release, recall, receipt, verifications, claimParties, releaseParties, claimsDeposit, claimsRegisterPlan, claimsRegisterCoverage, claimsFee, claimsCodePair, claimsUnitLimit, claimsRule, claimsPolicyLoad, claimsPolicyPublish, claimsLine, claimsSubmit, claimsAuthorize, claimsAppeal, claimsDecideAppeal, claimsRead, trialsRegister, trialsAmend, trialsApprove, trialsConsent, trialsEnroll, trialsWithdraw, trialsCommitData, trialsReport, trialsCriteria, trialsContact, trialsMatchCount, slotRef, schedulePublish, scheduleOpenSlots, scheduleBook, scheduleCancel, scheduleReschedule, scheduleMark, rewardsRule, rewardsCreate, rewardsAttest, rewardsClose, rewardsRedeem, ledgerSend,
};
