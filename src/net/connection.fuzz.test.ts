import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { tlArbitraries } from '../../test/support/tl-arbitrary.ts';
import { CocoonError, ProtocolError, TlError } from '../errors.ts';
import { cocoonCodec, decodeTlAs, encodeTl } from '../tl/cocoon.ts';
import type { TlTypes } from '../tl/cocoon-api.gen.ts';
import { Connection, type ConnectionRole, type QueryHandler } from './connection.ts';
import { encodeFrame, FRAME_HEADER, FRAME_MAX, FrameDecoder } from './frame.ts';

type Packet = TlTypes['tcp.Packet'];

const TOTAL_FRAMES = 100_000;

/** xorshift32: a seeded generator so a failing run can be reproduced from the printed seed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const int = (n: number): number => next() % n;
  const chance = (p: number): boolean => next() / 0x1_0000_0000 < p;
  const bytes = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = next() & 0xff;
    return b;
  };
  const long = (): bigint => BigInt.asIntN(64, (BigInt(next()) << 32n) | BigInt(next()));
  return { next, int, chance, bytes, long };
}

type Rng = ReturnType<typeof rng>;

function gcFunction(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/** One connection under test, over a stream whose far end is this harness. */
interface Harness {
  conn: Connection;
  stream: Duplex;
  seqno: number;
  connectId: bigint | undefined;
  /** Ids of queries the connection sent, for answers that hit a pending query. */
  queryIds: bigint[];
  queries: Promise<unknown>[];
  outputErrors: string[];
}

function dataOf(r: Rng): Buffer {
  const k = r.int(100);
  if (k < 85) return r.bytes(r.int(64));
  if (k < 98) return r.bytes(240 + r.int(40));
  return r.bytes(5000 + r.int(70_000));
}

function handlerFor(r: Rng): QueryHandler {
  const kind = r.int(8);
  return (data) => {
    switch (kind) {
      case 0:
        return data;
      case 1:
        return Promise.resolve(Buffer.from(data));
      case 2:
        throw new ProtocolError('TIMEOUT', 'fuzz timeout');
      case 3:
        return Promise.reject(new TlError('TL_BAD_VALUE', 'fuzz tl'));
      case 4:
        throw new Error('plain failure');
      case 5:
        return 'not bytes' as unknown as Uint8Array;
      case 6:
        return new Promise<Uint8Array>(() => {});
      default:
        return Promise.reject('a string, not an Error');
    }
  };
}

function harness(r: Rng, role: ConnectionRole, shortTimers: boolean): Harness {
  const out = new FrameDecoder();
  const h: Harness = {
    conn: undefined as unknown as Connection,
    stream: undefined as unknown as Duplex,
    seqno: 0,
    connectId: undefined,
    queryIds: [],
    queries: [],
    outputErrors: [],
  };
  h.stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      // Whatever the input, the connection's own output must stay well-formed.
      try {
        for (const f of out.push(chunk)) {
          const p = decodeTlAs('tcp.Packet', f.payload);
          if (p._ === 'tcp.query') h.queryIds.push(p.id);
          else if (p._ === 'tcp.connect') h.connectId = p.id;
        }
      } catch (err) {
        h.outputErrors.push(String(err));
      }
      cb();
    },
  });
  h.conn = new Connection(h.stream, {
    role,
    onQuery: handlerFor(r),
    onMessage: () => {},
    defaultQueryTimeoutMs: 60_000,
    ...(shortTimers
      ? { idleTimeoutMs: 5 + r.int(30), pingIntervalMs: 2 + r.int(10), handshakeTimeoutMs: 5 + r.int(30) }
      : { idleTimeoutMs: 30_000, handshakeTimeoutMs: 30_000 }),
  });
  return h;
}

function validPacket(r: Rng, h: Harness): Packet {
  const known = (): bigint =>
    h.queryIds.length > 0 && r.chance(0.7) ? h.queryIds[r.int(h.queryIds.length)]! : r.long();
  const k = r.int(1000);
  if (k < 150) return { _: 'tcp.ping', id: r.long() };
  if (k < 250) return { _: 'tcp.pong', id: r.long() };
  if (k < 500) return { _: 'tcp.packet', data: dataOf(r) };
  if (k < 700) return { _: 'tcp.query', id: r.long(), data: dataOf(r) };
  if (k < 850) return { _: 'tcp.queryAnswer', id: known(), data: dataOf(r) };
  if (k < 998) {
    const message = r.chance(0.5) ? 'remote failure' : r.bytes(r.int(40)).toString('utf8');
    return { _: 'tcp.queryError', id: known(), code: r.next() | 0, message };
  }
  return k < 999 ? { _: 'tcp.connect', id: r.long() } : { _: 'tcp.connected', id: r.long() };
}

const TCP_IDS = [
  0xbbe9627c, 0x0bd4302c, 0x9c17baf8, 0xc048c311, 0x4cd2f602, 0x3af51908, 0x636d41d6, 0xa57c4261,
];

/** One frame's bytes: mostly valid packets, else one of the ways a peer can get it wrong. */
function nextFrame(r: Rng, h: Harness, badness: number, others: Buffer[]): Buffer {
  if (!r.chance(badness)) return encodeFrame(encodeTl(validPacket(r, h)), h.seqno++);
  const framed = (payload: Buffer): Buffer => {
    const f = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
    f.writeUInt32LE(payload.length, 0);
    f.writeInt32LE(h.seqno++, 4);
    payload.copy(f, FRAME_HEADER);
    return f;
  };
  switch (r.int(8)) {
    case 0:
      return r.bytes(r.int(64));
    case 1: {
      const f = encodeFrame(encodeTl(validPacket(r, h)), h.seqno++);
      for (let m = 1 + r.int(4); m > 0; m--)
        f[FRAME_HEADER + r.int(f.length - FRAME_HEADER)] = r.next() & 0xff;
      return f;
    }
    case 2: {
      const f = encodeFrame(encodeTl(validPacket(r, h)), h.seqno++);
      const len = f.readUInt32LE(0);
      const lens = [0, 1, 3, 4, len - 1, len + 1, len + 4, FRAME_MAX, FRAME_MAX + 1, 0xffffffff, r.next()];
      f.writeUInt32LE(lens[r.int(lens.length)]! >>> 0, 0);
      return f;
    }
    case 3: {
      const wrong = [h.seqno + 1, h.seqno - 1, 0, -1, r.next() | 0][r.int(5)]!;
      return encodeFrame(encodeTl(validPacket(r, h)), wrong === h.seqno ? h.seqno + 7 : wrong);
    }
    case 4: {
      const f = encodeFrame(encodeTl(validPacket(r, h)), h.seqno++);
      return f.subarray(0, r.int(f.length));
    }
    case 5:
      return framed(r.bytes(4 + r.int(100)));
    case 6: {
      const p = r.bytes(4 + r.int(60));
      p.writeUInt32LE(TCP_IDS[r.int(TCP_IDS.length)]!, 0);
      return framed(p);
    }
    default:
      return framed(others[r.int(others.length)]!);
  }
}

/** The first frame: usually a correct handshake, sometimes a wrong one. */
function handshakeFrame(r: Rng, h: Harness, others: Buffer[]): Buffer {
  if (h.conn.role === 'acceptor') {
    if (r.chance(0.9)) return encodeFrame(encodeTl({ _: 'tcp.connect', id: r.long() }), h.seqno++);
  } else if (r.chance(0.9)) {
    const id = r.chance(0.95) ? h.connectId! : r.long();
    return encodeFrame(encodeTl({ _: 'tcp.connected', id }), h.seqno++);
  }
  return nextFrame(r, h, 1, others);
}

test('100,000 random and mutated frames close connections only with typed errors', {
  timeout: 180_000,
}, async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff);
  t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} reproduces)`);
  const r = rng(seed);
  const crashes: string[] = [];
  const onCrash = (err: unknown): void => {
    crashes.push(String((err as Error)?.stack ?? err));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  t.after(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  const codec = cocoonCodec();
  const arbs = tlArbitraries(codec.schema, { maxBytes: 300 });
  const others: Buffer[] = [];
  for (const c of codec.schema.combinators) {
    if (
      !c.codable ||
      c.name.startsWith('tcp.') ||
      ['bytes', 'true', 'boolTrue', 'boolFalse'].includes(c.name)
    ) {
      continue;
    }
    for (const v of fc.sample(arbs.combinatorArb(c), { numRuns: 3, seed })) others.push(codec.encode(v));
  }

  const gc = gcFunction();
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const reasons: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const closings: Promise<void>[] = [];
  const bad: string[] = [];
  let frames = 0;
  let connections = 0;

  while (frames < TOTAL_FRAMES) {
    connections++;
    // Ends: 0 peer ends the stream, 1 stream destroyed, 2 stream error, 3 local close, 4 idle timers.
    const ending = r.int(5);
    const h = harness(r, r.chance(0.5) ? 'dialer' : 'acceptor', ending === 4);
    const { conn, stream } = h;
    const badness = [0.002, 0.01, 0.05, 0.3][r.int(4)]!;
    const limit = 1 + r.int(800);
    await tick(); // let the stream start flowing, so that pushes are delivered synchronously
    let pending: Buffer[] = [handshakeFrame(r, h, others)];
    let count = 0;
    while (!conn.isClosed && count < limit && frames < TOTAL_FRAMES) {
      if (r.chance(0.6) || pending.length > 8) {
        const all = Buffer.concat(pending);
        frames += pending.length;
        count += pending.length;
        pending = [];
        for (let at = 0, pieces = 1 + r.int(3); at < all.length; pieces--) {
          const n = pieces <= 1 ? all.length - at : 1 + r.int(all.length - at);
          stream.push(all.subarray(at, at + n));
          at += n;
        }
        // Backpressure pauses reading; give the connection a turn to drain and catch up.
        if (stream.readableLength > 0) await tick();
      }
      if (conn.isReady && r.chance(0.01)) {
        const q = conn.query(dataOf(r), r.chance(0.3) ? { timeoutMs: 1 + r.int(5) } : {});
        h.queries.push(q.catch((err: unknown) => err));
      }
      if (conn.isReady && r.chance(0.01)) conn.send(dataOf(r));
      pending.push(nextFrame(r, h, badness, others));
    }
    if (!conn.isClosed) {
      if (ending === 0) stream.push(null);
      else if (ending === 1) stream.destroy();
      else if (ending === 2) stream.destroy(new Error('fuzz stream failure'));
      else if (ending === 3) conn.close(new ProtocolError('FUZZ_DONE', 'fuzz batch done'));
    }
    closings.push(
      (async () => {
        const reason = await Promise.race([conn.closed, sleep(20_000, 'hang' as const, { ref: false })]);
        if (reason === 'hang') {
          bad.push(`connection ${conn.name} never closed`);
          conn.close();
          return;
        }
        if (!(reason instanceof CocoonError) || typeof reason.code !== 'string' || reason.code === '') {
          bad.push(`close reason is not a typed CocoonError: ${String((reason as Error)?.stack ?? reason)}`);
          return;
        }
        reasons[reason.code] = (reasons[reason.code] ?? 0) + 1;
        for (const settled of await Promise.all(h.queries)) {
          const outcome = settled instanceof CocoonError ? settled.code : 'answered';
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          if (!(settled instanceof Uint8Array || settled instanceof CocoonError)) {
            bad.push(`query failed untyped: ${String(settled)}`);
          }
        }
        if (h.outputErrors.length > 0) bad.push(`malformed output: ${h.outputErrors.join('; ')}`);
      })(),
    );
    if (connections % 16 === 0) await tick();
  }
  // In-memory streams hold no handle and connection timers are unref'd: keep the loop alive for idle closes.
  const keepAlive = setInterval(() => {}, 1000);
  await Promise.all(closings);
  clearInterval(keepAlive);
  const elapsed = performance.now() - started;
  await sleep(10);
  gc?.();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  t.diagnostic(
    `${frames} frames over ${connections} connections in ${Math.round(elapsed)} ms; ` +
      `heap +${Math.round(grown / 1e6)} MB; close reasons ${JSON.stringify(reasons)}; ` +
      `own queries ${JSON.stringify(outcomes)}`,
  );

  const where = `(seed ${seed})`;
  assert.deepEqual(crashes, [], `uncaught exceptions or unhandled rejections ${where}`);
  assert.deepEqual(bad.slice(0, 5), [], `${bad.length} bad outcomes ${where}`);
  assert.ok(frames >= TOTAL_FRAMES, where);
  assert.ok(grown < 200 * 1024 * 1024, `heap grew by ${grown} bytes ${where}`);
  for (const outcome of ['answered', 'REMOTE_ERROR', 'CONNECTION_CLOSED']) {
    assert.ok((outcomes[outcome] ?? 0) > 0, `no query ${outcome} among ${JSON.stringify(outcomes)} ${where}`);
  }
  // The fuzzer must reach every way a connection can fail, or it is not exercising the connection.
  for (const code of [
    'FRAME_TOO_LARGE',
    'FRAME_TOO_SMALL',
    'BAD_SEQNO',
    'PROTOVIOLATION',
    'TL_UNKNOWN_CONSTRUCTOR',
    'TL_TRUNCATED',
    'TL_UNEXPECTED_CONSTRUCTOR',
    'CONNECTION_CLOSED',
    'STREAM_ERROR',
    'FUZZ_DONE',
  ]) {
    assert.ok((reasons[code] ?? 0) > 0, `no close with ${code} among ${JSON.stringify(reasons)} ${where}`);
  }
});
