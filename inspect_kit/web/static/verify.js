(function () {
"use strict";
// inspect-kit draw verifier: re-derives a draw from its bundle, in the visitor's own browser.
//
// An independent implementation (not the server's Python) of:
//   * the consistent-sampler tickets (PyPI consistent-sampler 1.0.10, generation 1):
//       seed_hash = sha256hex(utf8(seed)); x = int(sha256hex(utf8(seed_hash + id)), 16)
//       ticket    = "0." + reverse(decimal(x) left-padded with zeros to 64 digits)
//     a stratum's sample is its n smallest tickets, compared as strings, ties by id (code points);
//   * the canonical frame hash: sha256 of "id\tstratum\n" lines sorted by id (code points), UTF-8;
//   * the sample sizes from the quotas, in exact (BigInt) rational arithmetic;
//   * the per-draw seed rule: sha256hex(utf8(JSON ["inspect-kit/draw-seed/1", public, group, period(, salt)])).
//   * coordinated draws (inspect_kit/draw/core/coordination.py): rule 2 numbers from
//       prn_seed = sha256hex(JSON ["inspect-kit/prn/2", yearly_seed, group, public_seed(, salt)]),
//     rule 1 from JSON ["inspect-kit/prn/1", yearly_seed, group] rotated by the start
//       sha256(JSON ["inspect-kit/prn-start/1", yearly_seed, group, rotation]);
//     x = the consistent-sampler digest of id under prn_seed, v = (x + start + shift) mod 2^256 with
//     shift = floor(slot * 2^256 / slots) for "negative" (0 for "positive"); ticket = "0." +
//     floor(v * 10^78 / 2^256) as 78 digits; a stratum's sample is its n smallest v, ties by id.
//   * a drand round's BLS12-381 signature and randomness, by drand-verify.js (vendored @noble/curves).
//
// Works in any current browser (WebCrypto, BigInt) and in Node 20 (globalThis.crypto). A classic
// script (module scripts do not load from file://): the browser gets `InspectVerify` (after
// vendor/noble/noble-bls12-381.js and drand-verify.js), Node `require()`s it. No network: the page
// works from a USB stick.

const drand = (typeof module !== "undefined" && module.exports) ? require("./drand-verify.js") : globalThis.InspectDrand;

const SEED_RULE = "inspect-kit/draw-seed/1";
const utf8 = new TextEncoder();

async function sha256hex(text) {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", utf8.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Python compares str by code point; JS `<` compares UTF-16 units (differs beyond U+FFFF).
function compareCodePoints(a, b) {
  const x = Array.from(a), y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : (x.length < y.length ? -1 : 1);
}

function compareAscii(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

async function ticket(seedHash, id) {
  const x = BigInt("0x" + await sha256hex(seedHash + id));
  return "0." + x.toString(10).padStart(64, "0").split("").reverse().join("");
}

async function tickets(seed, ids) {
  const seedHash = await sha256hex(seed);
  return Promise.all(ids.map((id) => ticket(seedHash, id)));
}

// The n smallest tickets of a stratum: [{id, ticket, rank}] in ticket order.
async function select(seed, ids, n) {
  const t = await tickets(seed, ids);
  const order = ids.map((id, i) => ({ id, ticket: t[i] }));
  order.sort((a, b) => compareAscii(a.ticket, b.ticket) || compareCodePoints(a.id, b.id));
  return order.slice(0, n).map((x, i) => ({ ...x, rank: i + 1 }));
}

// -- coordinated draws (permanent random numbers) ----------------------------------------------------

const PRN_RULES = ["inspect-kit/prn/1", "inspect-kit/prn/2"];
const TWO_256 = 1n << 256n;
const TEN_78 = 10n ** 78n;

// JSON with keys sorted at every level: equal for equal values whatever the key order.
function canonical(x) {
  if (Array.isArray(x)) return `[${x.map(canonical).join(",")}]`;
  if (x && typeof x === "object") return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canonical(x[k])}`).join(",")}}`;
  return JSON.stringify(x === undefined ? null : x);
}

// {prnSeed, offset} of a bundle's coordination entry; throws with the reason if it cannot be used.
async function coordinationKey(c, d) {
  if (!c || !PRN_RULES.includes(c.rule)) throw new Error(`unknown coordination rule ${JSON.stringify(c && c.rule)}`);
  if (!["positive", "negative"].includes(c.mode)) throw new Error(`coordination mode ${JSON.stringify(c.mode)}`);
  if (!Number.isInteger(c.slot) || !Number.isInteger(c.slots) || c.slot < 0 || c.slot >= c.slots) {
    throw new Error(`coordination slot ${c.slot} outside 0..${c.slots}-1`);
  }
  const shift = c.mode === "negative" ? BigInt(c.slot) * TWO_256 / BigInt(c.slots) : 0n;
  if (c.rule === PRN_RULES[0]) {
    const start = BigInt("0x" + await sha256hex(JSON.stringify(["inspect-kit/prn-start/1", c.yearly_seed, c.group, c.rotation])));
    return { prnSeed: await sha256hex(JSON.stringify([c.rule, c.yearly_seed, c.group])), offset: (start + shift) % TWO_256 };
  }
  if (!d || typeof d.public_seed !== "string") throw new Error("a coordinated draw needs the bundle's seed derivation (its public seed)");
  const parts = [c.rule, c.yearly_seed, c.group, d.public_seed];
  if (typeof d.salt === "string") parts.push(d.salt);
  return { prnSeed: await sha256hex(JSON.stringify(parts)), offset: shift };
}

async function coordinatedTickets(key, ids) {
  const seedHash = await sha256hex(key.prnSeed);
  return Promise.all(ids.map(async (id) => {
    const v = (BigInt("0x" + await sha256hex(seedHash + id)) + key.offset) % TWO_256;
    return "0." + ((v * TEN_78) >> 256n).toString(10).padStart(78, "0");
  }));
}

// Like `select`, for a coordinated draw (tickets all 78 digits: string order is numeric order).
async function coordinatedSelect(key, ids, n) {
  const t = await coordinatedTickets(key, ids);
  const order = ids.map((id, i) => ({ id, ticket: t[i] }));
  order.sort((a, b) => compareAscii(a.ticket, b.ticket) || compareCodePoints(a.id, b.id));
  return order.slice(0, n).map((x, i) => ({ ...x, rank: i + 1 }));
}

function canonicalFrame(rows) {
  const sorted = rows.map((r) => [String(r[0]), String(r[1])]).sort((a, b) => compareCodePoints(a[0], b[0]));
  return sorted.map(([i, s]) => `${i}\t${s}\n`).join("");
}

async function derivedSeed(d) {
  const parts = [d.rule, d.public_seed, d.ticket_group, d.period];
  if (typeof d.salt === "string") parts.push(d.salt);
  return sha256hex(JSON.stringify(parts));
}

// -- exact sizes ------------------------------------------------------------------------------------

function gcd(a, b) { a = a < 0n ? -a : a; b = b < 0n ? -b : b; while (b) [a, b] = [b, a % b]; return a; }
function frac(num, den = 1n) { const g = gcd(num, den) || 1n; return { num: num / g, den: den / g }; }
function mul(a, b) { return frac(a.num * b.num, a.den * b.den); }
function floorDiv(a, b) { const q = a / b; return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q; }
function floorF(f) { return floorDiv(f.num, f.den); }
function ceilF(f) { return -floorDiv(-f.num, f.den); }
function applyRounding(f, rounding) {
  if (rounding === "ceil") return ceilF(f);
  if (rounding === "floor") return floorF(f);
  if (rounding === "round") return floorF({ num: 2n * f.num + f.den, den: 2n * f.den });  // half up
  throw new Error(`unknown rounding ${rounding}`);
}

function decimalFraction(text) {
  const [whole, part = ""] = text.split(".");
  return frac(BigInt((whole || "0") + part), 10n ** BigInt(part.length));
}

// A quota as the bundle writes it (normal form): "25%", "0.25", "1:10", "12", "5×inspectors".
function parseQuota(text) {
  let m;
  if ((m = /^(\d+(?:\.\d+)?)%$/.exec(text))) return { kind: "fraction", value: mul(decimalFraction(m[1]), frac(1n, 100n)) };
  if ((m = /^(\d+):(\d+)$/.exec(text))) return { kind: "ratio", value: frac(BigInt(m[1]), BigInt(m[2])) };
  if (/^\d+$/.test(text)) return { kind: "fixed", value: frac(BigInt(text)) };
  if (/^\d*\.\d+$|^\d+\.$/.test(text)) return { kind: "fraction", value: decimalFraction(text) };
  if ((m = /^(\d+(?:\.\d+)?)×inspectors$/.exec(text))) return { kind: "per_inspector", value: decimalFraction(m[1]) };
  throw new Error(`quota ${JSON.stringify(text)} is not understood`);
}

function largestRemainder(total, sizes) {  // Hamilton's method, ties by label (code points)
  const labels = Object.keys(sizes).sort(compareCodePoints);
  const population = labels.reduce((s, l) => s + sizes[l], 0n);
  const out = {};
  if (population === 0n) { labels.forEach((l) => { out[l] = 0n; }); return out; }
  const rem = {};
  for (const l of labels) {
    out[l] = (total * sizes[l]) / population;
    rem[l] = frac(total * sizes[l] - out[l] * population, population);
  }
  let left = total - labels.reduce((s, l) => s + out[l], 0n);
  const byRem = [...labels].sort((a, b) => {
    const d = rem[b].num * rem[a].den - rem[a].num * rem[b].den;
    return d > 0n ? 1 : d < 0n ? -1 : compareCodePoints(a, b);
  });
  for (const l of byRem) { if (left <= 0n) break; out[l] += 1n; left -= 1n; }
  return out;
}

// n per stratum, from the frame's counts and each stratum's quota (or coverage rule).
function expectedSizes(bundle, counts) {
  const out = {}, pooled = {};
  let pooledRule = null;
  for (const s of bundle.strata) {
    const N = counts[s.stratum] || 0n;
    if (s.coverage) {
      const q = BigInt(s.coverage.period), P = BigInt(s.coverage.periods), D = BigInt(s.coverage.drawn_before);
      const behind = floorDiv((q + 1n) * (D + N), P) - D;
      out[s.stratum] = behind > 0n ? behind : 0n;
      continue;
    }
    const quota = parseQuota(String(s.quota));
    if (quota.kind === "per_inspector") {
      pooled[s.stratum] = N;
      pooledRule = { quota, rounding: s.rounding };
      continue;
    }
    const raw = quota.kind === "fixed" ? quota.value : mul(quota.value, frac(N));
    const rounded = applyRounding(raw, s.rounding);
    out[s.stratum] = rounded < N ? rounded : N;
  }
  if (pooledRule) {
    const total = Object.values(pooled).reduce((a, b) => a + b, 0n);
    const onDuty = BigInt(bundle.on_duty_inspectors ?? 0);
    const raw = mul(pooledRule.quota.value, frac(onDuty));
    let n = applyRounding(raw, pooledRule.rounding);
    if (n > total) n = total;
    Object.assign(out, Object.keys(pooled).length === 1 ? { [Object.keys(pooled)[0]]: n } : largestRemainder(n, pooled));
  }
  return out;
}

// -- the whole check ------------------------------------------------------------------------------------

// Returns {ok, frame: {ok, stated, computed}, seed: {...}, strata: [{stratum, ok, N, n, problems}], problems,
//          drand: null or {ok, chain, round, randomness, problems} (drand-verify.js)}.
async function verifyBundle(bundle) {
  const problems = [];
  if (!bundle || bundle.format !== "inspect-kit/draw-bundle") {
    return { ok: false, problems: ["not an inspect-kit draw bundle"], strata: [] };
  }
  const rows = bundle.frame.rows;
  const computedHash = await sha256hex(canonicalFrame(rows));
  const frame = { ok: computedHash === bundle.frame.sha256, stated: bundle.frame.sha256, computed: computedHash };
  if (!frame.ok) problems.push(`frame hash mismatch: the bundle says ${frame.stated}, its rows hash to ${computedHash}`);
  const ids = new Set();
  for (const [id] of rows) {
    if (ids.has(id)) problems.push(`identifier ${id} appears more than once in the frame`);
    ids.add(id);
  }
  let seedCheck = { ok: true, note: "this bundle has no seed derivation (a version-1 bundle)" };
  if (bundle.seed_derivation) {
    const d = bundle.seed_derivation;
    const again = d.rule === SEED_RULE ? await derivedSeed(d) : null;
    seedCheck = { ok: again === bundle.seed, stated: bundle.seed, computed: again, public_seed: d.public_seed };
    if (!seedCheck.ok) problems.push(`the draw's seed is not derived from the public seed ${JSON.stringify(d.public_seed)}`);
  }
  let coordination = null, key = null;
  if (bundle.coordination) {
    const committed = bundle.commitment && bundle.commitment.coordination;
    coordination = { ok: true, mode: bundle.coordination.mode, group: bundle.coordination.group,
                     yearly_seed: bundle.coordination.yearly_seed, rule: bundle.coordination.rule };
    if (bundle.commitment && canonical(committed) !== canonical(bundle.coordination)) {
      coordination.ok = false;
      problems.push("the bundle's coordination is not the one its commitment names");
    }
    try { key = await coordinationKey(bundle.coordination, bundle.seed_derivation); } catch (e) {
      coordination.ok = false;
      problems.push(`coordination: ${e.message || e}`);
    }
  }
  const members = {}, counts = {};
  for (const [id, s] of rows) { (members[s] ||= []).push(id); counts[s] = (counts[s] || 0n) + 1n; }
  let sizes;
  try { sizes = expectedSizes(bundle, counts); } catch (e) { problems.push(String(e.message || e)); sizes = {}; }
  const strata = [];
  const listed = {};
  for (const x of bundle.sample) (listed[x.stratum] ||= []).push(x);
  for (const s of bundle.strata) {
    const own = [], N = counts[s.stratum] || 0n, n = sizes[s.stratum];
    if (BigInt(s.N) !== N) own.push(`N is ${s.N}, the frame has ${N}`);
    if (n !== undefined && BigInt(s.n) !== n) own.push(`n=${s.n} does not follow from the quota ${s.quota} (${s.rounding}): n=${n}`);
    const take = Number(n ?? BigInt(s.n)), pool = members[s.stratum] || [];
    const drawn = bundle.coordination ? (key ? await coordinatedSelect(key, pool, take) : [])
                                      : await select(bundle.seed, pool, take);
    const got = (listed[s.stratum] || []).slice().sort((a, b) => a.rank - b.rank);
    const expectedIds = drawn.map((x) => x.id), gotIds = got.map((x) => x.identifier);
    if (expectedIds.join("\n") !== gotIds.join("\n")) {
      const want = new Set(expectedIds), have = new Set(gotIds);
      own.push(`sample differs: drawn but not listed [${expectedIds.filter((i) => !have.has(i)).join(", ")}], `
               + `listed but not drawn [${gotIds.filter((i) => !want.has(i)).join(", ")}]`
               + (expectedIds.length === gotIds.length && expectedIds.every((i) => have.has(i)) ? " (same ids, other order)" : ""));
    }
    const inOrder = (listed[s.stratum] || []).map((x) => x.rank).every((r, i) => r === i + 1);
    if (!inOrder) own.push("ranks are not 1..n in the listed order");
    drawn.forEach((x, i) => { if (got[i] && got[i].identifier === x.id && got[i].ticket !== x.ticket) own.push(`ticket of ${x.id} differs`); });
    strata.push({ stratum: s.stratum, ok: own.length === 0, N: String(N), n: String(n ?? s.n), problems: own });
    own.forEach((p) => problems.push(`stratum ${s.stratum}: ${p}`));
  }
  for (const st of Object.keys(listed)) {
    if (!bundle.strata.some((s) => s.stratum === st)) problems.push(`the sample lists stratum ${st}, which the draw does not have`);
  }
  let drandCheck = null;
  if (bundle.seed_source && bundle.seed_source.kind === "drand") {
    const publicSeed = bundle.seed_derivation ? bundle.seed_derivation.public_seed : bundle.seed;
    drandCheck = drand.checkDrand(bundle.seed_source, publicSeed);
    drandCheck.problems.forEach((p) => problems.push(p));
  }
  return { ok: problems.length === 0, frame, seed: seedCheck, strata, problems, drand: drandCheck, coordination };
}

const api = { ticket, tickets, select, coordinationKey, coordinatedTickets, coordinatedSelect, canonicalFrame, derivedSeed, parseQuota, expectedSizes, verifyBundle, sha256hex };
if (typeof module !== "undefined" && module.exports) module.exports = api;
else globalThis.InspectVerify = api;
})();
