// Builds and signs every vector of testdata/vectors.json with the portal's
// own module (/portal/tx.js, as the browser loads it) and returns the
// mismatches. The browser test calls it with the vectors file.
async (vf) => {
  const T = await import("/portal/tx.js");
  const hexb = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
  const tohex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  function build(m) {
    const f = m.fields;
    switch (m.type) {
      case 1: return T.registerPatient();
      case 2: return T.registerMember(f.org, hexb(f.pub_key), f.roles);
      case 3: return T.setMemberRoles(hexb(f.member), f.roles);
      case 4: return T.setMemberStatus(hexb(f.member), f.suspended);
      case 5: return T.rotateKey(hexb(f.new_pub_key), hexb(f.proof));
      case 6: return T.setDelegate(hexb(f.delegate), f.relation, f.remove);
      case 7: return T.setGuardians((f.guardians ?? []).map(hexb), f.threshold, f.delay);
      case 8: return T.proposeRecovery(hexb(f.patient), hexb(f.new_pub_key), hexb(f.proof));
      case 9: return T.approveRecovery(hexb(f.patient), f.recovery);
      case 10: return T.cancelRecovery(hexb(f.patient), f.recovery);
      case 11: return T.completeRecovery(hexb(f.patient), f.recovery);
      case 16: return T.anchor(f.custodian, hexb(f.patient), hexb(f.root), f.count);
      case 17: return T.erase(f.custodian, hexb(f.patient), f.record);
      case 32: return T.grant({
        patient: hexb(f.patient),
        grantee: f.grantee.org ? { org: f.grantee.org, role: f.grantee.role } : { member: hexb(f.grantee.member) },
        scope: f.scope, purposes: f.purposes, notBefore: f.not_before, notAfter: f.not_after, condition: f.condition,
      });
      case 33: return T.revoke(f.grant);
      case 34: return T.request({ patient: hexb(f.patient), scope: f.scope, purpose: f.purpose, duration: f.duration, reason: f.reason });
      case 35: return T.answer(f.request, f.approve);
      case 36: return T.access({ requester: hexb(f.requester), patient: hexb(f.patient), purpose: f.purpose, breakGlass: f.break_glass, items: f.items, glassReason: f.glass_reason });
      case 37: return T.review(f.access, f.justified);
      case 48: {
        const o = f.org, p = f.params;
        const org = f.kind === "admit_org" ? { id: o.id, name: o.name, type: o.type, validatorKey: hexb(o.validator_key), power: o.power, admins: o.admins.map(hexb), nodes: o.nodes.map(hexb) } : {};
        const params = f.kind === "set_params" ? { maxTxBytes: p.max_tx_bytes, maxBlockBytes: p.max_block_bytes, celCostLimit: p.cel_cost_limit, defaultPolicy: p.default_policy } : {};
        return T.propose({ kind: f.kind, org, params, deadline: f.deadline });
      }
      case 49: return T.vote(f.proposal, f.yes);
    }
    throw new Error("no builder for type " + m.type);
  }
  const bad = [];
  let types = new Set();
  for (const [i, v] of vf.vectors.entries()) {
    try {
      const key = await T.importSeed(hexb(v.seed));
      const pub = await T.publicKey(key);
      const msgs = v.messages.map(build);
      msgs.forEach((m, j) => { types.add(m.type); if (tohex(m.body) !== v.messages[j].body) bad.push(`vector ${i} message ${j}: body differs`); });
      const signed = await T.signTx(key, { chainId: v.chain_id, signer: pub, sequence: v.sequence, msgs });
      if (tohex(signed) !== v.tx) bad.push(`vector ${i}: transaction differs`);
      if (tohex(await T.sha256(signed)) !== v.hash) bad.push(`vector ${i}: hash differs`);
      if (tohex(await T.address(pub)) !== v.address) bad.push(`vector ${i}: address differs`);
    } catch (e) {
      bad.push(`vector ${i}: ${e.message}`);
    }
  }
  return { vectors: vf.vectors.length, types: types.size, bad };
}
