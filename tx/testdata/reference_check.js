// Checks the reference code of docs/TRANSACTIONS.md against the vectors: appended
// to that code by TestBrowserReferenceCode and run with node, it builds every
// vector's messages from their fields, signs, and compares bytes, hash and
// address. Exits 1 on any mismatch.
// Node 18 has Web Crypto only as require("crypto").webcrypto; 19 and later
// also as the global crypto, as browsers do.
globalThis.crypto ??= require("crypto").webcrypto;
const fs = require("fs");
const hexb = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const tohex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
function build(m) {
  const f = m.fields;
  switch (m.type) {
    case 1: return registerPatient();
    case 2: return registerMember(f.org, hexb(f.pub_key), f.roles);
    case 3: return setMemberRoles(hexb(f.member), f.roles);
    case 4: return setMemberStatus(hexb(f.member), f.suspended);
    case 5: return rotateKey(hexb(f.new_pub_key), hexb(f.proof));
    case 6: return setDelegate(hexb(f.delegate), f.relation, f.remove);
    case 7: return setGuardians((f.guardians ?? []).map(hexb), f.threshold, f.delay);
    case 8: return proposeRecovery(hexb(f.patient), hexb(f.new_pub_key), hexb(f.proof));
    case 9: return approveRecovery(hexb(f.patient), f.recovery);
    case 10: return cancelRecovery(hexb(f.patient), f.recovery);
    case 11: return completeRecovery(hexb(f.patient), f.recovery);
    case 12: return setDevice({ patient: hexb(f.patient), pub: hexb(f.pub_key), custodian: f.custodian, codes: f.codes, remove: f.remove });
    case 16: return anchor(f.custodian, hexb(f.patient), hexb(f.root), f.count);
    case 17: return erase(f.custodian, hexb(f.patient), f.record);
    case 32: return grant({
      patient: hexb(f.patient),
      grantee: f.grantee.org ? { org: f.grantee.org, role: f.grantee.role }
        : f.grantee.team ? { team: f.grantee.team } : { member: hexb(f.grantee.member) },
      scope: f.scope, purposes: f.purposes, notBefore: f.not_before, notAfter: f.not_after, condition: f.condition,
    });
    case 33: return revoke(f.grant);
    case 34: return request({ patient: hexb(f.patient), scope: f.scope, purpose: f.purpose, duration: f.duration, reason: f.reason });
    case 35: return answer(f.request, f.approve);
    case 36: return access({ requester: hexb(f.requester), patient: hexb(f.patient), purpose: f.purpose, breakGlass: f.break_glass, items: f.items, glassReason: f.glass_reason });
    case 37: return review(f.access, f.justified);
    case 38: return setTeam({ patient: hexb(f.patient), team: f.team, members: (f.members ?? []).map(hexb), orgs: f.orgs ?? [] });
    case 48: {
      const o = f.org, p = f.params;
      const org = f.kind === "admit_org" ? { id: o.id, name: o.name, type: o.type, validatorKey: hexb(o.validator_key), power: o.power, admins: o.admins.map(hexb), nodes: o.nodes.map(hexb) } : {};
      const params = f.kind === "set_params" ? { maxTxBytes: p.max_tx_bytes, maxBlockBytes: p.max_block_bytes, celCostLimit: p.cel_cost_limit, defaultPolicy: p.default_policy } : {};
      return propose({ kind: f.kind, org, params, deadline: f.deadline });
    }
    case 49: return vote(f.proposal, f.yes);
    case 64: return registerProduct(f);
    case 65: return record(f.events.map((e) => ({
      hash: hexb(e.hash), kind: e.kind, action: e.action, bizStep: e.biz_step, disposition: e.disposition,
      epcs: e.epcs, parent: e.parent, inputs: e.inputs, outputs: e.outputs, source: e.source, destination: e.destination,
      lot: e.lot, expiry: e.expiry, readings: e.readings, corrects: e.corrects ? hexb(e.corrects) : [],
    })));
    case 66: return release(f.epcs);
    case 67: return recall(f.gtin, f.lot);
    case 68: return verifications(f.receipts.map((r) => ({ ...r, requester: hexb(r.requester) })));
    case 69: return claimParties(f);
    case 70: return releaseParties(f);
    case 80: return claimsDeposit(f);
    case 81: return claimsRegisterPlan(f);
    case 82: return claimsRegisterCoverage({ ...f, patient: hexb(f.patient) });
    case 83: return claimsPolicyLoad(f);
    case 84: return claimsPolicyPublish(f);
    case 85: return claimsSubmit({ ...f, claim: hexb(f.claim), patient: hexb(f.patient),
      lines: f.lines.map((l) => ({ ...l, auth: hexb(l.auth) })) });
    case 86: return claimsAuthorize({ claim: hexb(f.claim), lines: f.lines });
    case 87: return claimsAppeal({ ...f, claim: hexb(f.claim), letter: hexb(f.letter) });
    case 88: return claimsDecideAppeal({ ...f, claim: hexb(f.claim) });
    case 89: return claimsRead({ ...f, reader: hexb(f.reader), claims: f.claims.map(hexb) });
    case 96: return trialsRegister({ ...f, study: hexb(f.study), protocol: hexb(f.protocol), sap: hexb(f.sap) });
    case 97: return trialsAmend({ ...f, protocol: hexb(f.protocol), sap: hexb(f.sap) });
    case 98: return trialsApprove(f);
    case 99: return trialsConsent(f);
    case 100: return trialsEnroll({ ...f, participant: hexb(f.participant) });
    case 101: return trialsWithdraw({ ...f, participant: hexb(f.participant) });
    case 102: return trialsCommitData({ ...f, root: hexb(f.root), participants: f.participants.map(hexb) });
    case 103: return trialsReport({ ...f, result: hexb(f.result) });
    case 104: return trialsCriteria(f);
    case 105: return trialsContact(f);
    case 106: return trialsMatchCount(f);
    case 112: return schedulePublish(f);
    case 113: return scheduleOpenSlots(f);
    case 114: return scheduleBook(hexb(f.patient), f.slot_ref);
    case 115: return scheduleCancel(f.slot_ref);
    case 116: return scheduleReschedule(f.slot_ref, f.new_start);
    case 117: return scheduleMark(f.slot_ref, f.outcome);
    case 120: return rewardsCreate(f);
    case 121: return rewardsAttest({ ...f, patient: hexb(f.patient), ref: hexb(f.ref) });
    case 122: return rewardsClose(f.program);
    case 123: return rewardsRedeem({ ...f, patient: hexb(f.patient) });
    case 127: return ledgerSend({ from: f.from, toOrg: f.to_org, toPatient: hexb(f.to_patient), amount: f.amount });
  }
  throw new Error("no builder for type " + m.type);
}
(async () => {
  const vf = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  let bad = 0;
  // The worked example of section 11's delegation (api/v1 checks the same).
  if (tohex(delegationSignBytes("careledger-test", "org0", 1700000000)) !==
    "636172656c65646765722f64656c65676174652f76310a0f636172656c65646765722d74657374046f72673080e2cfaa06") {
    bad++; console.log("delegation sign bytes differ");
  }
  // The worked example of a device's code commitment (section 6.12).
  const salt = [...Array(16).keys()];
  if (await commitCode(salt, "2339-0") !== "0ed0f4369d89ec536600d4b4ec85d77e") {
    bad++; console.log("device code commitment differs");
  }
  for (const [i, v] of vf.vectors.entries()) {
    const key = await importSeed(hexb(v.seed));
    const pub = await publicKey(key);
    const msgs = v.messages.map(build);
    msgs.forEach((m, j) => {
      if (tohex(m.body) !== v.messages[j].body) { bad++; console.log(`vector ${i} msg ${j} body ${tohex(m.body)} want ${v.messages[j].body}`); }
    });
    for (const m of v.messages) if (m.type === 5) {
      const rsb = rotationSignBytes(v.chain_id, await address(pub), hexb(m.fields.new_pub_key));
      if (tohex(rsb) !== m.fields.rotation_sign_bytes) { bad++; console.log(`vector ${i} rotation sign bytes differ`); }
    }
    const tx = await signTx(key, { chainId: v.chain_id, signer: pub, sequence: v.sequence, msgs });
    const ok = tohex(tx) === v.tx && tohex(await sha256(tx)) === v.hash && tohex(await address(pub)) === v.address
      && btoa(String.fromCharCode(...tx)) === v.tx_base64;
    if (!ok) bad++;
    console.log(`vector ${i} ${v.messages.map((m) => m.name).join(",")}: ${ok ? "ok" : "MISMATCH"}`);
  }
  process.exit(bad ? 1 : 0);
})();
