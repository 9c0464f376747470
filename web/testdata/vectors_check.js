// Builds and signs every vector of testdata/vectors.json with the portal's
// own module (/portal/tx.js, as the browser loads it) and returns the
// mismatches. The browser test calls it with the vectors file, after
// putting the message builder of tx/testdata/reference_check.js (which
// Node runs against docs/TRANSACTIONS.md) in place of BUILD.
async (vf) => {
  const T = await import("/portal/tx.js");
  const hexb = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
  const tohex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  // build(m) is tx/testdata/reference_check.js's, put here by the test:
  // it calls the builders by name, which the module's exports provide.
  Object.assign(globalThis, T);
  /*BUILD*/
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
