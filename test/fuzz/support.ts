// What the fuzz tests share: a seeded generator (a failure is reproduced from its printed seed), a budget that is
// a few seconds inside `npm test` and minutes under scripts/fuzz.ts, the corpus under test/fuzz/corpus/<target>/
// (replayed by every run; failing inputs are saved there when FUZZ_SAVE=1), byte and DER mutators, and the
// summary line the long run collects.
//
// Environment: FUZZ_SEED (reproduce), FUZZ_SECONDS (run each fuzz loop this long instead of its short count),
// FUZZ_RUNS (an explicit iteration count), FUZZ_SAVE=1 (write failing inputs into the corpus), FUZZ_REPORT (a
// file each test appends its JSON summary line to).

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS = join(REPO, 'test/fuzz/corpus');

export type Target = 'pow' | 'cert' | 'quote' | 'http';

/** The seed of this run: FUZZ_SEED, or a fresh one printed by the test. */
export function fuzzSeed(): number {
  const env = process.env.FUZZ_SEED;
  return env !== undefined && env !== '' ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** xorshift32 with the helpers the fuzzers use. */
export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const int = (n: number): number => (n <= 0 ? 0 : next() % n);
  const chance = (p: number): boolean => next() / 0x1_0000_0000 < p;
  const bytes = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = next() & 0xff;
    return b;
  };
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, chance, bytes, pick };
}

export type Rng = ReturnType<typeof rng>;

/**
 * How long a fuzz loop runs: `short` iterations inside `npm test`; FUZZ_RUNS iterations, or `share` of
 * FUZZ_SECONDS of wall time (a file with several loops splits its time), when the long run asks.
 */
export function budget(
  short: number,
  share = 1,
): { more: () => boolean; readonly iterations: number; readonly complete: boolean; seconds: () => number } {
  const started = performance.now();
  const secs = Number(process.env.FUZZ_SECONDS ?? 0) * share;
  const runs = Number(process.env.FUZZ_RUNS ?? 0);
  const deadline = secs > 0 ? started + secs * 1000 : Number.POSITIVE_INFINITY;
  const limit = secs > 0 ? Number.POSITIVE_INFINITY : runs > 0 ? runs : short;
  let n = 0;
  return {
    more: () => {
      if (n >= limit || performance.now() >= deadline) return false;
      n++;
      return true;
    },
    get iterations() {
      return n;
    },
    /** At least the short run's count: enough for a test to insist on reaching every outcome. */
    get complete() {
      return n >= short;
    },
    seconds: () => (performance.now() - started) / 1000,
  };
}

/** A test timeout that leaves a long run its FUZZ_SECONDS (node:test would cancel it otherwise). */
export function fuzzTimeout(shortMs = 120_000): number {
  const secs = Number(process.env.FUZZ_SECONDS ?? 0);
  return secs > 0 ? secs * 1000 + 300_000 : shortMs;
}

export interface CorpusEntry {
  /** Path relative to the repository, for messages. */
  name: string;
  data: Buffer;
}

/**
 * Every input of a target's corpus. A `*.ref` file lists other files of the repository (one path a line,
 * relative to the repository root; `#` comments) so large fixtures are referenced rather than copied.
 */
export function readCorpus(target: Target | string): CorpusEntry[] {
  const dir = join(CORPUS, target);
  if (!existsSync(dir)) return [];
  const out: CorpusEntry[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (f.startsWith('README')) continue;
    if (f.endsWith('.ref')) {
      for (const line of readFileSync(p, 'utf8').split('\n')) {
        const ref = line.replace(/#.*/, '').trim();
        if (ref) out.push({ name: ref, data: readFileSync(join(REPO, ref)) });
      }
    } else out.push({ name: relative(REPO, p), data: readFileSync(p) });
  }
  return out;
}

/**
 * Keeps a failing input as a regression case when FUZZ_SAVE=1 (the long run sets it); returns where it went.
 * The name is the input's hash, so the same failure is saved once.
 */
export function saveFailure(target: Target | string, data: Uint8Array, ext: string): string | undefined {
  if (process.env.FUZZ_SAVE !== '1') return undefined;
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  const name = `crash-${createHash('sha256').update(data).digest('hex').slice(0, 16)}.${ext}`;
  const p = join(dir, name);
  if (!existsSync(p)) writeFileSync(p, data);
  return relative(REPO, p);
}

/** Appends this test's summary to FUZZ_REPORT (the long run reads it) and prints it as a diagnostic. */
export function report(
  t: TestContext,
  s: { target: string; iterations: number; seconds: number; failures: number; seed: number; extra?: unknown },
): void {
  const line = JSON.stringify({ ...s, seconds: Math.round(s.seconds * 100) / 100 });
  t.diagnostic(line);
  if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, `${line}\n`);
}

/** Collects uncaught exceptions and unhandled rejections for the length of a test. */
export function crashCollector(t: TestContext): string[] {
  const crashes: string[] = [];
  const on = (err: unknown): void => {
    crashes.push(String((err as Error)?.stack ?? err));
  };
  process.on('uncaughtException', on);
  process.on('unhandledRejection', on);
  t.after(() => {
    process.off('uncaughtException', on);
    process.off('unhandledRejection', on);
  });
  return crashes;
}

/** Heap in use, after a collection when the flag allows one. */
export function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

const INTERESTING_U32 = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** One random edit of a byte string: flips, overwrites, truncation, extension, insertion, deletion, splices. */
export function mutate(r: Rng, input: Uint8Array, others: readonly Uint8Array[] = []): Buffer {
  let b = Buffer.from(input);
  switch (r.int(10)) {
    case 0:
      for (let m = 1 + r.int(4); m > 0 && b.length > 0; m--) b[r.int(b.length)]! ^= 1 << r.int(8);
      return b;
    case 1:
      for (let m = 1 + r.int(8); m > 0 && b.length > 0; m--) b[r.int(b.length)] = r.next() & 0xff;
      return b;
    case 2:
      return b.subarray(0, r.int(b.length + 1));
    case 3:
      return Buffer.concat([b, r.chance(0.5) ? r.bytes(1 + r.int(64)) : Buffer.alloc(1 + r.int(4096))]);
    case 4: {
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), r.bytes(1 + r.int(16)), b.subarray(at)]);
    }
    case 5: {
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + r.int(64)))]);
    }
    case 6: {
      // An interesting 16- or 32-bit value where a size or count may sit.
      if (b.length < 4) return b;
      const at = r.int(b.length - 3);
      const v = r.pick(INTERESTING_U32);
      if (r.chance(0.5)) b.writeUInt32LE(v >>> 0, at);
      else b.writeUInt16LE(v & 0xffff, at);
      return b;
    }
    case 7: {
      // A run of the input copied over another place of itself.
      if (b.length < 2) return b;
      const from = r.int(b.length);
      const len = 1 + r.int(Math.min(256, b.length - from));
      b.copy(b, r.int(b.length), from, from + len);
      return b;
    }
    case 8: {
      const other = others.length > 0 ? r.pick(others) : r.bytes(r.int(64));
      const cut = r.int(b.length + 1);
      const from = r.int(other.length + 1);
      b = Buffer.concat([b.subarray(0, cut), Buffer.from(other.subarray(from))]);
      return b;
    }
    default:
      b.fill(r.pick([0, 0xff, r.next() & 0xff]), r.int(b.length + 1), r.int(b.length + 1));
      return b;
  }
}

/** One DER element's position in its buffer. */
export interface DerSpan {
  at: number;
  tag: number;
  /** Offset of the first length byte. */
  lenAt: number;
  /** Bytes of the length field (1 for the short form). */
  lenBytes: number;
  contentAt: number;
  contentLen: number;
}

/** Every element of a DER buffer that parses cleanly, outermost first (constructed ones are descended into). */
export function derSpans(
  buf: Uint8Array,
  start = 0,
  end = buf.length,
  out: DerSpan[] = [],
  depth = 0,
): DerSpan[] {
  let p = start;
  while (p + 2 <= end && depth < 32) {
    const tag = buf[p]!;
    let len = buf[p + 1]!;
    let lenBytes = 1;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || p + 2 + n > end) return out;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p + 2 + i]!;
      lenBytes = 1 + n;
    }
    const contentAt = p + 1 + lenBytes;
    if (contentAt + len > end) return out;
    out.push({ at: p, tag, lenAt: p + 1, lenBytes, contentAt, contentLen: len });
    // Constructed elements, and OCTET/BIT STRINGs that wrap DER (extension values, keys).
    const wraps = (tag === 0x04 || tag === 0x03) && len > 2;
    if (tag & 0x20) derSpans(buf, contentAt, contentAt + len, out, depth + 1);
    else if (wraps) {
      const inner = tag === 0x03 ? contentAt + 1 : contentAt;
      if (buf[inner] === 0x30 || buf[inner] === 0x04) derSpans(buf, inner, contentAt + len, out, depth + 1);
    }
    p = contentAt + len;
  }
  return out;
}

/** A DER-aware edit: a length made huge, short, indefinite or long-form; a tag changed; content cut or replaced. */
export function mutateDer(r: Rng, input: Uint8Array): Buffer {
  const spans = derSpans(input);
  if (spans.length === 0) return mutate(r, input);
  const s = r.pick(spans);
  const b = Buffer.from(input);
  switch (r.int(7)) {
    case 0: {
      // The length bytes rewritten in place: huge, zero, off by one.
      if (s.lenBytes === 1)
        b[s.lenAt] = r.pick([0x00, 0x7f, 0x80, 0x81, 0x84, 0x85, 0xff, (s.contentLen + 1) & 0x7f]);
      else {
        const v = r.pick([0xff, 0x00, 0x7f, 0x80]);
        for (let i = 1; i < s.lenBytes; i++) b[s.lenAt + i] = i === 1 || r.chance(0.5) ? v : b[s.lenAt + i]!;
      }
      return b;
    }
    case 1:
      b[s.at] = r.pick([
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x17, 0x18, 0x1f, 0x30, 0x31, 0xa0, 0xa3, 0xff,
      ]);
      return b;
    case 2:
      // Cut inside the element: everything after is gone.
      return b.subarray(0, s.contentAt + r.int(s.contentLen + 1));
    case 3: {
      // The content replaced by random bytes of the same length (the structure around stays consistent).
      r.bytes(s.contentLen).copy(b, s.contentAt);
      return b;
    }
    case 4: {
      // A long-form length of a different size for the same value (non-minimal DER).
      const len = Buffer.alloc(5);
      len[0] = 0x84;
      len.writeUInt32BE(s.contentLen, 1);
      return Buffer.concat([b.subarray(0, s.lenAt), len, b.subarray(s.contentAt)]);
    }
    case 5:
      // The element dropped (its container's length is now wrong).
      return Buffer.concat([b.subarray(0, s.at), b.subarray(s.contentAt + s.contentLen)]);
    default:
      // The element duplicated next to itself.
      return Buffer.concat([
        b.subarray(0, s.contentAt + s.contentLen),
        b.subarray(s.at, s.contentAt + s.contentLen),
        b.subarray(s.contentAt + s.contentLen),
      ]);
  }
}

/** Error text for an assertion: the stack of a thrown value, or what it is. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.constructor.name}: ${err.stack ?? err.message}`;
  return `non-Error thrown: ${String(err)}`;
}
