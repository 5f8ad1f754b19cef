import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CocoonError, ProtocolError, TlError, TonErrorCode, tonErrorCode } from '../errors.ts';
import { decodeTlAs, encodeTl } from '../tl/cocoon.ts';
import type { TlTypes } from '../tl/cocoon-api.gen.ts';
import { Connection, type ConnectionOptions, RemoteQueryError } from './connection.ts';
import { encodeFrame, FRAME_HEADER, FRAME_MAX, FrameDecoder } from './frame.ts';

type Packet = TlTypes['tcp.Packet'];

/** Two connected in-memory streams that deliver asynchronously, like a socket. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        setImmediate(() => {
          const p = peer();
          if (!p.destroyed) p.push(chunk);
          cb();
        });
      },
      final(cb) {
        setImmediate(() => {
          peer().push(null);
          cb();
        });
      },
    });
  const a = make(() => sides[1]!);
  const b = make(() => sides[0]!);
  sides.push(a, b);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  return [a, b];
}

/** A connected pair of loopback TCP sockets, destroyed after the test. */
async function tcpPair(t: TestContext): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [socket] = (await accepted) as [net.Socket];
  if (client.connecting) await once(client, 'connect');
  server.close();
  t.after(() => {
    client.destroy();
    socket.destroy();
  });
  return [client, socket];
}

type Side = Omit<ConnectionOptions, 'role'>;

/** A dialer and an acceptor over loopback TCP (or an in-memory pair), both past the handshake. */
async function connPair(
  t: TestContext,
  dialer: Side = {},
  acceptor: Side = {},
  transport: 'tcp' | 'duplex' = 'tcp',
): Promise<[Connection, Connection]> {
  const [a, b] = transport === 'tcp' ? await tcpPair(t) : duplexPair();
  const d = new Connection(a, { role: 'dialer', ...dialer });
  const c = new Connection(b, { role: 'acceptor', ...acceptor });
  t.after(() => {
    d.close();
    c.close();
  });
  await Promise.all([d.ready(), c.ready()]);
  return [d, c];
}

/** The far end of a connection driven by hand: frames in, frames out, with its own seqnos. */
class RawPeer {
  seqno = 0;
  readonly packets: Packet[] = [];
  readonly ended: Promise<unknown>;
  private readonly decoder = new FrameDecoder();
  private waiter: (() => void) | undefined;

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) this.packets.push(decodeTlAs('tcp.Packet', f.payload));
      this.waiter?.();
    });
    stream.on('error', () => {});
    this.ended = once(stream, 'close');
  }

  send(p: Packet, seqno = this.seqno++): void {
    this.stream.write(encodeFrame(encodeTl(p), seqno));
  }

  write(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  async next(timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    while (this.packets.length === 0) {
      if (Date.now() > deadline) throw new Error('no packet from the connection');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.packets.shift()!;
  }

  /** Plays the dialer: tcp.connect, then expects the echo. */
  async dial(): Promise<void> {
    this.send({ _: 'tcp.connect', id: 77n });
    assert.deepEqual(await this.next(), { _: 'tcp.connected', id: 77n });
  }
}

async function rejection(p: Promise<unknown>): Promise<CocoonError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CocoonError, `expected a CocoonError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

async function closeReason(conn: Connection, withinMs = 5000): Promise<CocoonError> {
  const timer = sleep(withinMs, 'timeout' as const, { ref: false });
  const reason = await Promise.race([conn.closed, timer]);
  assert.notEqual(reason, 'timeout', 'connection did not close');
  assert.ok(reason instanceof CocoonError, `close reason is not a CocoonError: ${String(reason)}`);
  return reason;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await sleep(5);
  }
}

const echo = async (data: Uint8Array): Promise<Uint8Array> => data;

describe('Connection handshake', () => {
  test('completes tcp.connect / tcp.connected over loopback TCP', async (t) => {
    const [d, c] = await connPair(t);
    assert.ok(d.isReady && c.isReady);
    assert.equal(d.stats.framesOut, 1);
    assert.equal(c.stats.framesIn, 1);
    assert.equal(c.stats.framesOut, 1);
  });

  test('the acceptor echoes the id of tcp.connect', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    peer.send({ _: 'tcp.connect', id: -12345678901234n });
    assert.deepEqual(await peer.next(), { _: 'tcp.connected', id: -12345678901234n });
    await conn.ready();
  });

  test('the dialer rejects tcp.connected with the wrong id', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(a, { role: 'dialer' });
    const peer = new RawPeer(b);
    const connect = await peer.next();
    assert.equal(connect._, 'tcp.connect');
    peer.send({ _: 'tcp.connected', id: (connect as { id: bigint }).id + 1n });
    assert.equal((await rejection(conn.ready())).code, 'PROTOVIOLATION');
    assert.equal((await closeReason(conn)).code, 'PROTOVIOLATION');
    assert.equal(conn.stats.errors.PROTOVIOLATION, 1);
  });

  test('closes when the first frame is not tcp.connect', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    new RawPeer(a).send({ _: 'tcp.ping', id: 1n });
    assert.equal((await closeReason(conn)).code, 'PROTOVIOLATION');
  });

  test('closes with a TlError on a garbage first frame', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    peer.write(encodeFrame(Buffer.from('this is not TL at all'), 0));
    const reason = await closeReason(conn);
    assert.ok(reason instanceof TlError);
    assert.equal(reason.code, 'TL_UNKNOWN_CONSTRUCTOR');
    await peer.ended;
  });

  test('closes with HANDSHAKE_TIMEOUT when the peer never sends tcp.connect', async (t) => {
    const [, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor', handshakeTimeoutMs: 30 });
    assert.equal((await closeReason(conn)).code, 'HANDSHAKE_TIMEOUT');
    assert.equal((await rejection(conn.ready())).code, 'HANDSHAKE_TIMEOUT');
  });

  test('send and query before the handshake fail with NOT_READY (651)', async (t) => {
    const [a] = duplexPair();
    const conn = new Connection(a, { role: 'dialer' });
    t.after(() => conn.close());
    assert.throws(
      () => conn.send(Buffer.from('early')),
      (e) =>
        e instanceof ProtocolError && e.code === 'NOT_READY' && tonErrorCode(e) === TonErrorCode.notready,
    );
    const err = await rejection(conn.query(Buffer.from('early')));
    assert.equal(err.code, 'NOT_READY');
    assert.equal(tonErrorCode(err), 651);
  });
});

describe('Connection messages and queries', () => {
  test('delivers one-way messages both ways', async (t) => {
    const toAcceptor: string[] = [];
    const toDialer: string[] = [];
    const [d, c] = await connPair(
      t,
      { onMessage: (m) => toDialer.push(Buffer.from(m).toString()) },
      { onMessage: (m) => toAcceptor.push(Buffer.from(m).toString()) },
    );
    const viaEvent: string[] = [];
    c.on('message', (m) => viaEvent.push(Buffer.from(m).toString()));
    d.send(Buffer.from('hello'));
    d.send(Buffer.from('acceptor'));
    c.send(Buffer.from('hi dialer'));
    await until(() => toAcceptor.length === 2 && toDialer.length === 1);
    assert.deepEqual(toAcceptor, ['hello', 'acceptor']);
    assert.deepEqual(viaEvent, ['hello', 'acceptor']);
    assert.deepEqual(toDialer, ['hi dialer']);
    assert.equal(d.stats.messagesOut, 2);
    assert.equal(c.stats.messagesIn, 2);
  });

  test('answers a query', async (t) => {
    const [d, c] = await connPair(t, {}, { onQuery: async (q) => Buffer.from(`re: ${Buffer.from(q)}`) });
    const answer = await d.query(Buffer.from('question'));
    assert.equal(Buffer.from(answer).toString(), 're: question');
    assert.equal(d.stats.queriesSent, 1);
    assert.equal(d.stats.queriesAnswered, 1);
    assert.equal(c.stats.queriesReceived, 1);
  });

  test('the acceptor can query the dialer too', async (t) => {
    const [, c] = await connPair(t, { onQuery: echo }, {});
    assert.equal(Buffer.from(await c.query(Buffer.from('back'))).toString(), 'back');
  });

  test('matches concurrent queries answered out of order', async (t) => {
    const release = new Map<string, () => void>();
    const [d] = await connPair(
      t,
      {},
      {
        onQuery: (q) =>
          new Promise<Uint8Array>((resolve) => {
            const key = Buffer.from(q).toString();
            release.set(key, () => resolve(Buffer.from(`answer ${key}`)));
          }),
      },
    );
    const keys = Array.from({ length: 20 }, (_, i) => `q${i}`);
    const answers = keys.map((k) => d.query(Buffer.from(k)));
    await until(() => release.size === keys.length);
    for (const k of [...keys].reverse()) release.get(k)!();
    const got = await Promise.all(answers);
    assert.deepEqual(
      got.map((a) => Buffer.from(a).toString()),
      keys.map((k) => `answer ${k}`),
    );
  });

  test('rejects a query with TIMEOUT (652) when no answer comes in time', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: () => new Promise<Uint8Array>(() => {}) });
    const started = Date.now();
    const err = await rejection(d.query(Buffer.from('slow'), { timeoutMs: 40 }));
    assert.equal(err.code, 'TIMEOUT');
    assert.equal(tonErrorCode(err), TonErrorCode.timeout);
    assert.ok(Date.now() - started < 3000);
    assert.equal(d.stats.queryTimeouts, 1);
    assert.ok(d.isReady, 'a timed-out query leaves the connection open');
  });

  test('uses defaultQueryTimeoutMs when the query gives none', async (t) => {
    const [d] = await connPair(t, { defaultQueryTimeoutMs: 30 }, { onQuery: () => new Promise(() => {}) });
    assert.equal((await rejection(d.query(Buffer.from('slow')))).code, 'TIMEOUT');
  });

  test('rejects a query with CANCELLED when its signal aborts', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: () => new Promise(() => {}) });
    const ac = new AbortController();
    const q = d.query(Buffer.from('x'), { signal: ac.signal, timeoutMs: 30_000 });
    ac.abort();
    assert.equal((await rejection(q)).code, 'CANCELLED');
    assert.equal((await rejection(d.query(Buffer.from('x'), { signal: ac.signal }))).code, 'CANCELLED');
  });

  test("rejects with a RemoteQueryError carrying the peer's TON code", async (t) => {
    const [d] = await connPair(
      t,
      {},
      {
        onQuery: async (q) => {
          const what = Buffer.from(q).toString();
          if (what === 'cocoon') throw new ProtocolError('NOT_READY', 'worker warming up');
          throw new Error('disk on fire');
        },
      },
    );
    const e1 = await rejection(d.query(Buffer.from('cocoon')));
    assert.ok(e1 instanceof RemoteQueryError);
    assert.equal(e1.code, 'NOT_READY');
    assert.equal(e1.tonCode, 651);
    assert.equal(e1.message, 'worker warming up');
    const e2 = await rejection(d.query(Buffer.from('plain')));
    assert.ok(e2 instanceof RemoteQueryError);
    assert.equal(e2.tonCode, TonErrorCode.failure);
    assert.equal(e2.code, 'REMOTE_ERROR');
    assert.equal(
      e2.message,
      'internal error',
      'an unexpected exception does not describe itself to the peer',
    );
  });

  test("a handler throwing a CocoonError answers tcp.queryError with the error's TON code", async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, {
      role: 'acceptor',
      onQuery: () => {
        throw new ProtocolError('TIMEOUT', 'model too slow');
      },
    });
    const peer = new RawPeer(a);
    await peer.dial();
    peer.send({ _: 'tcp.query', id: 42n, data: Buffer.from('q') });
    assert.deepEqual(await peer.next(), {
      _: 'tcp.queryError',
      id: 42n,
      code: 652,
      message: 'model too slow',
    });
    peer.send({ _: 'tcp.query', id: 43n, data: Buffer.from('q') });
    assert.equal(((await peer.next()) as { code: number }).code, 652);
    assert.equal(conn.stats.errors.TIMEOUT, 2);
  });

  test('a query without a handler gets a 601 error', async (t) => {
    const [d] = await connPair(t);
    const err = await rejection(d.query(Buffer.from('anyone?')));
    assert.ok(err instanceof RemoteQueryError);
    assert.equal(err.tonCode, 601);
  });

  test('ignores and counts answers to unknown query ids', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    await peer.dial();
    peer.send({ _: 'tcp.queryAnswer', id: 999n, data: Buffer.from('stray') });
    peer.send({ _: 'tcp.queryError', id: 998n, code: 601, message: 'stray' });
    await until(() => conn.stats.unknownAnswers === 2);
    assert.ok(conn.isReady);
  });

  test('fails pending queries at once when the connection closes', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: () => new Promise(() => {}) });
    const started = Date.now();
    const pending = [d.query(Buffer.from('a'), { timeoutMs: 30_000 }), d.query(Buffer.from('b'))];
    await sleep(20);
    d.close(new ProtocolError('SHUTDOWN', 'stopping'));
    for (const p of pending) {
      const err = await rejection(p);
      assert.equal(err.code, 'CONNECTION_CLOSED');
      assert.equal(tonErrorCode(err), TonErrorCode.cancelled);
      assert.equal((err.cause as CocoonError).code, 'SHUTDOWN');
    }
    assert.ok(Date.now() - started < 5000, 'pending queries waited for their timeout');
    assert.equal((await d.closed)?.message, 'stopping');
  });

  test('fails pending queries at once when the peer goes away', async (t) => {
    const [d, c] = await connPair(t, {}, { onQuery: () => new Promise(() => {}) });
    const started = Date.now();
    const q = d.query(Buffer.from('a'), { timeoutMs: 30_000 });
    await until(() => c.stats.queriesReceived === 1);
    c.close();
    assert.equal((await rejection(q)).code, 'CONNECTION_CLOSED');
    assert.ok(Date.now() - started < 5000);
    assert.equal((await closeReason(d)).code, 'CONNECTION_CLOSED');
  });

  test('close is idempotent and later sends fail with CONNECTION_CLOSED', async (t) => {
    const [d] = await connPair(t, {}, {}, 'duplex');
    let closes = 0;
    d.on('close', () => closes++);
    d.close();
    d.close(new ProtocolError('LATE', 'again'));
    assert.equal(closes, 1);
    assert.equal(await d.closed, undefined);
    assert.throws(
      () => d.send(Buffer.from('x')),
      (e) => e instanceof ProtocolError && e.code === 'CONNECTION_CLOSED',
    );
    assert.equal((await rejection(d.query(Buffer.from('x')))).code, 'CONNECTION_CLOSED');
  });

  test('leaves no timers behind after close', async (t) => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const [d] = await connPair(
      t,
      { pingIntervalMs: 1000 },
      { onQuery: () => new Promise(() => {}) },
      'duplex',
    );
    // Measured synchronously around the calls, so no unrelated timer can fire in between.
    const before = timers();
    const q = d.query(Buffer.from('x'), { timeoutMs: 60_000 });
    assert.equal(timers(), before + 1, 'a pending query timer keeps the process alive');
    d.close();
    assert.equal(timers(), before, 'close cleared the query timer');
    await rejection(q);
  });
});

describe('Connection frame limits', () => {
  test('rejects an oversize send with FRAME_TOO_LARGE and stays usable', async (t) => {
    const [d, c] = await connPair(t, {}, { onQuery: echo });
    const huge = Buffer.alloc(FRAME_MAX);
    assert.throws(
      () => d.send(huge),
      (e) => e instanceof ProtocolError && e.code === 'FRAME_TOO_LARGE',
    );
    assert.equal((await rejection(d.query(huge))).code, 'FRAME_TOO_LARGE');
    // Just over the limit once the TL header and padding are counted.
    assert.equal((await rejection(d.query(Buffer.alloc(FRAME_MAX - 12)))).code, 'FRAME_TOO_LARGE');
    assert.equal(Buffer.from(await d.query(Buffer.from('still here'))).toString(), 'still here');
    assert.ok(d.isReady && c.isReady);
    assert.equal(d.stats.framesOut, 2);
  });

  test('carries a payload of exactly FRAME_MAX bytes', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: echo });
    // tcp.query: 4-byte id + 8-byte query id + 4-byte bytes header, no padding.
    const data = randomBytes(FRAME_MAX - 16);
    assert.ok(Buffer.from(await d.query(data, { timeoutMs: 30_000 })).equals(data));
  });

  test('an oversize answer becomes a queryError instead of a dropped answer', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: async () => Buffer.alloc(FRAME_MAX) });
    const err = await rejection(d.query(Buffer.from('give me everything')));
    assert.ok(err instanceof RemoteQueryError);
    assert.equal(err.tonCode, TonErrorCode.protoviolation);
  });

  test('closes with FRAME_TOO_LARGE on an oversize header without waiting for the body', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    await peer.dial();
    const header = Buffer.alloc(FRAME_HEADER);
    header.writeUInt32LE(FRAME_MAX + 1, 0);
    header.writeInt32LE(1, 4);
    peer.write(header);
    assert.equal((await closeReason(conn)).code, 'FRAME_TOO_LARGE');
    assert.equal(conn.stats.errors.FRAME_TOO_LARGE, 1);
    await peer.ended;
  });

  test('closes with BAD_SEQNO on a wrong seqno', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    await peer.dial();
    peer.send({ _: 'tcp.ping', id: 1n }, 5);
    assert.equal((await closeReason(conn)).code, 'BAD_SEQNO');
    assert.deepEqual(conn.stats.errors, { BAD_SEQNO: 1 });
  });

  test('closes on tcp.connect after the handshake', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    await peer.dial();
    peer.send({ _: 'tcp.connect', id: 1n });
    assert.equal((await closeReason(conn)).code, 'PROTOVIOLATION');
  });

  test('decodes a stream fed one byte per write', async (t) => {
    const [a, b] = duplexPair();
    const conn = new Connection(b, { role: 'acceptor', onQuery: echo });
    t.after(() => conn.close());
    const peer = new RawPeer(a);
    const wire = Buffer.concat([
      encodeFrame(encodeTl({ _: 'tcp.connect', id: 5n }), 0),
      encodeFrame(encodeTl({ _: 'tcp.query', id: 6n, data: Buffer.from('byte by byte') }), 1),
    ]);
    for (const byte of wire) peer.write(Buffer.from([byte]));
    assert.deepEqual(await peer.next(), { _: 'tcp.connected', id: 5n });
    const answer = await peer.next();
    assert.equal(answer._, 'tcp.queryAnswer');
    assert.equal(Buffer.from((answer as { data: Uint8Array }).data).toString(), 'byte by byte');
    assert.ok(conn.stats.bytesIn === wire.length);
  });

  test('round-trips a 64 KiB payload', async (t) => {
    const [d] = await connPair(t, {}, { onQuery: echo });
    const data = randomBytes(64 * 1024);
    const answer = await d.query(data);
    assert.ok(Buffer.from(answer).equals(data));
    const big = randomBytes(3 * 1024 * 1024);
    assert.ok(Buffer.from(await d.query(big)).equals(big));
  });

  test('round-trips many messages in order over an in-memory pair', async (t) => {
    const got: number[] = [];
    const [d] = await connPair(
      t,
      {},
      { onMessage: (m) => got.push(Buffer.from(m).readUInt32LE(0)) },
      'duplex',
    );
    for (let i = 0; i < 1000; i++) {
      const m = Buffer.alloc(4);
      m.writeUInt32LE(i);
      d.send(m);
      if (d.writableNeedDrain) await d.drain();
    }
    await until(() => got.length === 1000);
    assert.deepEqual(
      got,
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });
});

describe('Connection keep-alive', () => {
  test('the dialer pings after silence and the acceptor answers with the same id', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(a, { role: 'dialer', pingIntervalMs: 20, idleTimeoutMs: 10_000 });
    const peer = new RawPeer(b);
    const connect = (await peer.next()) as { id: bigint };
    peer.send({ _: 'tcp.connected', id: connect.id });
    await conn.ready();
    const ping = await peer.next();
    assert.equal(ping._, 'tcp.ping');
    peer.send({ _: 'tcp.pong', id: (ping as { id: bigint }).id });
    await until(() => conn.stats.pongsReceived === 1);
    assert.ok(conn.stats.pingsSent >= 1);
  });

  test('an acceptor answers tcp.ping with tcp.pong', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor' });
    const peer = new RawPeer(a);
    await peer.dial();
    peer.send({ _: 'tcp.ping', id: -5n });
    assert.deepEqual(await peer.next(), { _: 'tcp.pong', id: -5n });
    assert.equal(conn.stats.pingsSent, 0);
  });

  test('pings keep an otherwise silent connection open past the idle timeout', async (t) => {
    const [d, c] = await connPair(t, { pingIntervalMs: 25, idleTimeoutMs: 600 }, { idleTimeoutMs: 600 });
    await sleep(1500);
    assert.ok(d.isReady && c.isReady, `closed: ${String(d.closeReason ?? c.closeReason)}`);
    assert.ok(d.stats.pongsReceived > 3);
  });

  test('the idle timeout closes a peer that completed the handshake and went silent', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(b, { role: 'acceptor', idleTimeoutMs: 60 });
    const peer = new RawPeer(a);
    await peer.dial();
    const reason = await closeReason(conn);
    assert.equal(reason.code, 'IDLE_TIMEOUT');
    assert.equal(tonErrorCode(reason), TonErrorCode.timeout);
    await peer.ended;
  });

  test('the dialer closes on idle when its pings go unanswered', async (t) => {
    const [a, b] = await tcpPair(t);
    const conn = new Connection(a, { role: 'dialer', pingIntervalMs: 20, idleTimeoutMs: 100 });
    const peer = new RawPeer(b);
    const connect = (await peer.next()) as { id: bigint };
    peer.send({ _: 'tcp.connected', id: connect.id });
    assert.equal((await closeReason(conn)).code, 'IDLE_TIMEOUT');
    assert.ok(conn.stats.pingsSent >= 1);
  });
});
