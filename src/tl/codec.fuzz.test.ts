import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { tlArbitraries } from '../../test/support/tl-arbitrary.ts';
import { TlError } from '../errors.ts';
import { cocoonCodec } from './cocoon.ts';

/** xorshift32: a seeded generator so a failing input can be reproduced from the printed seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

test('decoding 100,000 random and mutated buffers fails only with TlError', () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
  const next = rng(seed);
  const codec = cocoonCodec();
  const schema = codec.schema;
  const arbs = tlArbitraries(schema, { maxBytes: 600 });
  const ids = [...schema.byId.keys()];
  const samples: Buffer[] = [];
  for (const c of schema.combinators) {
    if (!c.codable || ['bytes', 'true', 'boolTrue', 'boolFalse'].includes(c.name)) continue;
    for (const v of fc.sample(arbs.combinatorArb(c), { numRuns: 8, seed })) samples.push(codec.encode(v));
  }
  const heapBefore = process.memoryUsage().heapUsed;
  const counts: Record<string, number> = {};
  let decoded = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    let buf: Buffer;
    const kind = next() % 6;
    if (kind === 0) {
      buf = Buffer.allocUnsafe(next() % 64);
      for (let j = 0; j < buf.length; j++) buf[j] = next() & 0xff;
    } else if (kind === 1) {
      // A known id followed by random bytes.
      buf = Buffer.allocUnsafe(4 + (next() % 96));
      buf.writeUInt32LE(ids[next() % ids.length]!, 0);
      for (let j = 4; j < buf.length; j++) buf[j] = next() & 0xff;
    } else {
      const src = samples[next() % samples.length]!;
      buf = Buffer.from(src);
      if (kind === 2) {
        for (let m = 1 + (next() % 4); m > 0 && buf.length > 0; m--) buf[next() % buf.length] = next() & 0xff;
      } else if (kind === 3) {
        buf = buf.subarray(0, next() % (buf.length + 1));
      } else if (kind === 4 && buf.length >= 8) {
        // Large or negative counts and lengths where a length field may sit.
        const at = 4 + 4 * (next() % ((buf.length - 4) >> 2));
        buf.writeUInt32LE([0xffffffff, 0x7fffffff, 0xfeffffff, 0x00ffffff, next()][next() % 5]!, at);
      } else {
        buf = Buffer.concat([buf, Buffer.from([next() & 0xff])]);
      }
    }
    try {
      codec.decode(buf);
      decoded++;
    } catch (err) {
      if (!(err instanceof TlError)) {
        assert.fail(`seed ${seed}, input ${buf.toString('hex')}: ${String((err as Error)?.stack ?? err)}`);
      }
      counts[err.code] = (counts[err.code] ?? 0) + 1;
    }
  }
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 256 * 1024 * 1024, `heap grew by ${grown} bytes (seed ${seed})`);
  // Every kind of failure must have been reached, or the fuzzer is not exercising the decoder.
  for (const code of ['TL_TRUNCATED', 'TL_UNKNOWN_CONSTRUCTOR', 'TL_TRAILING_BYTES', 'TL_BAD_LENGTH']) {
    assert.ok((counts[code] ?? 0) > 0, `no ${code} among ${JSON.stringify(counts)} (seed ${seed})`);
  }
  assert.ok(decoded > 0, 'some mutations still decode');
});
