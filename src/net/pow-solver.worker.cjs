'use strict';
// @ts-check
/*
 * The PoW solver: finds a nonce such that SHA-256(salt ‖ nonce as 8 LE bytes) has at least `difficulty`
 * leading zero bits, counted on the first 8 hash bytes read as a little-endian u64. pow.ts runs it on
 * worker threads; tests import its pure functions. Types: pow-solver.worker.d.cts.
 *
 * Why plain JavaScript: worker threads do not reliably inherit the tsx loader, so a .ts worker would break
 * under one of our two launchers. Why CommonJS: a CommonJS worker starts ~10 ms sooner than an ES module
 * one (measured), and start-up is about a third of a 20-bit solve.
 *
 * Why a hand-written SHA-256: nothing off the shelf does this search at near-OpenSSL speed from JS.
 * node:crypto pays a native call and allocations per hash (0.7 M/s here), and JS SHA-256 libraries hash
 * arbitrary messages. Here the message is a single block (24 bytes + padding) whose first 16 bytes are fixed
 * for a search, so: rounds 0–3, round 4 but for its nonce word, and the salt-only parts of the message
 * schedule are computed once per salt (powPrecompute); the padding words are constant-folded; and a try is
 * rejected after 63 of the 64 rounds, because hash word H1 (bytes 4–7, the u64's most significant bytes) is
 * IV1 plus the `a` computed by round 63. The rounds are written out with rotating variable names and int32
 * arithmetic (8 M/s per thread here): ~3x faster than the same code as loops over typed arrays (measured),
 * and no allocation per try.
 */
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Nonces a worker tries between looks at the shared stop flag and updates of its try counter. */
const POW_CHUNK = 4096;
// Short scans: a first call that loops long gets compiled twice (on-stack replacement, then whole).
const SCAN = 32;
// While the optimizing compiler works on powScan, the interpreter runs it ~100x slower; sleeping then
// leaves the CPU to the compiler threads (on 2 cores, 2 workers + 2 compilers). 1024 tries is past the
// point where V8 queues the compile; the sleeps are capped in case the code never gets fast.
const WARM_MIN = 1024;
const MAX_WARM_SLEEPS = 50;

/** @param {number} x */
function bswap(x) {
  return (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/**
 * The per-salt part of the search: state after rounds 0–3, round 4 without its nonce word, and the
 * salt-only parts of the message schedule.
 *
 * @param {Uint8Array} salt 16 bytes
 * @returns {Int32Array}
 * @example
 * const pre = powPrecompute(salt);
 */
function powPrecompute(salt) {
  if (salt.length !== 16) throw new RangeError('PoW salt must be 16 bytes');
  const dv = new DataView(salt.buffer, salt.byteOffset, 16);
  const w0 = dv.getInt32(0);
  const w1 = dv.getInt32(4);
  const w2 = dv.getInt32(8);
  const w3 = dv.getInt32(12);
  const ws = [w0, w1, w2, w3];
  let [a, b, c, d, e, f, g, h] = IV;
  for (let t = 0; t < 4; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + (g ^ (e & (f ^ g))) + K[t] + ws[t]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
  const t1 = (h + s1 + (g ^ (e & (f ^ g))) + K[4]) | 0;
  const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
  const t2 = (s0 + ((a & b) | (c & (a | b)))) | 0;
  const w16 = ((((w1 >>> 7) | (w1 << 25)) ^ ((w1 >>> 18) | (w1 << 14)) ^ (w1 >>> 3)) + w0) | 0;
  const k16 = (-459576895 + w16) | 0;
  const w17 = ((((w2 >>> 7) | (w2 << 25)) ^ ((w2 >>> 18) | (w2 << 14)) ^ (w2 >>> 3)) + w1 + 7864320) | 0;
  const k17 = (-272742522 + w17) | 0;
  const w18 =
    ((((w16 >>> 17) | (w16 << 15)) ^ ((w16 >>> 19) | (w16 << 13)) ^ (w16 >>> 10)) +
      (((w3 >>> 7) | (w3 << 25)) ^ ((w3 >>> 18) | (w3 << 14)) ^ (w3 >>> 3)) +
      w2) |
    0;
  const k18 = (264347078 + w18) | 0;
  const c19 = ((((w17 >>> 17) | (w17 << 15)) ^ ((w17 >>> 19) | (w17 << 13)) ^ (w17 >>> 10)) + w3) | 0;
  const c31 = ((((w16 >>> 7) | (w16 << 25)) ^ ((w16 >>> 18) | (w16 << 14)) ^ (w16 >>> 3)) + 192) | 0;
  const c32 = ((((w17 >>> 7) | (w17 << 25)) ^ ((w17 >>> 18) | (w17 << 14)) ^ (w17 >>> 3)) + w16) | 0;
  const c33 = ((((w18 >>> 7) | (w18 << 25)) ^ ((w18 >>> 18) | (w18 << 14)) ^ (w18 >>> 3)) + w17) | 0;
  const state = [a, b, c, e, f, g, (t1 + t2) | 0, (d + t1) | 0];
  return Int32Array.of(...state, w16, k16, w17, k17, w18, k18, c19, c31, c32, c33);
}

/**
 * Tries `count` nonces `hi * 2^32 + lo + k * step` (k = 0, 1, …; `lo + (count - 1) * step` must stay below
 * 2^32) and stops at the first whose hash word H1 has no bit of `mask` set; then `out` holds H0 and H1.
 * Rounds 5–62 below; `ab`/`bc` carry a ^ b into the next round's majority function.
 *
 * @param {Int32Array} pre from {@link powPrecompute}
 * @param {number} hi high 32 bits of the nonce
 * @param {number} lo low 32 bits of the first nonce
 * @param {number} step
 * @param {number} count
 * @param {number} mask bits of H1 (hash bytes 4–7 as a big-endian word) that must be zero
 * @param {Int32Array} out receives [H0, H1] of the hit
 * @returns {number} k of the hit, or -1
 * @example
 * const k = powScan(powPrecompute(salt), 0, 0, 1, 1 << 20, powMaskH1(16), out);
 */
function powScan(pre, hi, lo, step, count, mask, out) {
  const a3 = pre[0];
  const b3 = pre[1];
  const c3 = pre[2];
  const e3 = pre[3];
  const f3 = pre[4];
  const g3 = pre[5];
  const pa = pre[6];
  const pe = pre[7];
  const w16 = pre[8];
  const k16 = pre[9];
  const w17 = pre[10];
  const k17 = pre[11];
  const w18 = pre[12];
  const k18 = pre[13];
  const c19 = pre[14];
  const c31 = pre[15];
  const c32 = pre[16];
  const c33 = pre[17];
  const w5 = bswap(hi);
  const k5 = (1508970993 + w5) | 0;
  const c20 =
    ((((w18 >>> 17) | (w18 << 15)) ^ ((w18 >>> 19) | (w18 << 13)) ^ (w18 >>> 10)) +
      (((w5 >>> 7) | (w5 << 25)) ^ ((w5 >>> 18) | (w5 << 14)) ^ (w5 >>> 3))) |
    0;
  const c21 = (w5 + 285220864) | 0;
  let n = lo | 0;
  for (let k = 0; k < count; k++, n = (n + step) | 0) {
    const w4 = bswap(n);
    let a = (pa + w4) | 0;
    let b = a3;
    let c = b3;
    let d = c3;
    let e = (pe + w4) | 0;
    let f = e3;
    let g = f3;
    let h = g3;
    let t1 = 0;
    let s0 = 0;
    let s1 = 0;
    let x0 = 0;
    let x1 = 0;
    let ab = 0;
    let bc = a3 ^ b3;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + k5 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + 306152100 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + -1424204075 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + -670586216 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + 310598401 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + 607225278 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + 1426881987 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + 1925078388 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + -2132889090 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + -1680079193 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + -1046744524 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + k16 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + k17 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + k18 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x0 = ((w4 >>> 7) | (w4 << 25)) ^ ((w4 >>> 18) | (w4 << 14)) ^ (w4 >>> 3);
    const w19 = (x0 + c19) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + 604807628 + w19 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    const w20 = (w4 + c20) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + 770255983 + w20 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w19 >>> 17) | (w19 << 15)) ^ ((w19 >>> 19) | (w19 << 13)) ^ (w19 >>> 10);
    const w21 = (x1 + c21) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + 1249150122 + w21 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w20 >>> 17) | (w20 << 15)) ^ ((w20 >>> 19) | (w20 << 13)) ^ (w20 >>> 10);
    const w22 = (x1 + -2147483456) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + 1555081692 + w22 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w21 >>> 17) | (w21 << 15)) ^ ((w21 >>> 19) | (w21 << 13)) ^ (w21 >>> 10);
    const w23 = (x1 + w16) | 0;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + 1996064986 + w23 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w22 >>> 17) | (w22 << 15)) ^ ((w22 >>> 19) | (w22 << 13)) ^ (w22 >>> 10);
    const w24 = (x1 + w17) | 0;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + -1740746414 + w24 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w23 >>> 17) | (w23 << 15)) ^ ((w23 >>> 19) | (w23 << 13)) ^ (w23 >>> 10);
    const w25 = (x1 + w18) | 0;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + -1473132947 + w25 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w24 >>> 17) | (w24 << 15)) ^ ((w24 >>> 19) | (w24 << 13)) ^ (w24 >>> 10);
    const w26 = (x1 + w19) | 0;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + -1341970488 + w26 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w25 >>> 17) | (w25 << 15)) ^ ((w25 >>> 19) | (w25 << 13)) ^ (w25 >>> 10);
    const w27 = (x1 + w20) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + -1084653625 + w27 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w26 >>> 17) | (w26 << 15)) ^ ((w26 >>> 19) | (w26 << 13)) ^ (w26 >>> 10);
    const w28 = (x1 + w21) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + -958395405 + w28 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w27 >>> 17) | (w27 << 15)) ^ ((w27 >>> 19) | (w27 << 13)) ^ (w27 >>> 10);
    const w29 = (x1 + w22) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + -710438585 + w29 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w28 >>> 17) | (w28 << 15)) ^ ((w28 >>> 19) | (w28 << 13)) ^ (w28 >>> 10);
    const w30 = (x1 + w23 + -2144337895) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + 113926993 + w30 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w29 >>> 17) | (w29 << 15)) ^ ((w29 >>> 19) | (w29 << 13)) ^ (w29 >>> 10);
    const w31 = (x1 + w24 + c31) | 0;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + 338241895 + w31 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w30 >>> 17) | (w30 << 15)) ^ ((w30 >>> 19) | (w30 << 13)) ^ (w30 >>> 10);
    const w32 = (x1 + w25 + c32) | 0;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + 666307205 + w32 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w31 >>> 17) | (w31 << 15)) ^ ((w31 >>> 19) | (w31 << 13)) ^ (w31 >>> 10);
    const w33 = (x1 + w26 + c33) | 0;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + 773529912 + w33 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w32 >>> 17) | (w32 << 15)) ^ ((w32 >>> 19) | (w32 << 13)) ^ (w32 >>> 10);
    x0 = ((w19 >>> 7) | (w19 << 25)) ^ ((w19 >>> 18) | (w19 << 14)) ^ (w19 >>> 3);
    const w34 = (x1 + w27 + x0 + w18) | 0;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + 1294757372 + w34 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w33 >>> 17) | (w33 << 15)) ^ ((w33 >>> 19) | (w33 << 13)) ^ (w33 >>> 10);
    x0 = ((w20 >>> 7) | (w20 << 25)) ^ ((w20 >>> 18) | (w20 << 14)) ^ (w20 >>> 3);
    const w35 = (x1 + w28 + x0 + w19) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + 1396182291 + w35 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w34 >>> 17) | (w34 << 15)) ^ ((w34 >>> 19) | (w34 << 13)) ^ (w34 >>> 10);
    x0 = ((w21 >>> 7) | (w21 << 25)) ^ ((w21 >>> 18) | (w21 << 14)) ^ (w21 >>> 3);
    const w36 = (x1 + w29 + x0 + w20) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + 1695183700 + w36 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w35 >>> 17) | (w35 << 15)) ^ ((w35 >>> 19) | (w35 << 13)) ^ (w35 >>> 10);
    x0 = ((w22 >>> 7) | (w22 << 25)) ^ ((w22 >>> 18) | (w22 << 14)) ^ (w22 >>> 3);
    const w37 = (x1 + w30 + x0 + w21) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + 1986661051 + w37 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w36 >>> 17) | (w36 << 15)) ^ ((w36 >>> 19) | (w36 << 13)) ^ (w36 >>> 10);
    x0 = ((w23 >>> 7) | (w23 << 25)) ^ ((w23 >>> 18) | (w23 << 14)) ^ (w23 >>> 3);
    const w38 = (x1 + w31 + x0 + w22) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + -2117940946 + w38 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w37 >>> 17) | (w37 << 15)) ^ ((w37 >>> 19) | (w37 << 13)) ^ (w37 >>> 10);
    x0 = ((w24 >>> 7) | (w24 << 25)) ^ ((w24 >>> 18) | (w24 << 14)) ^ (w24 >>> 3);
    const w39 = (x1 + w32 + x0 + w23) | 0;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + -1838011259 + w39 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w38 >>> 17) | (w38 << 15)) ^ ((w38 >>> 19) | (w38 << 13)) ^ (w38 >>> 10);
    x0 = ((w25 >>> 7) | (w25 << 25)) ^ ((w25 >>> 18) | (w25 << 14)) ^ (w25 >>> 3);
    const w40 = (x1 + w33 + x0 + w24) | 0;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + -1564481375 + w40 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w39 >>> 17) | (w39 << 15)) ^ ((w39 >>> 19) | (w39 << 13)) ^ (w39 >>> 10);
    x0 = ((w26 >>> 7) | (w26 << 25)) ^ ((w26 >>> 18) | (w26 << 14)) ^ (w26 >>> 3);
    const w41 = (x1 + w34 + x0 + w25) | 0;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + -1474664885 + w41 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w40 >>> 17) | (w40 << 15)) ^ ((w40 >>> 19) | (w40 << 13)) ^ (w40 >>> 10);
    x0 = ((w27 >>> 7) | (w27 << 25)) ^ ((w27 >>> 18) | (w27 << 14)) ^ (w27 >>> 3);
    const w42 = (x1 + w35 + x0 + w26) | 0;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + -1035236496 + w42 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w41 >>> 17) | (w41 << 15)) ^ ((w41 >>> 19) | (w41 << 13)) ^ (w41 >>> 10);
    x0 = ((w28 >>> 7) | (w28 << 25)) ^ ((w28 >>> 18) | (w28 << 14)) ^ (w28 >>> 3);
    const w43 = (x1 + w36 + x0 + w27) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + -949202525 + w43 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w42 >>> 17) | (w42 << 15)) ^ ((w42 >>> 19) | (w42 << 13)) ^ (w42 >>> 10);
    x0 = ((w29 >>> 7) | (w29 << 25)) ^ ((w29 >>> 18) | (w29 << 14)) ^ (w29 >>> 3);
    const w44 = (x1 + w37 + x0 + w28) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + -778901479 + w44 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w43 >>> 17) | (w43 << 15)) ^ ((w43 >>> 19) | (w43 << 13)) ^ (w43 >>> 10);
    x0 = ((w30 >>> 7) | (w30 << 25)) ^ ((w30 >>> 18) | (w30 << 14)) ^ (w30 >>> 3);
    const w45 = (x1 + w38 + x0 + w29) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + -694614492 + w45 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w44 >>> 17) | (w44 << 15)) ^ ((w44 >>> 19) | (w44 << 13)) ^ (w44 >>> 10);
    x0 = ((w31 >>> 7) | (w31 << 25)) ^ ((w31 >>> 18) | (w31 << 14)) ^ (w31 >>> 3);
    const w46 = (x1 + w39 + x0 + w30) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + -200395387 + w46 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w45 >>> 17) | (w45 << 15)) ^ ((w45 >>> 19) | (w45 << 13)) ^ (w45 >>> 10);
    x0 = ((w32 >>> 7) | (w32 << 25)) ^ ((w32 >>> 18) | (w32 << 14)) ^ (w32 >>> 3);
    const w47 = (x1 + w40 + x0 + w31) | 0;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + 275423344 + w47 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w46 >>> 17) | (w46 << 15)) ^ ((w46 >>> 19) | (w46 << 13)) ^ (w46 >>> 10);
    x0 = ((w33 >>> 7) | (w33 << 25)) ^ ((w33 >>> 18) | (w33 << 14)) ^ (w33 >>> 3);
    const w48 = (x1 + w41 + x0 + w32) | 0;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + 430227734 + w48 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w47 >>> 17) | (w47 << 15)) ^ ((w47 >>> 19) | (w47 << 13)) ^ (w47 >>> 10);
    x0 = ((w34 >>> 7) | (w34 << 25)) ^ ((w34 >>> 18) | (w34 << 14)) ^ (w34 >>> 3);
    const w49 = (x1 + w42 + x0 + w33) | 0;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + 506948616 + w49 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w48 >>> 17) | (w48 << 15)) ^ ((w48 >>> 19) | (w48 << 13)) ^ (w48 >>> 10);
    x0 = ((w35 >>> 7) | (w35 << 25)) ^ ((w35 >>> 18) | (w35 << 14)) ^ (w35 >>> 3);
    const w50 = (x1 + w43 + x0 + w34) | 0;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + 659060556 + w50 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w49 >>> 17) | (w49 << 15)) ^ ((w49 >>> 19) | (w49 << 13)) ^ (w49 >>> 10);
    x0 = ((w36 >>> 7) | (w36 << 25)) ^ ((w36 >>> 18) | (w36 << 14)) ^ (w36 >>> 3);
    const w51 = (x1 + w44 + x0 + w35) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + 883997877 + w51 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w50 >>> 17) | (w50 << 15)) ^ ((w50 >>> 19) | (w50 << 13)) ^ (w50 >>> 10);
    x0 = ((w37 >>> 7) | (w37 << 25)) ^ ((w37 >>> 18) | (w37 << 14)) ^ (w37 >>> 3);
    const w52 = (x1 + w45 + x0 + w36) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + 958139571 + w52 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w51 >>> 17) | (w51 << 15)) ^ ((w51 >>> 19) | (w51 << 13)) ^ (w51 >>> 10);
    x0 = ((w38 >>> 7) | (w38 << 25)) ^ ((w38 >>> 18) | (w38 << 14)) ^ (w38 >>> 3);
    const w53 = (x1 + w46 + x0 + w37) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + 1322822218 + w53 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w52 >>> 17) | (w52 << 15)) ^ ((w52 >>> 19) | (w52 << 13)) ^ (w52 >>> 10);
    x0 = ((w39 >>> 7) | (w39 << 25)) ^ ((w39 >>> 18) | (w39 << 14)) ^ (w39 >>> 3);
    const w54 = (x1 + w47 + x0 + w38) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + 1537002063 + w54 + (f ^ (d & (e ^ f))) + s1) | 0;
    c = (c + t1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w53 >>> 17) | (w53 << 15)) ^ ((w53 >>> 19) | (w53 << 13)) ^ (w53 >>> 10);
    x0 = ((w40 >>> 7) | (w40 << 25)) ^ ((w40 >>> 18) | (w40 << 14)) ^ (w40 >>> 3);
    const w55 = (x1 + w48 + x0 + w39) | 0;
    s1 = ((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7));
    t1 = (f + 1747873779 + w55 + (e ^ (c & (d ^ e))) + s1) | 0;
    b = (b + t1) | 0;
    ab = g ^ h;
    s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
    f = (t1 + s0 + (h ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w54 >>> 17) | (w54 << 15)) ^ ((w54 >>> 19) | (w54 << 13)) ^ (w54 >>> 10);
    x0 = ((w41 >>> 7) | (w41 << 25)) ^ ((w41 >>> 18) | (w41 << 14)) ^ (w41 >>> 3);
    const w56 = (x1 + w49 + x0 + w40) | 0;
    s1 = ((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7));
    t1 = (e + 1955562222 + w56 + (d ^ (b & (c ^ d))) + s1) | 0;
    a = (a + t1) | 0;
    ab = f ^ g;
    s0 = ((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10));
    e = (t1 + s0 + (g ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w55 >>> 17) | (w55 << 15)) ^ ((w55 >>> 19) | (w55 << 13)) ^ (w55 >>> 10);
    x0 = ((w42 >>> 7) | (w42 << 25)) ^ ((w42 >>> 18) | (w42 << 14)) ^ (w42 >>> 3);
    const w57 = (x1 + w50 + x0 + w41) | 0;
    s1 = ((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7));
    t1 = (d + 2024104815 + w57 + (c ^ (a & (b ^ c))) + s1) | 0;
    h = (h + t1) | 0;
    ab = e ^ f;
    s0 = ((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10));
    d = (t1 + s0 + (f ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w56 >>> 17) | (w56 << 15)) ^ ((w56 >>> 19) | (w56 << 13)) ^ (w56 >>> 10);
    x0 = ((w43 >>> 7) | (w43 << 25)) ^ ((w43 >>> 18) | (w43 << 14)) ^ (w43 >>> 3);
    const w58 = (x1 + w51 + x0 + w42) | 0;
    s1 = ((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7));
    t1 = (c + -2067236844 + w58 + (b ^ (h & (a ^ b))) + s1) | 0;
    g = (g + t1) | 0;
    ab = d ^ e;
    s0 = ((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10));
    c = (t1 + s0 + (e ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w57 >>> 17) | (w57 << 15)) ^ ((w57 >>> 19) | (w57 << 13)) ^ (w57 >>> 10);
    x0 = ((w44 >>> 7) | (w44 << 25)) ^ ((w44 >>> 18) | (w44 << 14)) ^ (w44 >>> 3);
    const w59 = (x1 + w52 + x0 + w43) | 0;
    s1 = ((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7));
    t1 = (b + -1933114872 + w59 + (a ^ (g & (h ^ a))) + s1) | 0;
    f = (f + t1) | 0;
    ab = c ^ d;
    s0 = ((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10));
    b = (t1 + s0 + (d ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w58 >>> 17) | (w58 << 15)) ^ ((w58 >>> 19) | (w58 << 13)) ^ (w58 >>> 10);
    x0 = ((w45 >>> 7) | (w45 << 25)) ^ ((w45 >>> 18) | (w45 << 14)) ^ (w45 >>> 3);
    const w60 = (x1 + w53 + x0 + w44) | 0;
    s1 = ((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7));
    t1 = (a + -1866530822 + w60 + (h ^ (f & (g ^ h))) + s1) | 0;
    e = (e + t1) | 0;
    ab = b ^ c;
    s0 = ((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10));
    a = (t1 + s0 + (c ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w59 >>> 17) | (w59 << 15)) ^ ((w59 >>> 19) | (w59 << 13)) ^ (w59 >>> 10);
    x0 = ((w46 >>> 7) | (w46 << 25)) ^ ((w46 >>> 18) | (w46 << 14)) ^ (w46 >>> 3);
    const w61 = (x1 + w54 + x0 + w45) | 0;
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + -1538233109 + w61 + (g ^ (e & (f ^ g))) + s1) | 0;
    d = (d + t1) | 0;
    ab = a ^ b;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    h = (t1 + s0 + (b ^ (ab & bc))) | 0;
    bc = ab;
    x1 = ((w60 >>> 17) | (w60 << 15)) ^ ((w60 >>> 19) | (w60 << 13)) ^ (w60 >>> 10);
    x0 = ((w47 >>> 7) | (w47 << 25)) ^ ((w47 >>> 18) | (w47 << 14)) ^ (w47 >>> 3);
    const w62 = (x1 + w55 + x0 + w46) | 0;
    s1 = ((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7));
    t1 = (g + -1090935817 + w62 + (f ^ (d & (e ^ f))) + s1) | 0;
    ab = h ^ a;
    s0 = ((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10));
    g = (t1 + s0 + (a ^ (ab & bc))) | 0;
    bc = ab;
    const h1 = (0xbb67ae85 + g) | 0;
    if ((h1 & mask) === 0) {
      const e63 = (c + t1) | 0;
      x1 = ((w61 >>> 17) | (w61 << 15)) ^ ((w61 >>> 19) | (w61 << 13)) ^ (w61 >>> 10);
      x0 = ((w48 >>> 7) | (w48 << 25)) ^ ((w48 >>> 18) | (w48 << 14)) ^ (w48 >>> 3);
      const w63 = (x1 + w56 + x0 + w47) | 0;
      s1 = ((e63 >>> 6) | (e63 << 26)) ^ ((e63 >>> 11) | (e63 << 21)) ^ ((e63 >>> 25) | (e63 << 7));
      const u1 = (f + -965641998 + w63 + (e ^ (e63 & (d ^ e))) + s1) | 0;
      s0 = ((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10));
      out[0] = (0x6a09e667 + u1 + s0 + ((g & h) | (a & (g | h)))) | 0;
      out[1] = h1;
      return k;
    }
  }
  return -1;
}

/**
 * Leading zero bits of the first 8 hash bytes read as a little-endian u64, from the hash's first two
 * big-endian words.
 *
 * @param {number} h0 hash bytes 0–3 as a big-endian word
 * @param {number} h1 hash bytes 4–7 as a big-endian word
 * @returns {number} 0..64
 * @example
 * powLeadingZeros(0, 0x00ffffff); // 8: byte 7 is the u64's top byte
 */
function powLeadingZeros(h0, h1) {
  const top = bswap(h1);
  return top !== 0 ? Math.clz32(top) : 32 + Math.clz32(bswap(h0));
}

/**
 * The bits of H1 that must be zero for `difficulty` leading zero bits (all of them from 32 bits on).
 *
 * @param {number} difficulty
 * @returns {number}
 * @example
 * powMaskH1(8); // 0x000000ff
 */
function powMaskH1(difficulty) {
  if (difficulty <= 0) return 0;
  return difficulty >= 32 ? -1 : bswap(-1 << (32 - difficulty));
}

/**
 * The first 8 bytes of SHA-256(salt ‖ nonce as 8 LE bytes) as {@link powScan} computes them.
 *
 * @param {Uint8Array} salt 16 bytes
 * @param {bigint} nonce
 * @returns {Uint8Array}
 * @example
 * powHashPrefix(salt, 5n); // the first 8 bytes of createHash('sha256').update(salt).update(nonceLE).digest()
 */
function powHashPrefix(salt, nonce) {
  const u = BigInt.asUintN(64, nonce);
  const out = new Int32Array(2);
  powScan(powPrecompute(salt), Number(u >> 32n), Number(u & 0xffffffffn), 1, 1, 0, out);
  const bytes = new Uint8Array(8);
  const dv = new DataView(bytes.buffer);
  dv.setInt32(0, out[0] ?? 0);
  dv.setInt32(4, out[1] ?? 0);
  return bytes;
}

/**
 * One worker's share of the search: nonces `index`, `index + threads`, … until it finds one or another
 * worker raises the shared stop flag. `shared` holds the stop flag (Int32 at 0) and each worker's count of
 * tried nonces (Float64 at 8 + 8 * index), updated every {@link POW_CHUNK} tries.
 *
 * @param {import('./pow-solver.worker.d.cts').PowWorkerData} data
 * @returns {import('./pow-solver.worker.d.cts').PowWorkerResult | undefined} undefined when stopped
 * @example
 * const r = powSearch({ salt, difficulty: 8, index: 0, threads: 1, shared: new SharedArrayBuffer(16) });
 */
function powSearch(data) {
  const { salt, difficulty, index, threads, shared } = data;
  const stop = new Int32Array(shared, 0, 1);
  const tried = new Float64Array(shared, 8, threads);
  const pre = powPrecompute(salt);
  const mask = powMaskH1(difficulty);
  const out = new Int32Array(2);
  let hi = 0;
  let lo = index;
  let done = 0;
  let warm = false;
  let sleeps = 0;
  while (Atomics.load(stop, 0) === 0) {
    const count = Math.min(POW_CHUNK, Math.floor((0xffffffff - lo) / threads) + 1);
    for (let k0 = 0; k0 < count; ) {
      const n = Math.min(SCAN, count - k0);
      const t0 = warm ? 0 : performance.now();
      const k = powScan(pre, hi, lo + k0 * threads, threads, n, mask, out);
      if (!warm) {
        if (performance.now() - t0 < n * 0.001 || sleeps === MAX_WARM_SLEEPS) warm = true;
        else if (done + k0 >= WARM_MIN) {
          sleeps++;
          Atomics.wait(stop, 0, 0, 1);
        }
      }
      if (k < 0) {
        k0 += n;
        continue;
      }
      k0 += k + 1;
      if (powLeadingZeros(out[0] ?? 0, out[1] ?? 0) >= difficulty) {
        tried[index] = done + k0;
        Atomics.store(stop, 0, 1);
        const nonce = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo + (k0 - 1) * threads));
        return { nonce, tries: done + k0 };
      }
    }
    done += count;
    tried[index] = done;
    lo += count * threads;
    if (lo > 0xffffffff) {
      lo -= 0x100000000;
      hi = (hi + 1) >>> 0;
    }
  }
  return undefined;
}

module.exports = { POW_CHUNK, powPrecompute, powScan, powLeadingZeros, powMaskH1, powHashPrefix, powSearch };

if (!isMainThread && parentPort && workerData?.kind === 'cocoon-pow') {
  const result = powSearch(workerData);
  if (result) parentPort.postMessage(result);
}
