import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeTl, encodeTl } from '../tl/cocoon.ts';
import { generateX25519 } from './hpke.ts';
import {
  isSealedQuery,
  OpenedSessions,
  openSealedQuery,
  SealSessions,
  sealedQueryHeader,
  sealQuery,
} from './sealed.ts';

function worker() {
  const seal = generateX25519();
  return { workerKey: randomBytes(32), sealKey: seal.publicKey, sealPrivateKey: seal.privateKey };
}

const request = encodeTl({
  _: 'http.request',
  method: 'POST',
  url: '/v1/chat/completions',
  http_version: 'HTTP/1.1',
  headers: [],
  payload: Buffer.from('{"model":"m","messages":[{"role":"user","content":"secret marker 7f3a"}]}'),
});

describe('sealed queries and answers', () => {
  it('a request sealed to two workers opens on either, and the answer opens only for the client', () => {
    const [a, b] = [worker(), worker()];
    const { query, reader } = sealQuery({ model: 'm', maxTokens: 64, request, recipients: [a, b] });
    assert.ok(isSealedQuery(query));
    assert.ok(!query.includes(Buffer.from('secret marker')));
    assert.deepEqual(sealedQueryHeader(query), {
      model: 'm',
      maxTokens: 64,
      workerKeys: [a.workerKey.toString('hex'), b.workerKey.toString('hex')],
    });
    const onA = openSealedQuery(query, a);
    const onB = openSealedQuery(query, b);
    assert.deepEqual(onA.request, request);
    assert.deepEqual(onB.request, request);
    assert.equal(onB.maxTokens, 64);
    // B answers: head, two parts, then the last (empty) chunk.
    const head = onB.writer.head(Buffer.from('HEAD'), false);
    const p1 = onB.writer.part(Buffer.from('one'), false);
    const p2 = onB.writer.part(Buffer.from('two'), false);
    const end = onB.writer.part(Buffer.alloc(0), true);
    assert.equal(reader.head(head).data.toString(), 'HEAD');
    assert.equal(reader.worker, b.workerKey.toString('hex'));
    assert.equal(reader.part(p1).data.toString(), 'one');
    assert.equal(reader.part(p2).data.toString(), 'two');
    assert.equal(reader.complete, false);
    assert.deepEqual(reader.part(end), { data: Buffer.alloc(0), last: true });
    assert.equal(reader.complete, true);
    assert.throws(() => reader.part(p2), { code: 'SEAL_OPEN_FAILED' });
  });

  it('the proxy can change no field of the header: each change fails to open', () => {
    const a = worker();
    const { query } = sealQuery({ model: 'm', maxTokens: 64, request, recipients: [a, worker()] });
    const q = decodeTl(query);
    assert.equal(q._, 'ext.sealedQuery');
    if (q._ !== 'ext.sealedQuery') return;
    const variants = [
      { ...q, model: 'other' },
      { ...q, max_tokens: 100000 },
      { ...q, nonce: randomBytes(12) },
      { ...q, recipients: q.recipients.slice(0, 1) }, // dropping a recipient changes the header
      {
        ...q,
        ciphertext: Buffer.concat([
          q.ciphertext.subarray(0, 5),
          Buffer.from([q.ciphertext[5]! ^ 1]),
          q.ciphertext.subarray(6),
        ]),
      },
    ];
    for (const v of variants)
      assert.throws(() => openSealedQuery(encodeTl(v), a), { code: 'SEAL_OPEN_FAILED' });
    assert.throws(() => openSealedQuery(query, worker()), { code: 'SEAL_NOT_FOR_ME' });
    assert.throws(() => openSealedQuery(Buffer.from('nonsense'), a), { code: 'SEAL_MALFORMED' });
  });

  it('a dropped, repeated, reordered or forged answer chunk fails; an answer without its last chunk is incomplete', () => {
    const a = worker();
    const b = worker();
    const fresh = () => {
      const s = sealQuery({ model: 'm', maxTokens: 64, request, recipients: [a, b] });
      const w = openSealedQuery(s.query, a).writer;
      return {
        reader: s.reader,
        chunks: [
          w.head(Buffer.from('H'), false),
          w.part(Buffer.from('1'), false),
          w.part(Buffer.from('2'), false),
          w.part(Buffer.alloc(0), true),
        ],
      };
    };
    {
      const { reader, chunks } = fresh();
      reader.head(chunks[0]!);
      assert.throws(() => reader.part(chunks[2]!), { code: 'SEAL_OPEN_FAILED' }); // 1 dropped
    }
    {
      const { reader, chunks } = fresh();
      reader.head(chunks[0]!);
      reader.part(chunks[1]!);
      assert.throws(() => reader.part(chunks[1]!), { code: 'SEAL_OPEN_FAILED' }); // repeated
    }
    {
      const { reader, chunks } = fresh();
      reader.head(chunks[0]!);
      reader.part(chunks[1]!);
      reader.part(chunks[2]!);
      assert.equal(reader.complete, false); // the proxy ends the stream here: cut short
    }
    {
      const { reader, chunks } = fresh();
      const forged = Buffer.from(chunks[1]!);
      forged[0]! ^= 0x80;
      reader.head(chunks[0]!);
      assert.throws(() => reader.part(forged), { code: 'SEAL_OPEN_FAILED' });
    }
    {
      // The head relabelled as coming from the other recipient: its key cannot open it.
      const { reader, chunks } = fresh();
      const h = decodeTl(chunks[0]!);
      if (h._ !== 'ext.sealedAnswerHead') throw new Error('head');
      assert.throws(() => reader.head(encodeTl({ ...h, worker_key: b.workerKey })), {
        code: 'SEAL_OPEN_FAILED',
      });
    }
    {
      const { reader, chunks } = fresh();
      const h = decodeTl(chunks[0]!);
      if (h._ !== 'ext.sealedAnswerHead') throw new Error('head');
      assert.throws(() => reader.head(encodeTl({ ...h, worker_key: randomBytes(32) })), {
        code: 'SEAL_OPEN_FAILED',
      });
    }
  });

  it('sessions: one encapsulation per worker for ten minutes, the worker caches it, and recomputes it if lost', () => {
    let now = 1_000_000;
    const sessions = new SealSessions(() => now);
    const a = worker();
    const opened = new OpenedSessions(() => now);
    const seal = () => sealQuery({ model: 'm', maxTokens: 8, request, recipients: [a], sessions });
    const enc = (q: Uint8Array) => {
      const d = decodeTl(q);
      if (d._ !== 'ext.sealedQuery') throw new Error('not sealed');
      return Buffer.from(d.recipients[0]!.enc).toString('hex');
    };
    const q1 = seal();
    const q2 = seal();
    assert.equal(enc(q1.query), enc(q2.query));
    // The same session, but every request has its own content key, nonce and answer key.
    assert.notDeepEqual(q1.query.subarray(-40), q2.query.subarray(-40));
    const o1 = openSealedQuery(q1.query, { ...a, sessions: opened });
    const o2 = openSealedQuery(q2.query, { ...a, sessions: opened });
    assert.equal(opened.size, 1);
    const h1 = o1.writer.head(Buffer.from('one'), true);
    const h2 = o2.writer.head(Buffer.from('two'), true);
    assert.equal(q2.reader.head(h2).data.toString(), 'two');
    assert.throws(() => q2.reader.head(h1), { code: 'SEAL_OPEN_FAILED' }); // another request's answer
    assert.equal(q1.reader.head(h1).data.toString(), 'one');
    // A worker without the session (restarted cache) opens it from the enc alone.
    assert.deepEqual(openSealedQuery(q2.query, a).request, request);
    now += 10 * 60_000 + 1;
    const q3 = seal();
    assert.notEqual(enc(q3.query), enc(q1.query));
    assert.deepEqual(openSealedQuery(q3.query, { ...a, sessions: opened }).request, request);
    assert.equal(opened.size, 2);
  });

  it('a replayed request is answered under a fresh key: the same answer never seals to the same bytes', () => {
    const a = worker();
    const { query, reader } = sealQuery({ model: 'm', maxTokens: 8, request, recipients: [a] });
    const first = openSealedQuery(query, a);
    const replay = openSealedQuery(query, a);
    const h1 = first.writer.head(Buffer.from('same answer'), false);
    const h2 = replay.writer.head(Buffer.from('same answer'), false);
    const d1 = decodeTl(h1);
    const d2 = decodeTl(h2);
    if (d1._ !== 'ext.sealedAnswerHead' || d2._ !== 'ext.sealedAnswerHead') throw new Error('head');
    assert.notDeepEqual(d1.answer_nonce, d2.answer_nonce);
    assert.notDeepEqual(d1.data, d2.data);
    assert.equal(reader.head(h2).data.toString(), 'same answer');
    // The first answer's parts do not open on the replay's key.
    assert.throws(() => reader.part(first.writer.part(Buffer.from('x'), true)), { code: 'SEAL_OPEN_FAILED' });
  });

  it('sealed to one worker the request goes under its session key; nothing of it can be changed either', () => {
    const a = worker();
    const { query, reader } = sealQuery({ model: 'm', maxTokens: 8, request, recipients: [a] });
    const q = decodeTl(query);
    if (q._ !== 'ext.sealedQuery') throw new Error('not sealed');
    assert.equal(q.recipients[0]?.sealed_key.length, 0);
    const opened = openSealedQuery(query, a);
    assert.deepEqual(opened.request, request);
    assert.equal(reader.head(opened.writer.head(Buffer.from('ok'), true)).data.toString(), 'ok');
    for (const v of [
      { ...q, max_tokens: 9 },
      { ...q, model: 'n' },
      { ...q, nonce: randomBytes(12) },
    ])
      assert.throws(() => openSealedQuery(encodeTl(v), a), { code: 'SEAL_OPEN_FAILED' });
    // Two recipients, one of them without a wrapped key: malformed, not opened under a session key.
    const b = worker();
    const two = decodeTl(sealQuery({ model: 'm', maxTokens: 8, request, recipients: [a, b] }).query);
    if (two._ !== 'ext.sealedQuery') throw new Error('not sealed');
    const stripped = {
      ...two,
      recipients: two.recipients.map((r) => ({ ...r, sealed_key: new Uint8Array(0) })),
    };
    assert.throws(() => openSealedQuery(encodeTl(stripped), a), { code: 'SEAL_MALFORMED' });
  });

  it('requests in one session each get a fresh nonce, the sealer made ahead included', async () => {
    const a = worker();
    const sessions = new SealSessions();
    const opened = new OpenedSessions();
    const nonces = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { query, reader } = sealQuery({ model: 'm', maxTokens: 8, request, recipients: [a], sessions });
      const q = decodeTl(query);
      if (q._ !== 'ext.sealedQuery') throw new Error('not sealed');
      nonces.add(Buffer.from(q.nonce).toString('hex'));
      const o = openSealedQuery(query, { ...a, sessions: opened });
      assert.deepEqual(o.request, request);
      reader.prepare(); // the answer keys, derived ahead as the client does while it waits
      o.writer.prepare();
      assert.equal(
        reader.head(o.writer.head(Buffer.from(`answer ${i}`), true)).data.toString(),
        `answer ${i}`,
      );
      // Let the next request's sealer be made in the idle moment, as between requests.
      if (i % 2) await new Promise((r) => setImmediate(r));
    }
    assert.equal(nonces.size, 4);
    assert.equal(opened.size, 1, 'one session for all four');
  });
});
