import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { checkPow, solvePowDetailed } from '../src/net/pow.ts';

const BITS = 20;

/** Nonces per second of the naive solver: one node:crypto hash per try. */
function createHashRate(ms: number): number {
  const salt = randomBytes(16);
  const nonce = Buffer.alloc(8);
  let tries = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 1024; i++) {
      nonce.writeBigInt64LE(BigInt(tries++));
      createHash('sha256').update(salt).update(nonce).digest();
    }
    elapsed = performance.now() - start;
  }
  return tries / (elapsed / 1000);
}

/**
 * The hardware floor: OpenSSL's own SHA-256 rate on one core for a 24-byte message (salt ‖ nonce, one block),
 * from `openssl speed`; undefined when the openssl CLI is missing.
 */
function opensslRate(): number | undefined {
  const r = spawnSync('openssl', ['speed', '-mr', '-seconds', '1', '-bytes', '24', 'sha256'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  // "+R:<count>:sha256:<seconds>"
  const m = /^\+R:(\d+):sha256:([\d.]+)$/m.exec(`${r.stdout}${r.stderr}`);
  return m ? Number(m[1]) / Number(m[2]) : undefined;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Time to solve 20-bit puzzles with fresh salts, worker start-up included, against a createHash baseline. */
export const powBench: Benchmark = {
  summary: 'proof-of-work solve time for 20 bits',
  async run({ quick }) {
    const runs = quick ? 3 : 15;
    const baseline = createHashRate(300);
    const openssl = opensslRate();
    const ms: number[] = [];
    let tries = 0;
    let threads = 0;
    for (let i = 0; i < runs; i++) {
      const salt = randomBytes(16);
      const start = performance.now();
      const r = await solvePowDetailed(salt, BITS);
      ms.push(performance.now() - start);
      if (!checkPow(salt, r.nonce, BITS)) throw new Error(`solver returned a bad nonce ${r.nonce}`);
      tries += r.tries;
      threads = r.threads;
    }
    const total = ms.reduce((a, b) => a + b, 0);
    const sorted = [...ms].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    const out: Record<string, unknown> = {
      bits: BITS,
      runs,
      median_ms: round(median),
      mean_ms: round(total / runs),
      hashes_per_s: Math.round(tries / (total / 1000)),
      threads,
      baseline_createhash_hashes_per_s: Math.round(baseline),
      goal_median_ms: 250,
    };
    if (openssl) {
      // A solve hashes 2^bits nonces on average, spread over the solver's threads.
      const floorMs = (2 ** BITS / (openssl * Math.max(1, threads))) * 1000;
      out.baseline_openssl_hashes_per_s_per_core = Math.round(openssl);
      out.floor_mean_ms = round(floorMs);
      out.mean_vs_floor = Math.round((total / runs / floorMs) * 100) / 100;
      out.per_thread_vs_openssl =
        Math.round((tries / (total / 1000) / Math.max(1, threads) / openssl) * 100) / 100;
    } else out.baseline_openssl_skipped = 'the openssl CLI is not installed';
    return out;
  },
};
