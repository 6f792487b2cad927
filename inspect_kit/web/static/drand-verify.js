(function () {
"use strict";
// inspect-kit draw verifier, the drand part: checks a drand round's BLS12-381 signature in the
// visitor's own browser, with the vendored @noble/curves (vendor/noble/README.md says which version).
//
// The same rule as the Python side (inspect_kit/draw/core/seeds.py, PyPI drand-verify):
//   * quicknet (bls-unchained-g1-rfc9380): signature on G1, public key on G2,
//       message = sha256(round as 8 big-endian bytes), DST BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_;
//   * mainnet (pedersen-bls-chained): signature on G2, public key on G1,
//       message = sha256(previous_signature || round as 8 big-endian bytes), DST ..._BLS12381G2_..._NUL_;
//   * the round's randomness is sha256(signature), and it is the draw's public seed.
// Pure and synchronous: checkDrand(seed_source, public_seed) -> {ok, chain, round, randomness, problems}.
// Loaded after vendor/noble/noble-bls12-381.js (browser global NobleBLS) or require()d by Node.

const noble = (typeof module !== "undefined" && module.exports)
  ? require("./vendor/noble/noble-bls12-381.js") : globalThis.NobleBLS;

// Declarative: the League of Entropy's chain info (chain hash as in seeds.DRAND_CHAINS).
const CHAINS = {
  quicknet: {
    chain_hash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    chained: false,
    public_key: "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
  },
  mainnet: {
    chain_hash: "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce",
    chained: true,
    public_key: "868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31",
  },
};

function fromHex(what, text) {
  if (typeof text !== "string" || !/^([0-9a-fA-F]{2})+$/.test(text)) throw new Error(`${what} is not hexadecimal bytes`);
  return Uint8Array.from(text.match(/../g), (b) => parseInt(b, 16));
}

function toHex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }

function roundBytes(round) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(round));
  return out;
}

// The message the network signed for this round.
function message(chain, round, previous) {
  const r = roundBytes(round);
  if (!chain.chained) return noble.sha256(r);
  const both = new Uint8Array(previous.length + 8);
  both.set(previous);
  both.set(r, previous.length);
  return noble.sha256(both);
}

// True when the signature is the chain's signature of the round (a malformed point is false too).
function signatureValid(chain, round, signature, previous) {
  const msg = message(chain, round, previous);
  const key = fromHex("the public key", chain.public_key);
  try {
    return chain.chained
      ? noble.bls12_381.verify(signature, msg, key)
      : noble.bls12_381.verifyShortSignature(signature, msg, key);
  } catch (e) {
    return false;  // not a point of the curve, wrong length, ...: not this round's signature
  }
}

function checkDrand(source, publicSeed) {
  const problems = [];
  const name = source.chain || "quicknet";
  const out = { ok: false, chain: name, round: source.round, randomness: null, problems };
  const chain = CHAINS[name];
  if (!chain) { problems.push(`unknown drand chain ${JSON.stringify(name)}`); return out; }
  if (source.chain_hash != null && source.chain_hash !== chain.chain_hash) {
    problems.push(`drand chain hash ${source.chain_hash} is not the ${name} chain's`);
  }
  if (!Number.isSafeInteger(source.round) || source.round < 1) {
    problems.push(`a drand round is a positive whole number, got ${JSON.stringify(source.round)}`);
    return out;
  }
  const ev = source.evidence || {};
  let signature, previous = null;
  try {
    signature = fromHex("the drand signature", ev.signature);
    if (chain.chained) previous = fromHex("the previous drand signature (mainnet)", ev.previous_signature);
  } catch (e) { problems.push(String(e.message || e)); return out; }
  if (!signatureValid(chain, source.round, signature, previous)) {
    problems.push(`the signature of drand ${name} round ${source.round} does not verify`);
  }
  out.randomness = toHex(noble.sha256(signature));
  if (ev.randomness != null && String(ev.randomness).toLowerCase() !== out.randomness) {
    problems.push(`the bundle's drand randomness ${ev.randomness} is not sha256(signature) = ${out.randomness}`);
  }
  if (publicSeed !== out.randomness) {
    problems.push(`the public seed ${JSON.stringify(publicSeed)} is not the drand round's randomness ${out.randomness}`);
  }
  out.ok = problems.length === 0;
  return out;
}

const api = { CHAINS, checkDrand, message, signatureValid };
if (typeof module !== "undefined" && module.exports) module.exports = api;
else globalThis.InspectDrand = api;
})();
