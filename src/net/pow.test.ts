import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { CocoonError } from '../errors.ts';
import {
  checkPow,
  DEFAULT_MAX_POW_DIFFICULTY,
  DEFAULT_POW_DIFFICULTY,
  POW_ANSWER_MAGIC,
  POW_CHALLENGE_MAGIC,
  powAccept,
  powConnect,
  powLeadingZeroBits,
  solvePow,
  solvePowDetailed,
} from './pow.ts';
import { powHashPrefix, powLeadingZeros, powMaskH1, powPrecompute, powScan } from './pow-solver.worker.cjs';

function code(err: unknown): string {
  assert.ok(err instanceof CocoonError, `not a CocoonError: ${String(err)}`);
  return err.code;
}

async function rejectsWith(p: Promise<unknown>, expected: string): Promise<void> {
  await assert.rejects(p, (err) => code(err) === expected);
}

function nonceBytes(nonce: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt.asIntN(64, nonce));
  return b;
}

function sha(salt: Uint8Array, nonce: bigint): Buffer {
  return createHash('sha256').update(salt).update(nonceBytes(nonce)).digest();
}

function hashWith(bytes: Record<number, number>): Uint8Array {
  const h = new Uint8Array(32);
  for (const [i, v] of Object.entries(bytes)) h[Number(i)] = v;
  return h;
}

function challenge(
  difficulty: number,
  salt: Uint8Array = randomBytes(16),
  magic = POW_CHALLENGE_MAGIC,
): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(magic, 0);
  b.writeInt32LE(difficulty, 4);
  b.set(salt, 8);
  return b;
}

function answer(nonce: bigint, magic = POW_ANSWER_MAGIC): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(magic, 0);
  b.writeBigInt64LE(nonce, 4);
  return b;
}

/** A connected loopback pair, closed after the test: `server` is the accepted side, `client` the dialer. */
async function loopback(t: TestContext): Promise<{ server: net.Socket; client: net.Socket }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  // Errors of sockets destroyed on purpose are expected; the assertions look at the promises.
  server.on('error', () => {});
  client.on('error', () => {});
  t.after(async () => {
    server.destroy();
    client.destroy();
    srv.close();
    await once(srv, 'close');
  });
  return { server, client };
}

/** Reads `stream` until it ends. */
async function readAll(stream: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Reads exactly `n` bytes in paused mode. */
async function readN(stream: net.Socket, n: number): Promise<Buffer> {
  for (;;) {
    const b = stream.read(n) as Buffer | null;
    if (b !== null) return b;
    await once(stream, 'readable');
  }
}

/** The first nonce counting up from `from` that fails `difficulty` bits. */
function failingNonce(salt: Uint8Array, difficulty: number, from = 0n): bigint {
  let n = from;
  while (checkPow(salt, n, difficulty)) n++;
  return n;
}

describe('leading zero bits', () => {
  test('reads the first 8 bytes as a little-endian u64: byte 7 first, from its top bit', () => {
    assert.equal(powLeadingZeroBits(new Uint8Array(32)), 64);
    assert.equal(powLeadingZeroBits(hashWith({ 7: 0x80 })), 0);
    assert.equal(powLeadingZeroBits(hashWith({ 7: 0x01 })), 7);
    assert.equal(powLeadingZeroBits(hashWith({ 6: 0x10 })), 11);
    assert.equal(powLeadingZeroBits(hashWith({ 5: 0xff, 6: 0x00 })), 16);
    assert.equal(powLeadingZeroBits(hashWith({ 0: 0x01 })), 63);
    assert.equal(powLeadingZeroBits(hashWith({ 0: 0xff })), 56);
  });

  test('is not the big-endian count', () => {
    // Zero first bytes count for nothing when byte 7 has its top bit set...
    assert.equal(powLeadingZeroBits(hashWith({ 7: 0xff })), 0);
    // ...and a set first byte does not stop the count.
    assert.equal(powLeadingZeroBits(hashWith({ 0: 0xff, 1: 0xff, 4: 0x01 })), 31);
  });

  test('ignores bytes past the eighth and refuses short input', () => {
    assert.equal(powLeadingZeroBits(hashWith({ 8: 0xff, 31: 0xff })), 64);
    assert.equal(powLeadingZeroBits(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x20)), 2);
    assert.throws(() => powLeadingZeroBits(new Uint8Array(7)), RangeError);
  });

  test("the solver's word-based count agrees on random hashes", () => {
    for (let i = 0; i < 2000; i++) {
      const h = randomBytes(8);
      // Sparse high bytes so that long zero runs get tested too.
      for (let j = 7; j > 7 - (i % 9); j--) h[j] = 0;
      assert.equal(
        powLeadingZeros(h.readInt32BE(0), h.readInt32BE(4)),
        powLeadingZeroBits(h),
        h.toString('hex'),
      );
    }
  });

  test('the H1 mask selects exactly the bits that must be zero below 32 bits', () => {
    assert.equal(powMaskH1(0), 0);
    assert.equal(powMaskH1(8) >>> 0, 0x000000ff);
    assert.equal(powMaskH1(12) >>> 0, 0x0000f0ff);
    assert.equal(powMaskH1(32) >>> 0, 0xffffffff);
    assert.equal(powMaskH1(40) >>> 0, 0xffffffff);
  });
});

describe('specialised SHA-256', () => {
  test('equals node:crypto on 12,000 random salts and nonces', () => {
    for (let i = 0; i < 12_000; i++) {
      const salt = randomBytes(16);
      // Small counters (the common case), then full 64-bit values, negative ones included.
      const nonce = i % 2 === 0 ? BigInt(i) : randomBytes(8).readBigInt64LE();
      const expected = sha(salt, nonce).subarray(0, 8);
      assert.deepEqual(
        Buffer.from(powHashPrefix(salt, nonce)),
        expected,
        `salt ${salt.toString('hex')} nonce ${nonce}`,
      );
    }
  });

  test('a scan stops at the first nonce of its stride that meets the mask', () => {
    const out = new Int32Array(2);
    for (let i = 0; i < 20; i++) {
      const salt = randomBytes(16);
      const pre = powPrecompute(salt);
      const [lo, step, bits] = [1 + i * 7919, 1 + (i % 3), 6];
      const k = powScan(pre, 0, lo, step, 5000, powMaskH1(bits), out);
      let want = -1;
      for (let j = 0; j < 5000 && want < 0; j++) {
        if (powLeadingZeroBits(sha(salt, BigInt(lo + j * step))) >= bits) want = j;
      }
      assert.equal(k, want);
      if (k >= 0) {
        const h = sha(salt, BigInt(lo + k * step));
        assert.deepEqual([out[0], out[1]], [h.readInt32BE(0), h.readInt32BE(4)]);
      }
    }
  });

  test('crosses into the high nonce word', () => {
    const out = new Int32Array(2);
    const salt = randomBytes(16);
    const nonce = (5n << 32n) | 0xfffffff0n;
    powScan(powPrecompute(salt), 5, 0xfffffff0, 1, 1, 0, out);
    const h = sha(salt, nonce);
    assert.deepEqual([out[0], out[1]], [h.readInt32BE(0), h.readInt32BE(4)]);
  });
});

describe('solvePow', () => {
  test('constants match the protocol', () => {
    assert.equal(POW_CHALLENGE_MAGIC, 0x418e1291);
    assert.equal(POW_ANSWER_MAGIC, 0x01827319);
    assert.equal(DEFAULT_POW_DIFFICULTY, 20);
    assert.equal(DEFAULT_MAX_POW_DIFFICULTY, 28);
  });

  for (const bits of [0, 1, 8, 16]) {
    test(`finds nonces that checkPow accepts at ${bits} bits`, async () => {
      const salt = randomBytes(16);
      const nonce = await solvePow(salt, bits);
      assert.ok(checkPow(salt, nonce, bits));
      assert.ok(nonce >= 0n);
      if (bits === 0) assert.equal(nonce, 0n);
    });
  }

  test('checkPow agrees with the hash: accepts exactly up to the zero bits the nonce has', async () => {
    const salt = randomBytes(16);
    const { nonce, tries } = await solvePowDetailed(salt, 12, { threads: 3 });
    assert.ok(tries >= 1);
    const zeros = powLeadingZeroBits(sha(salt, nonce));
    assert.ok(zeros >= 12);
    assert.ok(checkPow(salt, nonce, zeros));
    assert.ok(!checkPow(salt, nonce, zeros + 1));
    assert.ok(!checkPow(salt, failingNonce(salt, 12), 12));
  });

  test('one thread and several threads both work', async () => {
    const salt = randomBytes(16);
    for (const threads of [1, 4]) assert.ok(checkPow(salt, await solvePow(salt, 10, { threads }), 10));
  });

  test('refuses difficulties above the maximum and below zero without solving', async () => {
    const salt = randomBytes(16);
    await rejectsWith(solvePow(salt, 29), 'POW_TOO_HARD');
    await rejectsWith(solvePow(salt, 12, { maxDifficulty: 11 }), 'POW_TOO_HARD');
    await rejectsWith(solvePow(salt, -1), 'POW_TOO_HARD');
    await rejectsWith(solvePow(salt, 65, { maxDifficulty: 100 }), 'POW_TOO_HARD');
    await assert.rejects(solvePowDetailed(new Uint8Array(15), 1), RangeError);
    await assert.rejects(solvePow(salt, 1, { threads: 0 }), RangeError);
  });

  test('aborting rejects with POW_ABORTED', async () => {
    const salt = randomBytes(16);
    await rejectsWith(solvePow(salt, 8, { signal: AbortSignal.abort() }), 'POW_ABORTED');
    const ac = new AbortController();
    const p = solvePow(salt, 60, { signal: ac.signal, maxDifficulty: 64 });
    setTimeout(() => ac.abort(new Error('enough')), 50);
    await assert.rejects(p, (err) => code(err) === 'POW_ABORTED' && (err as Error).cause instanceof Error);
  });

  test('an aborted solve leaves no worker behind: the process exits by itself', () => {
    const script = `
      const { solvePow } = await import(${JSON.stringify(new URL('./pow.ts', import.meta.url).href)});
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      try { await solvePow(new Uint8Array(16), 60, { signal: ac.signal, maxDifficulty: 64 }); }
      catch (err) { process.stdout.write(err.code); }
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.signal, null, 'the child had to be killed: a worker kept it alive');
    assert.equal(r.stdout, 'POW_ABORTED', r.stderr);
    assert.equal(r.status, 0);
  });
});

describe('powAccept and powConnect over loopback', () => {
  test('succeed, and bytes after the PoW arrive intact both ways', async (t) => {
    const p = await loopback(t);
    const accepted = powAccept(p.server, { difficulty: 12 });
    const { difficulty, nonce } = await powConnect(p.client);
    await accepted;
    assert.equal(difficulty, 12);
    p.client.end('hello after pow');
    p.server.end('server bytes');
    const [fromClient, fromServer] = await Promise.all([readAll(p.server), readAll(p.client)]);
    assert.equal(fromClient.toString(), 'hello after pow');
    assert.equal(fromServer.toString(), 'server bytes');
    assert.ok(nonce >= 0n);
  });

  test('server keeps bytes pipelined after the answer (one write: answer + ClientHello)', async (t) => {
    const p = await loopback(t);
    const salt = randomBytes(16);
    const accepted = powAccept(p.server, { difficulty: 10, salt });
    const ch = await readN(p.client, 24);
    assert.equal(ch.readUInt32LE(0), POW_CHALLENGE_MAGIC);
    assert.equal(ch.readInt32LE(4), 10);
    assert.deepEqual(ch.subarray(8), salt);
    const extra = randomBytes(3000);
    p.client.end(Buffer.concat([answer(await solvePow(salt, 10)), extra]));
    await accepted;
    assert.deepEqual(await readAll(p.server), extra);
  });

  test('client keeps bytes the server sent right after the challenge', async (t) => {
    const p = await loopback(t);
    const extra = Buffer.from('server hello');
    p.server.write(Buffer.concat([challenge(4), extra]));
    const { difficulty } = await powConnect(p.client);
    assert.equal(difficulty, 4);
    assert.deepEqual(await readN(p.client, extra.length), extra);
  });

  test('wrong answer magic → POW_BAD_MAGIC', async (t) => {
    const p = await loopback(t);
    const accepted = powAccept(p.server, { difficulty: 1 });
    await readN(p.client, 24);
    p.client.write(answer(0n, 0x01827318));
    await rejectsWith(accepted, 'POW_BAD_MAGIC');
    assert.ok(p.server.destroyed);
  });

  test('wrong challenge magic → POW_BAD_MAGIC on the client', async (t) => {
    const p = await loopback(t);
    p.server.write(challenge(1, randomBytes(16), 0x91128e41));
    await rejectsWith(powConnect(p.client), 'POW_BAD_MAGIC');
  });

  test('a nonce without enough zero bits → POW_BAD_NONCE', async (t) => {
    const p = await loopback(t);
    const salt = randomBytes(16);
    const accepted = powAccept(p.server, { difficulty: 16, salt });
    await readN(p.client, 24);
    p.client.write(answer(failingNonce(salt, 16)));
    await rejectsWith(accepted, 'POW_BAD_NONCE');
  });

  test('a challenge above the maximum → POW_TOO_HARD, refused without solving', async (t) => {
    const p = await loopback(t);
    // 40 bits would take hours: finishing at all shows the client did not try.
    p.server.write(challenge(40));
    await rejectsWith(powConnect(p.client), 'POW_TOO_HARD');
    const q = await loopback(t);
    q.server.write(challenge(17));
    await rejectsWith(powConnect(q.client, { maxDifficulty: 16 }), 'POW_TOO_HARD');
    const r = await loopback(t);
    r.server.write(challenge(-1));
    await rejectsWith(powConnect(r.client), 'POW_TOO_HARD');
  });

  test('a client that sends nothing → POW_TIMEOUT', async (t) => {
    const p = await loopback(t);
    await rejectsWith(powAccept(p.server, { timeoutMs: 100 }), 'POW_TIMEOUT');
    assert.ok(p.server.destroyed);
  });

  test('timeoutMs 0 waits as long as it takes', async (t) => {
    const p = await loopback(t);
    const salt = randomBytes(16);
    const accepted = powAccept(p.server, { difficulty: 4, salt, timeoutMs: 0 });
    await readN(p.client, 24);
    await new Promise((resolve) => setTimeout(resolve, 50));
    p.client.write(answer(await solvePow(salt, 4)));
    await accepted;
    const q = await loopback(t);
    const connecting = powConnect(q.client, { timeoutMs: 0 });
    setTimeout(() => q.server.write(challenge(4)), 50);
    assert.equal((await connecting).difficulty, 4);
  });

  test('a server that sends no challenge → POW_TIMEOUT on the client', async (t) => {
    const p = await loopback(t);
    await rejectsWith(powConnect(p.client, { timeoutMs: 100 }), 'POW_TIMEOUT');
  });

  test('a client that closes mid-answer → POW_CLOSED', async (t) => {
    const p = await loopback(t);
    const accepted = powAccept(p.server, { difficulty: 8 });
    await readN(p.client, 24);
    p.client.end(answer(0n).subarray(0, 5));
    await rejectsWith(accepted, 'POW_CLOSED');
  });

  test('a server that closes mid-challenge → POW_CLOSED', async (t) => {
    const p = await loopback(t);
    p.server.end(challenge(8).subarray(0, 10));
    await rejectsWith(powConnect(p.client), 'POW_CLOSED');
  });

  test('an already closed socket → POW_CLOSED', async (t) => {
    const p = await loopback(t);
    p.server.destroy();
    await rejectsWith(powAccept(p.server), 'POW_CLOSED');
  });

  test('aborting the client while it solves → POW_ABORTED', async (t) => {
    const p = await loopback(t);
    p.server.write(challenge(60));
    const ac = new AbortController();
    const connecting = powConnect(p.client, { signal: ac.signal, maxDifficulty: 64 });
    setTimeout(() => ac.abort(), 50);
    await rejectsWith(connecting, 'POW_ABORTED');
    assert.ok(p.client.destroyed);
  });

  test('the server closing while the client solves → POW_CLOSED', async (t) => {
    const p = await loopback(t);
    p.server.write(challenge(60));
    const connecting = powConnect(p.client, { maxDifficulty: 64 });
    setTimeout(() => p.server.destroy(), 50);
    await rejectsWith(connecting, 'POW_CLOSED');
  });
});
