// Requests sealed end to end to the worker enclave, over the whole network: the app's answer is the same as in
// plain mode, the privacy label says who could read it, a proxy that tampers with, reorders or cuts a sealed
// answer is caught by the client, and the proxy process never holds the prompt or the answer: its memory is
// scanned for a marker sent sealed (absent) and one sent plain by a second client (present, so the scan works).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { Connection } from '../src/net/connection.ts';
import { ratlsConnect } from '../src/net/ratls.ts';
import { createNodeIdentity, type NodeIdentity, verifierFor } from '../src/node/identity.ts';
import { type LocalNetwork, startLocalNetwork } from '../src/node/network.ts';
import type { ProxyNode } from '../src/node/proxy/proxy.ts';
import { splitHostPort } from '../src/node/proxy-link.ts';
import { call, sendTl } from '../src/node/rpc.ts';
import { HttpEngine } from '../src/openai/engine.ts';
import { verifyLabel } from '../src/receipt/label.ts';
import { decodeReceipt, verifyReceipt } from '../src/receipt/receipt.ts';
import { createFakeIntel, type FakeIntel } from '../src/tee/fake-intel.ts';
import { FAKE_TDX_IMAGE_HASH } from '../src/tee/fake-tdx.ts';
import { decodeTl, encodeTl } from '../src/tl/cocoon.ts';
import type { TlConstructors, TlTypes } from '../src/tl/cocoon-api.gen.ts';
import { fakeIntelAttestation } from './support/fake-intel-net.ts';
import { freePort, writeRootConfig } from './support/local-root.ts';
import { COCOON_BIN, NodeProcesses } from './support/node-process.ts';
import { startTestEngine, type TestEngineServer } from './support/openai-server.ts';

type Answer = TlTypes['client.QueryAnswerEx'];
type Receipt = TlConstructors['ext.clientReceipt'];
/** Rewrites the messages of one answer before the proxy sends them to the client (all of them at its end). */
type Rewrite = (ms: Answer[]) => Answer[];

/** Makes the proxy hold each answer to the client until it is complete, and pass it through `rewrite`. */
function interceptAnswers(proxy: ProxyNode): { next: Rewrite | undefined; dropReceipt: boolean } {
  const ctl: { next: Rewrite | undefined; dropReceipt: boolean } = { next: undefined, dropReceipt: false };
  const p = proxy as unknown as { sendClient(c: unknown, m: Answer | Receipt): void };
  const send = p.sendClient.bind(proxy);
  const held = new Map<string, Answer[]>();
  p.sendClient = (c, m) => {
    const rewrite = ctl.next;
    if (m._ === 'ext.clientReceipt' && ctl.dropReceipt) return;
    if (!rewrite || m._ === 'ext.clientReceipt') return send(c, m);
    const key = Buffer.from(m.request_id).toString('hex');
    const list = [...(held.get(key) ?? []), m];
    held.set(key, list);
    if (m._ === 'client.queryAnswerErrorEx' || m.flags & 1) {
      held.delete(key);
      ctl.next = undefined;
      for (const x of rewrite(list)) send(c, x);
    }
  };
  return ctl;
}

const streamText = async (ai: OpenAI, content: string): Promise<string> => {
  const s = await ai.chat.completions.create({
    model: 'ok',
    messages: [{ role: 'user', content }],
    stream: true,
  });
  let text = '';
  for await (const c of s) text += c.choices[0]?.delta.content ?? '';
  return text;
};

describe('sealed requests on a local network', () => {
  let engine: TestEngineServer;
  let net: LocalNetwork;
  let ai: OpenAI;
  let ctl: { next: Rewrite | undefined; dropReceipt: boolean };

  before(async () => {
    engine = await startTestEngine();
    net = await startLocalNetwork({
      workers: [
        { engine: new HttpEngine({ url: engine.url }), model: 'ok' },
        { engine: new HttpEngine({ url: engine.url }), model: 'ok' },
      ],
      powDifficulty: 4,
      clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
    });
    ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
    ctl = interceptAnswers(net.proxy);
  });
  after(async () => {
    await net?.close();
    await engine?.close();
  });

  test('an answer sealed to the worker: the same answer, a label naming the worker enclave, the costs', async () => {
    const { data, response } = await ai.chat.completions
      .create({ model: 'ok', messages: [{ role: 'user', content: 'echo:sealed hello world' }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'sealed hello world');
    assert.equal((data.usage as unknown as { total_cost: number }).total_cost, 360);
    const label = response.headers.get('x-cocoon-privacy') ?? '';
    assert.match(label, /^e2e=1; plaintext=worker; worker=[0-9a-f]{64}; image=[0-9a-f]{64}; tee=fake_tdx; /);
    // Signed by the client node, whose key /v1/attestation names; any change breaks it.
    const fields = verifyLabel(label, net.identities.client.publicKey);
    assert.deepEqual([fields?.e2e, fields?.model], ['1', createHash('sha256').update('ok').digest('hex')]);
    assert.match(fields?.attested ?? '', /^\d+s$/);
    assert.equal(verifyLabel(label.replace('e2e=1', 'e2e=0'), net.identities.client.publicKey), undefined);
    assert.equal(verifyLabel(label, net.identities.proxy.publicKey), undefined);
    assert.ok(label.includes(`image=${FAKE_TDX_IMAGE_HASH}`), label);
    const worker = /worker=([0-9a-f]{64})/.exec(label)?.[1];
    assert.ok(
      net.identities.workers.some((w) => Buffer.from(w.publicKey).toString('hex') === worker),
      `${worker} is not a worker of this network`,
    );
    // The signed receipt: verified by the client, and again here from the header alone.
    assert.equal(response.headers.get('x-cocoon-receipt-verified'), 'yes');
    const receipt = decodeReceipt(Buffer.from(response.headers.get('x-cocoon-receipt') ?? '', 'base64'));
    assert.deepEqual(verifyReceipt(receipt).problems, []);
    assert.equal(receipt.body.sealed, true);
    assert.equal(Buffer.from(receipt.body.worker_key).toString('hex'), worker);
    assert.equal(receipt.charge.charged_tokens, 18n);
    assert.equal(receipt.charge.charged_nanoton, 360n);
    // The proxy's own timing still reaches the app, from the final info.
    assert.ok(Number(response.headers.get('x-cocoon-proxy-start')) > 1.7e9);
    assert.equal(engine.seen.at(-1)?.body.max_tokens, 1000);
  });

  test('a streamed sealed answer arrives chunk by chunk, and require_e2e is met', async () => {
    assert.equal(
      await streamText(ai, 'echo:streamed through the proxy unread'),
      'streamed through the proxy unread',
    );
    const r = await fetch(`${net.apiUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'ok',
        messages: [{ role: 'user', content: 'echo:x' }],
        require_e2e: true,
      }),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('x-cocoon-privacy') ?? '', /^e2e=1/);
  });

  test('a sealed answer changed, reordered or cut short by the proxy is an error to the app, not text', async () => {
    const flip: Rewrite = (ms) =>
      ms.map((m, i) => {
        if (i !== 2 || m._ !== 'client.queryAnswerPartEx') return m;
        const answer = Uint8Array.from(m.answer);
        answer[answer.length - 1]! ^= 1;
        return { ...m, answer };
      });
    const swap: Rewrite = (ms) => {
      const out = [...ms];
      const [a, b] = [out[2] as Answer, out[3] as Answer];
      // The answers trade places, the flags and final info stay where they were.
      if ('answer' in a && 'answer' in b) {
        out[2] = { ...a, answer: b.answer } as Answer;
        out[3] = { ...b, answer: a.answer } as Answer;
      }
      return out;
    };
    const cut: Rewrite = (ms) => {
      const last = ms.at(-1) as Answer;
      const prev = ms.at(-2) as Answer;
      if (last._ === 'client.queryAnswerErrorEx' || prev._ === 'client.queryAnswerErrorEx') return ms;
      // The last chunk dropped, its final info moved onto the one before: a clean-looking end, one chunk short.
      return [...ms.slice(0, -2), { ...prev, flags: last.flags, final_info: last.final_info } as Answer];
    };
    // The last data chunk dropped, the (unsealed) end kept: the worker's receipt, over every chunk, gives it away;
    // and with the receipt dropped too, nothing vouches for the end.
    const cutBeforeEnd: Rewrite = (ms) => [...ms.slice(0, -2), ms.at(-1) as Answer];
    for (const [name, rewrite, dropReceipt] of [
      ['changed', flip, false],
      ['reordered', swap, false],
      ['cut short', cut, false],
      ['cut before its end', cutBeforeEnd, false],
      ['cut before its end, receipt dropped', cutBeforeEnd, true],
    ] as const) {
      ctl.next = rewrite;
      ctl.dropReceipt = dropReceipt;
      let text = '';
      await assert.rejects(
        async () => {
          text = await streamText(ai, 'echo:abcdefghijklmnop');
        },
        (err: unknown) => err instanceof APIError && /sealed answer/.test(err.message),
        name,
      );
      assert.notEqual(text, 'abcdefghijklmnop', name);
      assert.equal(ctl.next, undefined, `${name}: the answer went through the rewrite`);
    }
    ctl.dropReceipt = false;
    // The connection to the proxy is still good.
    assert.equal(await streamText(ai, 'echo:after'), 'after');
  });

  test('GET /v1/attestation: fresh evidence of the proxy and every worker, bound to the app nonce', async () => {
    const get = async (q: string) => {
      const r = await fetch(`${net.apiUrl}/attestation?${q}`);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    type Ev = Record<string, unknown> & { public_key: string; quote: string; verified: boolean };
    const a = await get('nonce=app-nonce-1');
    assert.equal(a.status, 200);
    const proxy = a.body.proxy as Ev;
    const workers = a.body.workers as Ev[];
    assert.equal(proxy.verified, true, String(proxy.error));
    assert.equal(proxy.tee, 'fake_tdx');
    assert.equal(proxy.image_hash, FAKE_TDX_IMAGE_HASH);
    assert.equal(proxy.image_allowed_by_root, true);
    assert.equal(proxy.public_key, Buffer.from(net.identities.proxy.publicKey).toString('hex'));
    assert.deepEqual(
      (a.body.client as { public_key: string }).public_key,
      Buffer.from(net.identities.client.publicKey).toString('hex'),
    );
    assert.equal(workers.length, 2);
    assert.ok(
      workers.every((w) => w.verified === true && w.nonce_bound === true && typeof w.seal_key === 'string'),
    );
    // The app can check the binding itself: the quote's REPORTDATA is SHA-512(domain ‖ key ‖ SHA-256(nonce)).
    for (const e of [proxy, ...workers]) {
      const reportData = createHash('sha512')
        .update('cocoon attestation v1\n')
        .update(Buffer.from(e.public_key, 'hex'))
        .update(createHash('sha256').update('app-nonce-1').digest())
        .digest();
      assert.deepEqual(Buffer.from(e.quote, 'base64').subarray(0, 64), reportData); // a fake_tdx quote: REPORTDATA first
    }
    // Another nonce, other quotes.
    const b = await get('nonce=app-nonce-2');
    assert.notEqual((b.body.proxy as Ev).quote, proxy.quote);
    assert.equal((await get('model=ok')).status, 400); // no nonce
    assert.equal(((await get('nonce=x&model=no-such')).body.workers as Ev[]).length, 0);
    // Each makes every worker produce a quote: a client connection gets five in any five seconds.
    const burst = (await Promise.all([1, 2, 3, 4, 5, 6].map((i) => get(`nonce=burst-${i}`)))).map(
      (b) => b.status,
    );
    assert.ok(burst.includes(429) && burst.every((st) => st === 200 || st === 429), burst.join());
  });

  test("a worker's reissued certificate reaches its proxy, and so the clients that seal to it", async () => {
    const id = net.identities.workers[0] as NodeIdentity;
    const old = Buffer.from(id.holder.identity.certDer);
    await id.refresher.refresh();
    const fresh = Buffer.from(id.holder.identity.certDer);
    assert.ok(!fresh.equals(old));
    const workers = (
      net.proxy as unknown as {
        workers: Map<number, { peer: { publicKey: Uint8Array; certDer: Uint8Array } }>;
      }
    ).workers;
    const listed = () =>
      Buffer.from(
        [...workers.values()].find((w) => Buffer.from(w.peer.publicKey).equals(Buffer.from(id.publicKey)))
          ?.peer.certDer ?? [],
      );
    for (let i = 0; i < 200 && !listed().equals(fresh); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(listed().equals(fresh), 'the proxy lists the new certificate');
    assert.equal(await streamText(ai, 'echo:still sealed'), 'still sealed');
  });

  test('a reference client (no extension bit) is served plain, and no extension message reaches it', async () => {
    const id = await createNodeIdentity({ tee: 'fake_tdx' });
    const { host, port } = splitHostPort(net.root.current.proxies[0]?.address.clients as string);
    const { socket } = await ratlsConnect({
      host,
      port,
      identity: id.holder,
      verifier: verifierFor('fake_tdx'),
    });
    const seen: string[] = [];
    const conn = new Connection(socket, { role: 'dialer', onMessage: (d) => void seen.push(decodeTl(d)._) });
    try {
      await conn.ready();
      const r = await call(conn, {
        _: 'client.connectToProxy',
        params: {
          _: 'client.params',
          flags: 3,
          client_owner_address: `0:${'ab'.repeat(32)}`,
          is_test: true,
          min_proto_version: 1,
          max_proto_version: 2,
        },
        min_config_version: net.root.current.version,
      });
      assert.ok(r.params.flags & (1 << 30), 'the proxy says it speaks the extensions');
      const auth = await call(conn, { _: 'client.authorizeWithProxyShort', data: new Uint8Array(0) });
      assert.equal(auth._, 'client.authorizationWithProxySuccess');
      const query = encodeTl({
        _: 'http.request',
        method: 'POST',
        url: '/v1/chat/completions',
        http_version: 'HTTP/1.1',
        headers: [{ _: 'http.header', name: 'Content-Type', value: 'application/json' }],
        payload: Buffer.from(
          '{"model":"ok","messages":[{"role":"user","content":"echo:reference"}],"max_tokens":20}',
        ),
      });
      sendTl(conn, {
        _: 'client.runQueryEx',
        model_name: 'ok',
        query,
        max_coefficient: 4000,
        max_tokens: 20,
        timeout: 10,
        request_id: randomBytes(32),
        min_config_version: net.root.current.version,
        flags: 0,
      });
      for (let i = 0; i < 300 && !seen.includes('proxy.clientRequestPayment'); i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.ok(seen.includes('client.queryAnswerEx'), seen.join());
      assert.ok(
        seen.every((m) => !m.startsWith('ext.')),
        seen.join(),
      );
    } finally {
      conn.close();
      id.refresher.close();
    }
  });

  test('min_tcb: a fake_tdx worker has no TCB status, so any min_tcb is a clear 503; a bad value is 400', async () => {
    const post = (extra: Record<string, unknown>) =>
      fetch(`${net.apiUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'x' }], ...extra }),
      });
    const r = await post({ min_tcb: 'OutOfDate' });
    assert.equal(r.status, 503);
    assert.match(
      ((await r.json()) as { error: { message: string } }).error.message,
      /no worker of ok is attested at TCB status OutOfDate or better/,
    );
    assert.equal((await post({ min_tcb: 'Great' })).status, 400);
  });

  test('with sealing off the label says the proxy saw the request; require_e2e then refuses it', async () => {
    const c = net.client as unknown as { opts: { seal?: string } };
    c.opts.seal = 'off';
    try {
      const { response } = await ai.chat.completions
        .create({ model: 'ok', messages: [{ role: 'user', content: 'echo:plain' }] })
        .withResponse();
      const label = response.headers.get('x-cocoon-privacy') ?? '';
      const fields = verifyLabel(label, net.identities.client.publicKey);
      assert.deepEqual(
        [fields?.e2e, fields?.plaintext, fields?.proxy, fields?.proxy_image],
        [
          '0',
          'proxy,worker',
          Buffer.from(net.identities.proxy.publicKey).toString('hex'),
          FAKE_TDX_IMAGE_HASH,
        ],
      );
      // A plain answer has its receipt too, its hashes unsalted.
      assert.equal(response.headers.get('x-cocoon-receipt-verified'), 'yes');
      const plain = decodeReceipt(Buffer.from(response.headers.get('x-cocoon-receipt') ?? '', 'base64'));
      assert.equal(plain.body.sealed, false);
      const r = await fetch(`${net.apiUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'x' }], require_e2e: true }),
      });
      assert.equal(r.status, 503);
      assert.match(
        ((await r.json()) as { error: { message: string } }).error.message,
        /require_e2e cannot be met/,
      );
    } finally {
      c.opts.seal = 'auto';
    }
  });
});

describe('min_tcb on a network under policy tdx (a test PKI, workers at two TCB levels)', () => {
  let engine: TestEngineServer;
  let net: LocalNetwork;
  let fake: FakeIntel;

  before(async () => {
    engine = await startTestEngine();
    fake = await createFakeIntel();
    const svn = (svn2: number) => Uint8Array.of(3, 1, svn2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    net = await startLocalNetwork({
      // Worker 0 is UpToDate (TEE TCB SVN 2), worker 1 OutOfDate (1); every node accepts both.
      workers: [0, 1].map(() => ({ engine: new HttpEngine({ url: engine.url }), model: 'ok' })),
      attestation: fakeIntelAttestation(fake, {
        teeTcbSvn: (role, i) => svn(role === 'worker' && i === 1 ? 1 : 2),
        acceptedStatuses: ['UpToDate', 'OutOfDate'],
      }),
      powDifficulty: 4,
      clientFunds: () => ({ balance: 10n ** 15n, stake: 10n ** 15n }),
    });
  });
  after(async () => {
    await net?.close();
    await engine?.close();
  });

  test('min_tcb UpToDate always reaches the UpToDate worker; the label and receipt say so', async () => {
    const ai = new OpenAI({ baseURL: net.apiUrl, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
    const upToDate = Buffer.from(net.identities.workers[0]?.publicKey as Uint8Array).toString('hex');
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const { response } = await ai.chat.completions
        .create({
          model: 'ok',
          messages: [{ role: 'user', content: 'echo:tcb' }],
          min_tcb: 'UpToDate',
        } as never)
        .withResponse();
      const label = response.headers.get('x-cocoon-privacy') ?? '';
      assert.match(label, /tee=tdx; tcb=UpToDate/);
      const r = decodeReceipt(Buffer.from(response.headers.get('x-cocoon-receipt') ?? '', 'base64'));
      assert.deepEqual(verifyReceipt(r).problems, []);
      assert.equal(r.body.sealed, true);
      seen.add(Buffer.from(r.body.worker_key).toString('hex'));
    }
    assert.deepEqual([...seen], [upToDate]);
    // The evidence shows each worker's TCB status, DCAP-verified by the client against the pinned test root.
    const a = (await (await fetch(`${net.apiUrl}/attestation?nonce=n`)).json()) as {
      proxy: { tcb_status: string; tee: string };
      workers: { public_key: string; tcb_status: string; verified: boolean }[];
    };
    assert.deepEqual([a.proxy.tee, a.proxy.tcb_status], ['tdx', 'UpToDate']);
    const status = Object.fromEntries(a.workers.map((w) => [w.public_key, w.verified && w.tcb_status]));
    assert.equal(status[upToDate], 'UpToDate');
    assert.deepEqual(Object.values(status).sort(), ['OutOfDate', 'UpToDate']);
    // A lower minimum admits the OutOfDate worker too.
    const { response } = await ai.chat.completions
      .create({
        model: 'ok',
        messages: [{ role: 'user', content: 'echo:any' }],
        min_tcb: 'OutOfDate',
      } as never)
      .withResponse();
    assert.match(response.headers.get('x-cocoon-privacy') ?? '', /tcb=(UpToDate|OutOfDate)/);
  });
});

/** Every readable mapping of a process, searched for each needle. Needs ptrace access (a child of ours). */
function scanMemory(pid: number, needles: Buffer[]): boolean[] {
  const found = needles.map(() => false);
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const overlap = Math.max(...needles.map((n) => n.length));
    const chunk = Buffer.alloc(1 << 20);
    for (const line of maps) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) r/.exec(line);
      if (!m || line.includes('[vvar]') || line.includes('[vsyscall]')) continue;
      const end = Number.parseInt(m[2] as string, 16);
      let at = Number.parseInt(m[1] as string, 16);
      let carry = Buffer.alloc(0);
      while (at < end) {
        let n = 0;
        try {
          n = readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at);
        } catch {
          break; // unreadable (guard pages)
        }
        if (n <= 0) break;
        const hay = Buffer.concat([carry, chunk.subarray(0, n)]);
        needles.forEach((needle, i) => {
          if (!found[i] && hay.includes(needle)) found[i] = true;
        });
        carry = Buffer.from(hay.subarray(Math.max(0, hay.length - overlap)));
        at += n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

describe('the proxy process never holds a sealed prompt or answer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-seal-'));
  const nodes = new NodeProcesses();
  after(() => {
    nodes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a marker sent sealed is nowhere in the proxy memory or logs; one sent plain is', async (t) => {
    const engine = await startTestEngine();
    try {
      const [wp, cp] = [await freePort(), await freePort()];
      const rootFile = join(dir, 'root.json');
      await writeRootConfig(rootFile, {
        workers: `127.0.0.1:${wp}`,
        clients: `127.0.0.1:${cp}`,
        model: 'test-model',
      });
      const common = ['--root-config', rootFile, '--tee', 'fake_tdx', '--peer-policy', 'fake_tdx'];
      const proxy = nodes.run([
        'proxy',
        ...common,
        '--dir',
        join(dir, 'p'),
        '--workers-port',
        `${wp}`,
        '--clients-port',
        `${cp}`,
        '--stats-port',
        '0',
        '--pow-difficulty',
        '8',
        '--log-level',
        'trace',
      ]);
      await proxy.waitFor(/proxy: workers on/);
      const pid = proxy.child.pid as number;
      try {
        scanMemory(pid, [Buffer.from('x')]);
      } catch (err) {
        t.skip(`this machine does not let a process read its child's memory: ${(err as Error).message}`);
        return;
      }
      const worker = nodes.run([
        'worker',
        ...common,
        '--dir',
        join(dir, 'w'),
        '--backend',
        engine.url,
        '--stats-port',
        '0',
      ]);
      const sealed = nodes.run(['client', ...common, '--dir', join(dir, 'c1'), '--port', '0']);
      const plain = nodes.run([
        'client',
        ...common,
        '--dir',
        join(dir, 'c2'),
        '--port',
        '0',
        '--seal',
        'off',
      ]);
      await worker.waitFor(/worker: connected to proxy/);
      const apis = [await sealed.waitFor(/OpenAI API on (\S+)/), await plain.waitFor(/OpenAI API on (\S+)/)];
      await sealed.waitFor(/client: connected to proxy/);
      await plain.waitFor(/client: connected to proxy/);
      // Markers built here at run time, so that no copy of them sits in any source file the proxy loads.
      const mark = () => `M${randomBytes(12).toString('hex')}K`;
      const [promptSealed, answerSealed, promptPlain, answerPlain] = [mark(), mark(), mark(), mark()];
      const ask = async (api: string, prompt: string, answer: string) => {
        const ai = new OpenAI({ baseURL: api, apiKey: 'unused', maxRetries: 0 });
        const { data, response } = await ai.chat.completions
          .create({
            model: 'test-model',
            messages: [
              { role: 'system', content: `never repeat ${prompt}` },
              { role: 'user', content: `echo:${answer}` },
            ],
          })
          .withResponse();
        assert.equal(data.choices[0]?.message.content, answer);
        const s = await ai.chat.completions.create({
          model: 'test-model',
          messages: [{ role: 'user', content: `echo:${answer}` }],
          stream: true,
        });
        let text = '';
        for await (const c of s) text += c.choices[0]?.delta.content ?? '';
        assert.equal(text, answer);
        return response.headers.get('x-cocoon-privacy') ?? '';
      };
      assert.match(await ask(apis[0] as string, promptSealed, answerSealed), /^e2e=1; plaintext=worker/);
      assert.match(
        await ask(apis[1] as string, promptPlain, answerPlain),
        /^e2e=0; plaintext=proxy,worker; /,
      );
      // The worker opened the sealed request: the engine got the prompt.
      assert.ok(engine.seen.some((s) => JSON.stringify(s.body).includes(promptSealed)));
      const needles = [promptSealed, answerSealed, promptPlain, answerPlain].map((m) => Buffer.from(m));
      const found = scanMemory(pid, needles);
      assert.deepEqual(
        found.slice(2),
        [true, true],
        'the scan finds what the proxy did see (the plain request)',
      );
      assert.deepEqual(
        found.slice(0, 2),
        [false, false],
        'the sealed prompt or answer is in the proxy memory',
      );
      const logs = proxy.lines.join('\n');
      assert.ok(!logs.includes(promptSealed) && !logs.includes(answerSealed));
      // The client kept its receipts: listed, saved, and checked offline; a changed one fails.
      const saved = join(dir, 'receipts');
      const list = spawnSync(
        process.execPath,
        [COCOON_BIN, 'client', 'receipts', '--dir', join(dir, 'c1'), '--json', '--save', saved],
        { encoding: 'utf8' },
      );
      assert.equal(list.status, 0, list.stderr);
      const { receipts: rows, audit } = JSON.parse(list.stdout) as {
        receipts: { verified: boolean; sealed: boolean; id: string }[];
        audit: { receipts: number; unexplained_tokens: string; gaps: string[] }[];
      };
      assert.equal(rows.length, 2);
      assert.deepEqual(
        audit.map((a) => [a.receipts, a.unexplained_tokens, a.gaps]),
        [[2, '0', []]],
      );
      assert.ok(rows.every((r) => r.verified && r.sealed));
      const file = join(saved, `${(rows[0] as { id: string }).id.replace(/[^0-9a-f]/gi, '-')}.receipt`);
      const ok = spawnSync(process.execPath, [COCOON_BIN, 'receipt', 'verify', file], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /sealed to the worker enclave/);
      assert.match(ok.stdout, /^verified: /m);
      const bytes = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
      bytes[bytes.length - 200]! ^= 1;
      writeFileSync(file, bytes.toString('base64'));
      const bad = spawnSync(process.execPath, [COCOON_BIN, 'receipt', 'verify', file], { encoding: 'utf8' });
      assert.equal(bad.status, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /NOT VERIFIED/);
    } finally {
      await engine.close();
    }
  });
});
