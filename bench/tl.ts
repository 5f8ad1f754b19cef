import { randomBytes } from 'node:crypto';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { decodeTl, encodeTl } from '../src/tl/cocoon.ts';

type Measured = { ops: number; seconds: number };

function measure(ms: number, fn: () => void): Measured {
  for (let i = 0; i < 200; i++) fn();
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) fn();
    ops += 64;
    now = process.hrtime.bigint();
  }
  return { ops, seconds: Number(now - start) / 1e9 };
}

/** Runs the cases in alternation for `rounds` rounds and keeps each one's median, so drift hits all alike. */
function interleaved(rounds: number, ms: number, cases: (() => void)[]): Measured[] {
  const results: Measured[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of cases.entries()) results[i]!.push(measure(ms, fn));
  }
  return results.map((rs) => rs.sort((a, b) => a.ops / a.seconds - b.ops / b.seconds)[rs.length >> 1]!);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** TL codec throughput: a 64 KiB tcp.packet and a small tcp.ping, encode and decode, against a memcpy baseline. */
export const tlBench: Benchmark = {
  summary: 'TL encode/decode throughput',
  async run({ quick }) {
    const ms = quick ? 50 : 200;
    const rounds = quick ? 3 : 7;
    const payload = randomBytes(64 * 1024);
    const packet = { _: 'tcp.packet', data: payload } as const;
    const packetBytes = encodeTl(packet);
    const ping = { _: 'tcp.ping', id: 0x1234567890abcdefn } as const;
    const pingBytes = encodeTl(ping);

    const decoded = decodeTl(packetBytes);
    const zeroCopyDecode =
      decoded._ === 'tcp.packet' &&
      decoded.data.buffer === packetBytes.buffer &&
      decoded.data.length === payload.length;

    // The floor for any encoder that returns a fresh buffer: allocate it and copy the payload in once.
    const [memcpy, encBig, decBig, encSmall, decSmall] = interleaved(rounds, ms, [
      () => Buffer.allocUnsafe(packetBytes.length + 8).set(payload, 16),
      () => encodeTl(packet, { prefix: 8 }),
      () => decodeTl(packetBytes),
      () => encodeTl(ping),
      () => decodeTl(pingBytes),
    ]) as [Measured, Measured, Measured, Measured, Measured];

    const mbps = (m: Measured, bytes: number) => round((m.ops * bytes) / m.seconds / 1024 / 1024);
    const opsps = (m: Measured) => Math.round(m.ops / m.seconds);
    return {
      packet_64k: {
        bytes: packetBytes.length,
        encode_ops_per_s: opsps(encBig),
        encode_mb_per_s: mbps(encBig, packetBytes.length),
        decode_ops_per_s: opsps(decBig),
        decode_mb_per_s: mbps(decBig, packetBytes.length),
        decode_zero_copy: zeroCopyDecode,
      },
      ping: {
        bytes: pingBytes.length,
        encode_ops_per_s: opsps(encSmall),
        encode_mb_per_s: mbps(encSmall, pingBytes.length),
        decode_ops_per_s: opsps(decSmall),
        decode_mb_per_s: mbps(decSmall, pingBytes.length),
      },
      baseline_alloc_copy_64k_mb_per_s: mbps(memcpy, payload.length),
      encode_vs_baseline: Math.round((opsps(encBig) / opsps(memcpy)) * 100) / 100,
    };
  },
};
