import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { AttestationError, CocoonError } from '../errors.ts';
import { createRatlsIdentity, type QuoteSource } from '../tee/cert.ts';
import { imageHash } from '../tee/dcap.ts';
import { createFakeIntel, type FakeIntel } from '../tee/fake-intel.ts';
import { type AttestationPolicy, AttestationVerifier } from '../tee/policy.ts';
import { parseTdxQuote } from '../tee/quote.ts';
import { fakeIntelSource, fakeTdxSource } from '../tee/quote-source.ts';
import { Connection } from './connection.ts';
import { IdentityHolder, IdentityRefresher, RatlsServer, ratlsConnect } from './ratls.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const mrTdA = new Uint8Array(48).fill(0xa1);
const mrTdB = new Uint8Array(48).fill(0xb2);

async function identity(quoteSource?: QuoteSource): Promise<IdentityHolder> {
  return new IdentityHolder(await createRatlsIdentity(quoteSource ? { quoteSource } : {}));
}

async function expectCode(p: Promise<unknown>, code: string): Promise<CocoonError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CocoonError, `expected a CocoonError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/** A server that answers every query with its input reversed, over Connection, with low PoW for speed. */
async function serve(id: IdentityHolder, policy: AttestationPolicy, powDifficulty = 4) {
  const server = new RatlsServer({ identity: id, verifier: new AttestationVerifier(policy), powDifficulty });
  const rejects: CocoonError[] = [];
  const peers: string[] = [];
  const conns: Connection[] = [];
  server.on('reject', (e) => rejects.push(e));
  server.on('connection', (sock, peer) => {
    peers.push(peer.imageHash);
    conns.push(
      new Connection(sock, {
        role: 'acceptor',
        onQuery: async (q) => Buffer.from(q).reverse(),
      }),
    );
  });
  const port = await server.listen(0);
  return {
    port,
    server,
    rejects,
    peers,
    async close() {
      for (const c of conns) c.close();
      await server.close();
    },
  };
}

async function dial(port: number, id: IdentityHolder, policy: AttestationPolicy) {
  const { socket, peer } = await ratlsConnect({
    host: '127.0.0.1',
    port,
    identity: id,
    verifier: new AttestationVerifier(policy),
  });
  const conn = new Connection(socket, { role: 'dialer', handshakeTimeoutMs: 5000 });
  return { conn, peer };
}

describe('RA-TLS', () => {
  let fake: FakeIntel;
  let tdxPolicy: (extra?: Partial<AttestationPolicy>) => AttestationPolicy;

  before(async () => {
    fake = await createFakeIntel();
    tdxPolicy = (extra = {}) => ({
      kind: 'tdx',
      trustedRootDer: fake.rootDer,
      collateral: () => fake.collateral,
      ...extra,
    });
  });

  test("connects under policy 'any' and carries a query both ways", async (t) => {
    const s = await serve(await identity(), { kind: 'any' });
    t.after(() => s.close());
    const { conn, peer } = await dial(s.port, await identity(), { kind: 'any' });
    t.after(() => conn.close());
    await conn.ready();
    assert.equal(peer.quoteKind, 'none');
    assert.equal(peer.imageHash, '0'.repeat(64));
    assert.equal(Buffer.from(await conn.query(Buffer.from('abc'))).toString(), 'cba');
  });

  test("accepts the reference's fake quote under 'fake_tdx' with the fake image hash", async (t) => {
    const s = await serve(await identity(fakeTdxSource()), { kind: 'fake_tdx' });
    t.after(() => s.close());
    const { conn, peer } = await dial(s.port, await identity(fakeTdxSource()), { kind: 'fake_tdx' });
    t.after(() => conn.close());
    await conn.ready();
    assert.equal(peer.imageHash, '5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61');
    assert.deepEqual(s.peers, ['5c55c8f4db4010ba9203d83536d0609856af8c847ac039e37e7dde8fbd574b61']);
  });

  test("attests both sides under 'tdx' with fake-Intel quotes and an image allowlist", async (t) => {
    const serverId = await identity(fakeIntelSource(fake, { mrTd: mrTdA }));
    const clientId = await identity(fakeIntelSource(fake, { mrTd: mrTdB }));
    const imgA = hex(imageHash(parseTdxQuote(serverId.identity.quote!).body));
    const imgB = hex(imageHash(parseTdxQuote(clientId.identity.quote!).body));
    const s = await serve(serverId, tdxPolicy({ allowedImageHashes: [imgB] }));
    t.after(() => s.close());
    const { conn, peer } = await dial(s.port, clientId, tdxPolicy({ allowedImageHashes: [imgA] }));
    t.after(() => conn.close());
    await conn.ready();
    assert.equal(peer.quoteKind, 'tdx');
    assert.equal(peer.status, 'UpToDate');
    assert.equal(peer.imageHash, imgA);
    assert.equal(peer.mrTd, hex(mrTdA));
    assert.equal(peer.rootKeyId, fake.rootKeyId);
    assert.deepEqual(s.peers, [imgB]);
  });

  test('the server refuses a client whose image hash is not allowed, before any byte flows', async (t) => {
    const serverId = await identity(fakeIntelSource(fake, { mrTd: mrTdA }));
    const s = await serve(serverId, tdxPolicy({ allowedImageHashes: ['00'.repeat(32)] }));
    t.after(() => s.close());
    const { conn } = await dial(s.port, await identity(fakeIntelSource(fake, { mrTd: mrTdB })), tdxPolicy());
    t.after(() => conn.close());
    // TLS 1.3 client auth is asynchronous: the client learns of the refusal when the handshake frame never comes.
    await assert.rejects(conn.ready());
    assert.equal(s.rejects[0]?.code, 'IMAGE_NOT_ALLOWED');
    assert.equal(s.server.stats.accepted, 0);
  });

  test('the client refuses a server whose image hash is not allowed', async (t) => {
    const s = await serve(await identity(fakeIntelSource(fake, { mrTd: mrTdA })), tdxPolicy());
    t.after(() => s.close());
    const id = await identity(fakeIntelSource(fake));
    await expectCode(
      dial(s.port, id, tdxPolicy({ allowedImageHashes: ['11'.repeat(32)] })),
      'IMAGE_NOT_ALLOWED',
    );
    await expectCode(dial(s.port, id, tdxPolicy({ allowedMrtd: [hex(mrTdB)] })), 'MEASUREMENT_NOT_ALLOWED');
  });

  test("policy 'tdx' pinned to Intel refuses fake-Intel quotes and reference fakes", async (t) => {
    const s = await serve(await identity(fakeIntelSource(fake)), { kind: 'any' });
    t.after(() => s.close());
    const id = await identity();
    const intel: AttestationPolicy = { kind: 'tdx', collateral: () => fake.collateral };
    await expectCode(dial(s.port, id, intel), 'ROOT_NOT_TRUSTED');
    const s2 = await serve(await identity(fakeTdxSource()), { kind: 'any' });
    t.after(() => s2.close());
    await expectCode(dial(s2.port, id, intel), 'FAKE_QUOTE_REFUSED');
  });

  test('refuses a certificate without a quote, and a quote that binds another key', async (t) => {
    const s = await serve(await identity(), { kind: 'any' });
    t.after(() => s.close());
    await expectCode(dial(s.port, await identity(), { kind: 'fake_tdx' }), 'QUOTE_MISSING');
    // A genuine quote, but issued for somebody else's key.
    const stolen: QuoteSource = {
      kind: 'fake_intel',
      getQuote: async () => fake.issueQuote({ reportData: randomBytes(64) }),
    };
    const s2 = await serve(await identity(stolen), { kind: 'any' });
    t.after(() => s2.close());
    await expectCode(dial(s2.port, await identity(), tdxPolicy()), 'REPORTDATA_MISMATCH');
    const s3 = await serve(await identity({ kind: 'fake_tdx', getQuote: async () => randomBytes(64) }), {
      kind: 'any',
    });
    t.after(() => s3.close());
    await expectCode(dial(s3.port, await identity(), { kind: 'fake_tdx' }), 'REPORTDATA_MISMATCH');
  });

  test('refuses a debug TD unless the policy allows it', async (t) => {
    const s = await serve(await identity(fakeIntelSource(fake, { tdAttributes: { debug: true } })), {
      kind: 'any',
    });
    t.after(() => s.close());
    const err = await expectCode(dial(s.port, await identity(), tdxPolicy()), 'DEBUG_TD');
    assert.ok(err instanceof AttestationError);
  });

  test('refuses an expired peer certificate', async (t) => {
    const old = await createRatlsIdentity({ now: new Date(Date.now() - 3 * 86_400_000) });
    const s = await serve(new IdentityHolder(old), { kind: 'any' });
    t.after(() => s.close());
    await expectCode(dial(s.port, await identity(), { kind: 'any' }), 'CERT_EXPIRED');
  });

  test('a client refuses a PoW above its maximum before solving it', async (t) => {
    const s = await serve(await identity(), { kind: 'any' }, 40);
    t.after(() => s.close());
    await expectCode(dial(s.port, await identity(), { kind: 'any' }), 'POW_TOO_HARD');
  });

  test('an offered session ticket is never resumed: every connection exchanges and checks certificates', async (t) => {
    // TLS 1.3 OpenSSL still sends (stateful) tickets under SSL_OP_NO_TICKET, but nothing stores them server-side,
    // so a client that offers one gets a full handshake. A resumed session would be refused (SESSION_RESUMED).
    const s = await serve(await identity(), { kind: 'any' });
    t.after(() => s.close());
    const sessions: Buffer[] = [];
    const reused: boolean[] = [];
    const orig = tls.connect;
    const spy = ((opts: tls.ConnectionOptions) => {
      const sock = orig(sessions[0] ? { ...opts, session: sessions[0] } : opts);
      sock.on('session', (b: Buffer) => sessions.push(b));
      sock.once('secureConnect', () => reused.push(sock.isSessionReused()));
      return sock;
    }) as typeof tls.connect;
    (tls as { connect: typeof tls.connect }).connect = spy;
    try {
      for (let i = 0; i < 2; i++) {
        const { conn, peer } = await dial(s.port, await identity(), { kind: 'any' });
        await conn.ready();
        assert.equal(peer.publicKey.length, 32);
        await conn.query(Buffer.from('x'));
        conn.close();
      }
    } finally {
      (tls as { connect: typeof tls.connect }).connect = orig;
    }
    assert.ok(sessions.length > 0, 'the second connection offered a ticket');
    assert.deepEqual(reused, [false, false]);
    assert.equal(s.server.stats.accepted, 2);
  });

  test('a refreshed certificate serves new connections while live ones go on', async (t) => {
    const holder = await identity(fakeTdxSource());
    const first = holder.identity;
    const s = await serve(holder, { kind: 'any' });
    t.after(() => s.close());
    const a = await dial(s.port, await identity(), { kind: 'fake_tdx' });
    t.after(() => a.conn.close());
    await a.conn.ready();
    const refresher = new IdentityRefresher(
      holder,
      () => createRatlsIdentity({ quoteSource: fakeTdxSource() }),
      {
        intervalMs: 0,
      },
    );
    assert.equal(refresher.due(), true);
    await refresher.refresh();
    assert.notEqual(holder.identity.certPem, first.certPem);
    const b = await dial(s.port, await identity(), { kind: 'fake_tdx' });
    t.after(() => b.conn.close());
    await b.conn.ready();
    assert.deepEqual(b.peer.publicKey, holder.identity.publicKey);
    assert.notDeepEqual(b.peer.publicKey, a.peer.publicKey);
    assert.equal(Buffer.from(await a.conn.query(Buffer.from('live'))).toString(), 'evil');
  });

  after(() => {});
});
