// The proxy runner (cocoon-reference.md §4.1–§4.3, §8): accepts workers and clients over RA-TLS, runs both
// handshakes, routes each request to a worker, relays the answer as it streams, and meters it. Unlike the
// reference it always answers — every failure reaches the client as a `*Ex` error — retries on another worker
// when one fails before its first byte, ends a request at once when its worker goes away mid-stream, and has
// its own alarm for the request's timeout.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Address, toNano } from '@ton/core';
import { Counter } from 'prom-client';
import { formatTon } from '../../chain/client.ts';
import { CocoonError, ProtocolError } from '../../errors.ts';
import { Connection } from '../../net/connection.ts';
import { RatlsServer } from '../../net/ratls.ts';
import { reservationFor, tokensAvailable } from '../../pricing/tokens.ts';
import { countersign, type ReceiptBody } from '../../receipt/receipt.ts';
import { isSealedQuery, sealedQueryHeader } from '../../seal/sealed.ts';
import type { Store } from '../../store/store.ts';
import type { AttestationPolicy, AttestationVerifier, PeerAttestation } from '../../tee/policy.ts';
import { decodeTl, encodeTl } from '../../tl/cocoon.ts';
import type { TlConstructors, TlFunctions, TlTypes } from '../../tl/cocoon-api.gen.ts';
import { childScAddress, proxyScAddress } from '../addresses.ts';
import type { ChainAgent } from '../chain-agent.ts';
import { serveDashboard } from '../dashboard.ts';
import { requestUrl, serveMetrics, serveStats } from '../http-util.ts';
import type { NodeIdentity } from '../identity.ts';
import { verifierFor } from '../identity.ts';
import { type Logger, shortId, silentLogger } from '../log.ts';
import { NodeMetrics } from '../metrics.ts';
import type { RootConfig, RootWatcher } from '../root-config.ts';
import {
  ANSWER_ERROR,
  call,
  decodeMessage,
  dispatchQueries,
  EXT_FLAG,
  idHex,
  negotiate,
  sendTl,
  unixTime,
} from '../rpc.ts';
import { ProxyAccounts } from './accounts.ts';
import { newScore, type PoolWorker, pick, recordOutcome } from './pool.ts';
import { ProxySettlement } from './settlement.ts';

type TokensUsed = TlConstructors['tokensUsed'];
type WorkerFinal = NonNullable<TlConstructors['proxy.queryAnswerEx']['final_info']>;
type ClientFinal = NonNullable<TlConstructors['client.queryAnswerEx']['final_info']>;

/** What the proxy knows of a client's funds until on-chain accounting takes over. */
export interface ClientFunds {
  balance: bigint;
  stake: bigint;
}

export interface ProxyNodeOptions {
  root: RootWatcher;
  identity: NodeIdentity;
  /** TON address that owns the proxy contract. */
  ownerAddress: string;
  /** How workers must attest (default `tdx`; `fake_tdx` for local networks, chosen explicitly). */
  workerPolicy?: AttestationPolicy['kind'] | AttestationPolicy;
  /** How clients must attest (default `any`, as the reference: clients run outside TEEs). */
  clientPolicy?: AttestationPolicy['kind'] | AttestationPolicy;
  /** Check worker image hashes and model hashes against the root (default true). */
  checkWorkerHashes?: boolean;
  host?: string;
  /** Default 11001 / 11002 / 11000; 0 picks a free port. */
  workerPort?: number;
  clientPort?: number;
  /** Port of /stats and /jsonstats; undefined: none. */
  statsPort?: number;
  accessToken?: string;
  powDifficulty?: number;
  /**
   * A client's funds (until the chain is the source): default the reference's fake-TON 1e6 TON balance and stake.
   */
  clientFunds?: (owner: string) => ClientFunds;
  /** SHA-256 of a client's short-auth secret; default SHA-256 of the empty string, as the reference's fake TON. */
  clientSecretHash?: (owner: string) => Uint8Array | undefined;
  /** Requests are cut when a client stops reading and this many bytes wait for it (default 16 MiB). */
  maxClientBuffer?: number;
  /**
   * Where the books are kept across restarts and crashes. Without it a restarted proxy starts from zero, which its
   * workers refuse as a rollback.
   */
  store?: Store;
  /**
   * The chain: the proxy deploys and stakes its contract, takes client funds and secret hashes from their
   * contracts, and submits signed charges once `chargeThreshold` (nanoTON, default 1 TON) is unsettled.
   */
  chain?: ChainAgent;
  chargeThreshold?: bigint;
  /** For this long after start, a model without workers is "not connected yet" (503), then unknown (404). */
  warmupMs?: number;
  /** How often the books' seqno is committed to the proxy contract (default 30 s). */
  commitEveryMs?: number;
  /** Tries per request (the first worker plus retries before the first byte), default 3. */
  maxAttempts?: number;
  log?: (line: string) => void;
  /** Structured logs (one JSON line per event; requests with their ids). */
  logger?: Logger;
}

interface WorkerLink extends PoolWorker {
  conn: Connection;
  peer: PeerAttestation;
  /** Hex of the worker's certificate key: what sealed requests name their recipients by. */
  key: string;
  /** Speaks cocoon_ext.tl and has an attested sealing key: sealed requests may go to it. */
  sealable: boolean;
  /** Speaks cocoon_ext.tl. */
  ext: boolean;
  /** When it last sent a reissued certificate (ms). */
  lastCertificate: number;
  owner: string;
  modelSpec: string;
  proto: number;
  scAddress: string;
  requests: Map<string, ProxyRequest>;
  state: 'handshake' | 'compare' | 'ready' | 'failed';
}

interface ClientLink {
  id: number;
  conn: Connection;
  peer: PeerAttestation;
  owner: string;
  proto: number;
  scAddress: string;
  nonce: bigint;
  authorized: boolean;
  requests: Map<string, ProxyRequest>;
  /** Speaks cocoon_ext.tl. */
  ext: boolean;
  /** When it last asked for evidence (ms), within the last five seconds. */
  attestations: number[];
}

interface ProxyRequest {
  client: ClientLink;
  clientRequestId: Uint8Array;
  key: string;
  query: TlFunctions['client.runQueryEx'];
  model: string;
  reserved: bigint;
  startedAt: number;
  deadline: number;
  worker: WorkerLink | undefined;
  workerRequestId: Uint8Array;
  workerKey: string;
  tried: Set<number>;
  attempts: number;
  headSent: boolean;
  bytes: number;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
  /** For a sealed request: the certificate keys (hex) of the workers it can be opened by. */
  sealedTo?: Set<string>;
  /** The answering worker's signed receipt, countersigned when the answer ends. */
  receipt?: { body: ReceiptBody; signature: Uint8Array; certificate: Uint8Array };
}

const FAKE_FUNDS = toNano('1000000');
/** After a start, a model without workers is taken as "not connected yet" (503), not unknown (404), this long. */
const WARMUP_MS = 30_000;
const EMPTY_SECRET_HASH = createHash('sha256').update('').digest();
const now = unixTime;
const zeroTokens = (): TokensUsed => ({
  _: 'tokensUsed',
  prompt_tokens_used: 0n,
  cached_tokens_used: 0n,
  completion_tokens_used: 0n,
  reasoning_tokens_used: 0n,
  total_tokens_used: 0n,
});

/**
 * Refuses a handshake query: answered as a query error, and the connection goes right after (the reference closes
 * on a failed handshake).
 */
function handshakeFailed(conn: Connection, msg: string): never {
  setTimeout(() => conn.close(new ProtocolError('HANDSHAKE_FAILED', msg)), 50).unref();
  throw new ProtocolError('HANDSHAKE_FAILED', msg);
}

export class ProxyNode {
  readonly stats = {
    requests: 0,
    success: 0,
    failed: 0,
    rejected: 0,
    retries: 0,
    cut: 0,
    bytesRelayed: 0,
    tokens: 0n,
    workersAccepted: 0,
    clientsAccepted: 0,
  };
  readonly workers = new Map<number, WorkerLink>();
  readonly clients = new Map<number, ClientLink>();
  readonly accounts: ProxyAccounts;
  readonly metrics = new NodeMetrics('proxy');
  private readonly retries: Counter;
  readonly settlement: ProxySettlement | undefined;
  private workerServer: RatlsServer | undefined;
  private clientServer: RatlsServer | undefined;
  private http: Server | undefined;
  private nextId = 1;
  private closed = false;
  readonly ports = { workers: 0, clients: 0, stats: 0 };
  /** Every open connection, handshaken or not. */
  private readonly accepted = new Set<Connection>();
  private readonly startedAt = Date.now();

  constructor(private readonly opts: ProxyNodeOptions) {
    this.workerVerifier = verifierFor(opts.workerPolicy ?? 'tdx');
    let excessesTo: Address | undefined;
    try {
      excessesTo = Address.parse(opts.ownerAddress);
    } catch {
      excessesTo = undefined;
    }
    const signer = excessesTo ? { privateKey: opts.identity.privateKey, excessesTo } : undefined;
    this.accounts = new ProxyAccounts(opts.store, signer);
    this.retries = new Counter({
      name: 'cocoon_proxy_retries_total',
      help: 'Requests sent to another worker after one failed before its first byte',
      registers: [this.metrics.registry],
    });
    this.metrics.gauges('connections', 'Handshaken connections by peer kind', 'kind', () => [
      ['worker', [...this.workers.values()].filter((w) => w.state === 'ready').length],
      ['client', [...this.clients.values()].filter((c) => c.authorized).length],
    ]);
    this.metrics.gauge(
      'workers_enabled',
      'Worker connections taking requests',
      () => [...this.workers.values()].filter((w) => w.state === 'ready' && w.enabled).length,
    );
    this.metrics.gauge('running_requests', 'Requests in flight', () =>
      [...this.clients.values()].reduce((n, c) => n + c.requests.size, 0),
    );
    this.metrics.gauges('committed_tokens', 'Tokens committed to the store, by account kind', 'kind', () => [
      ['client', this.accounts.all('client').reduce((n, a) => n + a.committed, 0n)],
      ['worker', this.accounts.all('worker').reduce((n, a) => n + a.committed, 0n)],
    ]);
    this.metrics.gauge(
      'charges_total_onchain',
      'Signed charges submitted on-chain',
      () => this.settlement?.charges ?? 0,
    );
    if (opts.chain) {
      const so: ConstructorParameters<typeof ProxySettlement>[0] = {
        agent: opts.chain,
        accounts: this.accounts,
        root: () => this.root,
      };
      if (opts.chargeThreshold !== undefined) so.chargeThreshold = opts.chargeThreshold;
      if (opts.log) so.log = (l) => this.log(l);
      this.settlement = new ProxySettlement(so);
    }
  }

  private get root(): RootConfig {
    return this.opts.root.current;
  }

  private get logger(): Logger {
    return this.opts.logger ?? silentLogger;
  }

  private log(line: string): void {
    this.opts.log?.(`proxy: ${line}`);
    this.logger.info(line);
  }

  /** This proxy's contract address ('' when the root config cannot derive it). */
  get scAddress(): string {
    return proxyScAddress(this.root, this.opts.ownerAddress, this.opts.identity.publicKey);
  }

  async start(): Promise<void> {
    if (this.settlement) {
      const sc = await this.settlement.ensureContract(this.opts.ownerAddress, this.opts.identity.publicKey);
      this.log(`proxy contract ${sc} deployed and staked`);
      // Before serving: the store must not be behind what this proxy committed on-chain (rollback, clone).
      await this.settlement.checkAndCommit(this.accounts.seqno);
      this.settlement.start();
      this.settlement.startCommits(() => this.accounts.seqno, this.opts.commitEveryMs ?? 30_000);
    }
    const host = this.opts.host ?? '127.0.0.1';
    const identity = this.opts.identity.holder;
    const common = this.opts.powDifficulty === undefined ? {} : { powDifficulty: this.opts.powDifficulty };
    this.workerServer = new RatlsServer({
      identity,
      verifier: this.workerVerifier,
      ...common,
    });
    this.clientServer = new RatlsServer({
      identity,
      verifier: verifierFor(this.opts.clientPolicy ?? 'any'),
      ...common,
    });
    this.workerServer.on('connection', (sock, peer) => this.acceptWorker(sock, peer));
    this.clientServer.on('connection', (sock, peer) => this.acceptClient(sock, peer));
    this.workerServer.on('reject', (err, remote) =>
      this.log(`worker ${remote} refused: ${err.code} ${err.message}`),
    );
    this.clientServer.on('reject', (err, remote) =>
      this.log(`client ${remote} refused: ${err.code} ${err.message}`),
    );
    this.ports.workers = await this.workerServer.listen(this.opts.workerPort ?? 11001, host);
    this.ports.clients = await this.clientServer.listen(this.opts.clientPort ?? 11002, host);
    this.opts.root.on('update', (cfg) => this.onRootUpdate(cfg));
    if (this.opts.statsPort !== undefined) {
      this.http = createServer((req, res) => {
        const url = requestUrl(req, 'http://proxy');
        if (!url) {
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end('bad request target\n');
          return;
        }
        const stats = {
          title: 'Cocoon proxy',
          accessToken: this.opts.accessToken,
          stats: () => this.jsonStats(),
        };
        if (serveMetrics(req, res, url, { accessToken: this.opts.accessToken, metrics: this.metrics }))
          return;
        const dash = { accessToken: this.opts.accessToken, nodes: () => ({ proxy: '' }) };
        if (serveDashboard(req, res, url, dash)) return;
        if (!serveStats(req, res, url, stats)) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found\n');
        }
      });
      await new Promise<void>((resolve) => this.http?.listen(this.opts.statsPort, host, resolve));
      this.ports.stats = (this.http.address() as AddressInfo).port;
    }
  }

  /** Stops serving: closes both ports and every connection, commits what is pending. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private closing: Promise<void> | undefined;

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.settlement?.close();
    // The listening sockets only finish closing once every connection they accepted has gone.
    const servers = Promise.all([this.workerServer?.close(), this.clientServer?.close()]);
    for (const c of this.accepted) c.close(new ProtocolError('SHUTDOWN', 'proxy stopping'));
    await servers;
    try {
      await this.accounts.flush();
    } catch (err) {
      // The store is failing (what made the proxy stop, or a disk gone bad meanwhile): what was not committed
      // was never signed or answered, so stopping without it loses nothing that anyone holds.
      this.logger.error({ err: (err as Error).message }, 'the last flush failed');
    }
    if (this.http) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http?.close(() => r()));
    }
  }

  private track(conn: Connection): void {
    this.accepted.add(conn);
    conn.once('close', () => this.accepted.delete(conn));
  }

  private proxyParams(proto: number): TlConstructors['proxy.params'] {
    return {
      _: 'proxy.params',
      flags: 1 | (proto > 0 ? 2 : 0) | EXT_FLAG,
      proxy_public_key: this.opts.identity.publicKey,
      proxy_owner_address: this.opts.ownerAddress,
      proxy_sc_address: this.scAddress,
      is_test: this.root.params.isTest,
      proto_version: proto,
    };
  }

  // ── workers ────────────────────────────────────────────────────────────────────────────────────────────────

  private acceptWorker(sock: TLSSocket, peer: PeerAttestation): void {
    if (this.closed) return void sock.destroy();
    const id = this.nextId++;
    this.stats.workersAccepted++;
    let link: WorkerLink | undefined;
    const fail = (msg: string): never => handshakeFailed(conn, msg);
    const conn: Connection = new Connection(sock, {
      role: 'acceptor',
      name: `worker#${id}`,
      onQuery: dispatchQueries({
        'worker.connectToProxy': (q) => {
          if (link) fail('handshake already done');
          const p = q.params;
          const check = this.opts.checkWorkerHashes !== false;
          if (check && !this.root.workerHashes.includes(peer.imageHash)) {
            fail(`worker image ${peer.imageHash} is not allowed by the root`);
          }
          if (!(p.flags & 1)) fail('worker params without flags bit 0');
          if (p.is_test !== this.root.params.isTest) fail('test and production nodes do not mix');
          if (!p.model) fail('empty model name');
          if (!Number.isSafeInteger(p.coefficient) || p.coefficient < 0 || p.coefficient >= 1e9)
            fail('coefficient out of range');
          const maxActive = p.max_active_requests ?? 0;
          const proxyCnt = p.proxy_cnt ?? 0;
          if (maxActive < 1) fail('max_active_requests must be at least 1');
          if (proxyCnt < 1) fail('proxy_cnt must be at least 1');
          const modelHash = createHash('sha256').update(p.model).digest('hex');
          if (check && !this.root.modelHashes.includes(modelHash)) {
            fail(`model ${p.model} is not allowed by the root`);
          }
          const proto = negotiate(p.min_proto_version ?? 0, p.max_proto_version ?? 0);
          if (proto === undefined) fail('no common protocol version');
          const proxySc = this.scAddress;
          link = {
            id,
            conn,
            peer,
            key: Buffer.from(peer.publicKey).toString('hex'),
            sealable: (p.flags & EXT_FLAG) !== 0 && peer.sealKey !== undefined,
            ext: (p.flags & EXT_FLAG) !== 0,
            lastCertificate: 0,
            owner: p.worker_owner_address,
            model: p.model.split('@')[0] as string,
            modelSpec: p.model,
            coefficient: p.coefficient,
            capacity: Math.ceil(maxActive / proxyCnt),
            running: 0,
            enabled: false,
            score: newScore(),
            proto: proto as number,
            scAddress: childScAddress(
              'worker',
              this.root,
              proxySc,
              p.worker_owner_address,
              this.opts.identity.publicKey,
            ),
            requests: new Map(),
            state: 'compare',
          };
          this.workers.set(id, link);
          this.log(`worker#${id} ${link.owner} serves ${link.modelSpec} ×${link.coefficient / 1000}`);
          return {
            _: 'worker.connectedToProxy',
            params: this.proxyParams(link.proto),
            worker_sc_address: link.scAddress,
          };
        },
        'worker.compareBalanceWithProxy': (q) => {
          if (!link) return fail('compare before connect');
          const acc = this.accounts.get('worker', link.owner, link.scAddress);
          link.state = 'ready';
          // A worker that knows more than this proxy has seen a newer state of it: tell it (error_code 1).
          const ahead = q.max_tokens > acc.tokens || q.tokens_committed_to_db > acc.committed;
          return {
            _: 'worker.compareBalanceWithProxyResult',
            signed_payment: this.accounts.payment(acc),
            tokens_committed_to_db: acc.committed,
            max_tokens: acc.tokens,
            error_code: ahead ? 1 : 0,
          };
        },
        'worker.extendedCompareBalanceWithProxy': () => ({
          _: 'worker.extendedCompareBalanceWithProxyResult',
          error_code: 1,
        }),
        'worker.proxyHandshakeComplete': (q) => {
          if (link?.state !== 'ready') return fail('handshake out of order');
          link.enabled = !q.is_disabled;
          return { _: 'worker.proxyHandshakeCompleted' };
        },
        'worker.updatePaymentStatus': () => {
          if (!link) return fail('not connected');
          const acc = this.accounts.get('worker', link.owner, link.scAddress);
          return {
            _: 'worker.paymentStatus',
            signed_payment: this.accounts.payment(acc),
            db_tokens: acc.committed,
            max_tokens: acc.tokens,
          };
        },
      }),
      onMessage: (data) => {
        if (link?.state !== 'ready') {
          conn.close(new ProtocolError('PROTOVIOLATION', 'message before the handshake'));
          return;
        }
        this.onWorkerMessage(link, data);
      },
    });
    this.track(conn);
    conn.on('close', (reason) => {
      if (!link) return;
      this.workers.delete(id);
      link.state = 'failed';
      this.log(`worker#${id} gone${reason ? `: ${reason.message}` : ''}`);
      for (const r of [...link.requests.values()]) {
        this.workerFailed(r, link, ANSWER_ERROR.failure, 'the worker disconnected', undefined);
      }
    });
  }

  private onWorkerMessage(w: WorkerLink, data: Uint8Array): void {
    const m = decodeMessage(w.conn, data);
    if (!m) return;
    switch (m._) {
      case 'proxy.queryAnswerEx':
      case 'proxy.queryAnswerPartEx':
      case 'proxy.queryAnswerErrorEx': {
        const r = w.requests.get(idHex(m.request_id));
        if (!r) return; // an answer to a request that already ended here (timed out, cut)
        if (m._ === 'proxy.queryAnswerErrorEx') {
          this.workerFailed(r, w, m.error_code, m.error, m.final_info);
        } else {
          this.relay(r, w, m);
        }
        return;
      }
      case 'ext.workerReceipt': {
        if (!w.ext) {
          w.conn.close(new ProtocolError('PROTOVIOLATION', 'a receipt from a worker without extensions'));
          return;
        }
        const r = w.requests.get(idHex(m.request_id));
        if (!r || r.done) return;
        // Countersigned with the charge once the answer ends; a receipt signed by another key is not kept.
        if (Buffer.from(m.body.worker_key).equals(Buffer.from(w.peer.publicKey))) {
          r.receipt = { body: m.body, signature: m.signature, certificate: w.peer.certDer };
        } else this.log(`worker#${w.id}: a receipt for another key, dropped`);
        return;
      }
      case 'ext.workerCertificate': {
        if (!w.ext) {
          w.conn.close(new ProtocolError('PROTOVIOLATION', 'a certificate from a worker without extensions'));
          return;
        }
        // Workers reissue hourly; each check may cost a DCAP verification, so more than one a minute is ignored.
        const at = Date.now();
        if (at - w.lastCertificate < 60_000) return;
        w.lastCertificate = at;
        // The same key and image as attested at connection, checked under the same policy; anything else ends it.
        this.workerVerifier.verifyCertificate(m.certificate).then(
          (peer: PeerAttestation) => {
            if (
              !Buffer.from(peer.publicKey).equals(Buffer.from(w.peer.publicKey)) ||
              peer.imageHash !== w.peer.imageHash
            ) {
              w.conn.close(new ProtocolError('NOT_ALLOWED', 'a new certificate for another key or image'));
              return;
            }
            w.peer = peer;
            w.sealable = peer.sealKey !== undefined;
          },
          (err: Error) =>
            w.conn.close(
              new ProtocolError('NOT_ALLOWED', `a new certificate that does not attest: ${err.message}`),
            ),
        );
        return;
      }
      case 'worker.enabledDisabled':
        w.enabled = m.disabled === 0;
        this.log(`worker#${w.id} ${w.enabled ? 'enabled' : 'disabled'}`);
        return;
      case 'worker.newCoefficient':
        if (!Number.isSafeInteger(m.new_coefficient) || m.new_coefficient < 0 || m.new_coefficient >= 1e9) {
          w.conn.close(new ProtocolError('PROTOVIOLATION', 'coefficient out of range'));
          return;
        }
        w.coefficient = m.new_coefficient;
        return;
      default:
        w.conn.close(new ProtocolError('PROTOVIOLATION', `unexpected message ${m._} from a worker`));
    }
  }

  // ── clients ────────────────────────────────────────────────────────────────────────────────────────────────

  private acceptClient(sock: TLSSocket, peer: PeerAttestation): void {
    if (this.closed) return void sock.destroy();
    const id = this.nextId++;
    this.stats.clientsAccepted++;
    let link: ClientLink | undefined;
    const fail = (msg: string): never => handshakeFailed(conn, msg);
    // With the chain, the secret hash is the one the client set on its contract (read afresh); without, the
    // configured one or the reference's fake-TON default.
    const secretHash = async (c: ClientLink): Promise<Uint8Array | undefined> => {
      if (this.settlement) {
        const st = c.scAddress ? await this.settlement.refresh(c.scAddress) : undefined;
        if (!st || st.secretHash === 0n) return undefined;
        return Buffer.from(st.secretHash.toString(16).padStart(64, '0'), 'hex');
      }
      return this.opts.clientSecretHash ? this.opts.clientSecretHash(c.owner) : EMPTY_SECRET_HASH;
    };
    const authorized = (c: ClientLink): TlTypes['client.AuthorizationWithProxy'] => {
      const acc = this.accounts.get('client', c.owner, c.scAddress);
      return {
        _: 'client.authorizationWithProxySuccess',
        signed_payment: this.accounts.payment(acc),
        tokens_committed_to_db: acc.committed,
        max_tokens: acc.tokens,
      };
    };
    const conn: Connection = new Connection(sock, {
      role: 'acceptor',
      name: `client#${id}`,
      onQuery: dispatchQueries({
        'client.connectToProxy': async (q) => {
          if (link) fail('handshake already done');
          const p = q.params;
          if (!(p.flags & 1)) fail('client params without flags bit 0');
          if (p.is_test !== this.root.params.isTest) fail('test and production nodes do not mix');
          if (q.min_config_version > this.root.version) fail('the client has a newer root config');
          const proto = negotiate(p.min_proto_version ?? 0, p.max_proto_version ?? 0);
          if (proto === undefined) fail('no common protocol version');
          const nonce = randomBytes(8).readBigInt64LE(0);
          link = {
            id,
            conn,
            peer,
            owner: p.client_owner_address,
            proto: proto as number,
            scAddress: childScAddress(
              'client',
              this.root,
              this.scAddress,
              p.client_owner_address,
              this.opts.identity.publicKey,
            ),
            nonce,
            authorized: false,
            requests: new Map(),
            ext: (p.flags & EXT_FLAG) !== 0,
            attestations: [],
          };
          this.clients.set(id, link);
          const hash = await secretHash(link);
          return {
            _: 'client.connectedToProxy',
            params: this.proxyParams(link.proto),
            client_sc_address: link.scAddress,
            auth: hash
              ? { _: 'client.proxyConnectionAuthShort', secret_hash: hash, nonce }
              : { _: 'client.proxyConnectionAuthLong', nonce },
            signed_payment: { _: 'proxy.signedPaymentEmpty' },
          };
        },
        'client.authorizeWithProxyShort': async (q) => {
          if (!link) return fail('authorise before connect');
          const hash = await secretHash(link);
          const given = createHash('sha256').update(q.data).digest();
          if (!hash || !given.equals(Buffer.from(hash))) {
            return { _: 'client.authorizationWithProxyFailed', error_code: 401, error: 'wrong secret' };
          }
          link.authorized = true;
          return authorized(link);
        },
        'client.authorizeWithProxyLong': () => {
          if (!link) return fail('authorise before connect');
          // Without a chain to watch for the register transaction (JSON root config) this succeeds, as the
          // reference's fake TON does.
          if (this.settlement) {
            return {
              _: 'client.authorizationWithProxyFailed',
              error_code: 401,
              error: 'set a secret hash on your client contract and authorise with the secret (short auth)',
            };
          }
          link.authorized = true;
          return authorized(link);
        },
        'client.getWorkerTypes': () => this.workerTypes(),
        'ext.getWorkers': (q) => {
          if (!link?.authorized) return fail('not authorised');
          return this.sealableWorkers(q.model.split('@')[0] as string);
        },
        'ext.getAttestation': async (q) => {
          if (!link?.authorized) return fail('not authorised');
          // Every one makes each worker produce a quote: at most five in any five seconds per client connection.
          const now = Date.now();
          link.attestations = link.attestations.filter((t) => now - t < 5000);
          if (link.attestations.length >= 5) {
            throw new ProtocolError(
              'RATE_LIMITED',
              'at most five attestations in five seconds per connection',
            );
          }
          link.attestations.push(now);
          return this.attestation(q.nonce, q.model.split('@')[0] as string);
        },
        'client.getWorkerTypesV2': () => this.workerTypesV2(),
        'client.updatePaymentStatus': () => {
          if (!link?.authorized) return fail('not authorised');
          const acc = this.accounts.get('client', link.owner, link.scAddress);
          return {
            _: 'client.paymentStatus',
            signed_payment: this.accounts.payment(acc),
            db_tokens: acc.committed,
            max_tokens: acc.tokens,
          };
        },
      }),
      onMessage: (data) => {
        if (!link?.authorized) {
          conn.close(new ProtocolError('PROTOVIOLATION', 'message before authorisation'));
          return;
        }
        const m = decodeMessage(conn, data);
        if (!m) return;
        if (m._ !== 'client.runQueryEx') {
          conn.close(new ProtocolError('PROTOVIOLATION', `unexpected message ${m._} from a client`));
          return;
        }
        this.onRunQuery(link, m);
      },
    });
    this.track(conn);
    conn.on('close', () => {
      this.clients.delete(id);
      // Requests keep running on their workers and are billed when they end: the work is done either way.
    });
  }

  private workerTypesV2(): TlTypes['client.WorkerTypesV2'] {
    const byModel = new Map<string, WorkerLink[]>();
    for (const w of this.workers.values()) {
      if (w.state !== 'ready' || !w.enabled) continue;
      byModel.set(w.model, [...(byModel.get(w.model) ?? []), w]);
    }
    return {
      _: 'client.workerTypesV2',
      types: [...byModel].map(([name, ws]) => ({
        _: 'client.workerTypeV2',
        name,
        workers: ws
          .sort((a, b) => a.coefficient - b.coefficient)
          .map((w) => ({
            _: 'client.workerInstanceV2',
            flags: 0,
            coefficient: w.coefficient,
            active_requests: w.running,
            max_active_requests: w.capacity,
          })),
      })),
    };
  }

  /**
   * Fresh evidence for an app's nonce: this proxy's, and that of each ready worker (of `model`, or all) that
   * answers within 5 s; a worker that does not is left out.
   */
  private async attestation(nonce: Uint8Array, model: string): Promise<TlTypes['ext.Attestation']> {
    if (nonce.length !== 32) throw new ProtocolError('PROTOVIOLATION', 'a nonce is 32 bytes');
    const workers = [...this.workers.values()].filter(
      (w) => w.state === 'ready' && w.ext && (!model || w.model === model),
    );
    const answers = await Promise.allSettled(
      workers.map((w) => call(w.conn, { _: 'ext.attest', nonce }, 5000)),
    );
    return {
      _: 'ext.attestation',
      proxy: await this.opts.identity.evidence(nonce),
      workers: answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : [])),
    };
  }

  /** The ready workers of a model that sealed requests can go to, with their certificates for the client. */
  private sealableWorkers(model: string): TlTypes['ext.Workers'] {
    return {
      _: 'ext.workers',
      workers: [...this.workers.values()]
        .filter((w) => w.state === 'ready' && w.enabled && w.sealable && w.model === model)
        .map((w) => ({
          _: 'ext.workerInfo',
          worker_key: w.peer.publicKey,
          model: w.modelSpec,
          coefficient: w.coefficient,
          active_requests: w.running,
          max_active_requests: w.capacity,
          certificate: w.peer.certDer,
        })),
    };
  }

  private workerTypes(): TlTypes['client.WorkerTypes'] {
    return {
      _: 'client.workerTypes',
      types: this.workerTypesV2().types.map((t) => {
        const coefs = t.workers.map((w) => w.coefficient);
        return {
          _: 'client.workerType',
          name: t.name,
          active_workers: t.workers.length,
          coefficient_min: coefs[0] ?? 0,
          coefficient_bucket50: coefs[Math.floor(coefs.length / 2)] ?? 0,
          coefficient_max: coefs[coefs.length - 1] ?? 0,
        };
      }),
    };
  }

  // ── requests ───────────────────────────────────────────────────────────────────────────────────────────────

  private reject(c: ClientLink, requestId: Uint8Array, code: number, error: string): false {
    this.stats.rejected++;
    this.metrics.ended('rejected', 0, 0n, code);
    this.logger.info(
      { request: shortId(idHex(requestId)), client: c.owner, outcome: 'rejected', cause: code, error },
      'request refused',
    );
    this.sendClient(c, {
      _: 'client.queryAnswerErrorEx',
      request_id: requestId,
      error_code: code,
      error,
      flags: 1,
      final_info: { _: 'client.queryFinalInfo', flags: 0, tokens_used: zeroTokens() },
    });
    return false;
  }

  /** How workers attest: at connection, and each certificate they reissue on it. */
  private readonly workerVerifier: AttestationVerifier;

  private sendClient(
    c: ClientLink,
    m: TlTypes['client.QueryAnswerEx'] | TlConstructors['ext.clientReceipt'],
  ): void {
    if (c.conn.isClosed) return;
    try {
      sendTl(c.conn, m);
    } catch (err) {
      c.conn.close(err instanceof CocoonError ? err : new ProtocolError('SEND_FAILED', String(err)));
    }
  }

  /** Starts a client's request; false when it was refused at once. */
  private onRunQuery(c: ClientLink, q: TlFunctions['client.runQueryEx']): boolean {
    this.stats.requests++;
    const key = idHex(q.request_id);
    if (q.request_id.length !== 32 || c.requests.has(key)) {
      return this.reject(c, q.request_id, ANSWER_ERROR.protoviolation, 'duplicate or malformed request id');
    }
    if (q.min_config_version > this.root.version) {
      return this.reject(c, q.request_id, ANSWER_ERROR.notready, 'the proxy has an older root config');
    }
    if (!(q.timeout > 0) || !Number.isFinite(q.timeout)) {
      return this.reject(c, q.request_id, ANSWER_ERROR.badRequest, 'timeout must be positive');
    }
    if (q.max_tokens < 0 || q.max_coefficient < 0) {
      return this.reject(c, q.request_id, ANSWER_ERROR.badRequest, 'negative max_tokens or max_coefficient');
    }
    const model = q.model_name.split('@')[0] as string;
    let sealedTo: Set<string> | undefined;
    if (isSealedQuery(q.query)) {
      // Sealed end to end: the proxy reads only the header, and routes among the workers it names.
      let h: ReturnType<typeof sealedQueryHeader>;
      try {
        h = sealedQueryHeader(q.query);
      } catch (err) {
        return this.reject(
          c,
          q.request_id,
          ANSWER_ERROR.badRequest,
          `bad sealed request: ${(err as Error).message}`,
        );
      }
      if (h.model.split('@')[0] !== model || h.maxTokens > q.max_tokens || h.maxTokens < 0) {
        return this.reject(
          c,
          q.request_id,
          ANSWER_ERROR.badRequest,
          'the sealed request names another model or more max_tokens than the query reserves',
        );
      }
      sealedTo = new Set(h.workerKeys);
    }
    const price = this.root.params.pricePerToken;
    const acc = this.accounts.get('client', c.owner, c.scAddress);
    let funds = this.opts.clientFunds?.(c.owner) ?? { balance: FAKE_FUNDS, stake: FAKE_FUNDS };
    let charged = 0n;
    if (this.settlement) {
      // What the client contract holds, as last read (refreshed every few seconds and after each charge).
      const st = this.settlement.clients.get(c.scAddress);
      if (st?.state !== 0) {
        return this.reject(
          c,
          q.request_id,
          ANSWER_ERROR.insufficientFunds,
          st ? 'the client contract is closing or closed' : 'the client contract is not deployed',
        );
      }
      funds = { balance: st.balance, stake: st.stake };
      charged = st.tokensUsed;
    }
    // The reservation covers the answer and the prompt (its bytes bound its tokens), at the worst coefficient.
    const reserved = reservationFor(q.max_tokens + q.query.length, q.max_coefficient);
    const available = tokensAvailable({
      balance: funds.balance,
      stake: funds.stake,
      chargedTokens: charged,
      reserved: acc.reserved,
      usedTokens: acc.tokens,
      pricePerToken: price,
    });
    if (reserved > available) {
      return this.reject(
        c,
        q.request_id,
        ANSWER_ERROR.insufficientFunds,
        `insufficient funds: the request may cost ${reserved} tokens (${reserved * price} nanoTON), ${available} available` +
          (this.settlement
            ? `; the client contract holds ${formatTon(funds.balance)} TON with a stake of ${formatTon(funds.stake)} TON: run \`cocoon client topup\`, or ask for fewer max_tokens or a lower max_coefficient`
            : '; ask for fewer max_tokens or a lower max_coefficient'),
      );
    }
    const r: ProxyRequest = {
      client: c,
      clientRequestId: q.request_id,
      key,
      query: q,
      model,
      reserved,
      startedAt: now(),
      deadline: Date.now() + q.timeout * 1000,
      worker: undefined,
      workerRequestId: new Uint8Array(0),
      workerKey: '',
      tried: new Set(),
      attempts: 0,
      headSent: false,
      bytes: 0,
      timer: undefined,
      done: false,
    };
    if (sealedTo) r.sealedTo = sealedTo;
    if (!this.dispatch(r, true)) return false;
    acc.reserved += reserved;
    c.requests.set(key, r);
    r.timer = setTimeout(() => this.timeout(r), Math.max(1, r.deadline - Date.now()));
    r.timer.unref();
    return true;
  }

  /** Sends a request to a worker; false (and the client answered) when none can take it. */
  private dispatch(r: ProxyRequest, first: boolean): boolean {
    const sealedTo = r.sealedTo;
    const candidates = [...this.workers.values()].filter(
      (w) => w.state === 'ready' && w.model === r.model && (!sealedTo || (w.sealable && sealedTo.has(w.key))),
    );
    const res = pick(candidates, r.query.max_coefficient, r.tried);
    if (!('worker' in res)) {
      let [code, msg] =
        res.none === 'no_model'
          ? Date.now() - this.startedAt < (this.opts.warmupMs ?? WARMUP_MS)
            ? // Just started: its workers may not have reconnected yet, so the model may well exist.
              [ANSWER_ERROR.notready, `no worker for ${r.model} has connected to this proxy yet`]
            : [ANSWER_ERROR.unknownModel, `no worker serves model ${r.model}`]
          : res.none === 'no_worker'
            ? [ANSWER_ERROR.notready, `no worker for ${r.model} is available`]
            : res.none === 'busy'
              ? [ANSWER_ERROR.overloaded, `every worker for ${r.model} is busy`]
              : [
                  ANSWER_ERROR.badRequest,
                  `no worker for ${r.model} at max_coefficient ${r.query.max_coefficient}: can run this query with coefficient=${res.minCoefficient}`,
                ];
      if (sealedTo && res.none !== 'too_expensive') {
        // Only the workers it is sealed to can open it; the client lists the workers again and reseals.
        code = res.none === 'busy' ? ANSWER_ERROR.overloaded : ANSWER_ERROR.notready;
        msg = `none of the ${sealedTo.size} workers this request is sealed to can take it now (${res.none === 'busy' ? 'busy' : 'gone'})`;
      }
      if (first) this.reject(r.client, r.clientRequestId, code, msg);
      else this.finish(r, code, msg, undefined);
      return false;
    }
    const w = res.worker;
    r.worker = w;
    r.tried.add(w.id);
    r.attempts++;
    r.workerRequestId = randomBytes(32);
    r.workerKey = idHex(r.workerRequestId);
    w.requests.set(r.workerKey, r);
    w.running++;
    const left = Math.max(0.001, (r.deadline - Date.now()) / 1000);
    try {
      sendTl(w.conn, {
        _: 'proxy.runQueryEx',
        query: r.query.query,
        signed_payment: { _: 'proxy.signedPaymentEmpty' },
        coefficient: BigInt(w.coefficient),
        timeout: left * 0.95,
        request_id: r.workerRequestId,
        flags: r.query.enable_debug ? 1 : 0,
        ...(r.query.enable_debug ? { enable_debug: true } : {}),
      });
    } catch (err) {
      w.requests.delete(r.workerKey);
      w.running--;
      w.conn.close(err instanceof CocoonError ? err : new ProtocolError('SEND_FAILED', String(err)));
      return this.dispatch(r, first);
    }
    return true;
  }

  private clientFinal(r: ProxyRequest, f: WorkerFinal | undefined, debug?: string): ClientFinal {
    const out: ClientFinal = {
      _: 'client.queryFinalInfo',
      flags: 2,
      tokens_used: f ? { ...f.tokens_used, _: 'tokensUsed' } : zeroTokens(),
      proxy_start_time: r.startedAt,
      proxy_end_time: now(),
      worker_start_time: f?.worker_start_time ?? 0,
      worker_end_time: f?.worker_end_time ?? 0,
    };
    if (r.query.enable_debug) {
      out.flags |= 1;
      out.worker_debug = f?.worker_debug ?? '';
      out.proxy_debug = debug ?? JSON.stringify({ attempts: r.attempts, worker: r.worker?.id });
    }
    return out;
  }

  private relay(
    r: ProxyRequest,
    w: WorkerLink,
    m: TlConstructors['proxy.queryAnswerEx'] | TlConstructors['proxy.queryAnswerPartEx'],
  ): void {
    const complete = (m.flags & 1) !== 0;
    if (m._ === 'proxy.queryAnswerEx') {
      if (r.headSent) {
        w.conn.close(new ProtocolError('PROTOVIOLATION', 'a second answer head'));
        return;
      }
      let answer: Uint8Array;
      if (r.sealedTo) {
        // Sealed: relayed as it came. The client opens it; the proxy bills from the final info alone.
        answer = complete ? Uint8Array.from(m.answer) : m.answer;
        r.bytes += m.answer.length;
      } else {
        let head: TlConstructors['http.response'];
        try {
          const h = decodeTl(m.answer);
          if (h._ !== 'http.response')
            throw new ProtocolError('PROTOVIOLATION', 'answer is not an http.response');
          head = h;
        } catch (err) {
          this.workerFailed(r, w, ANSWER_ERROR.protoviolation, `bad answer head: ${String(err)}`, undefined);
          return;
        }
        head.headers = [
          ...head.headers.filter((h) => !/^x-cocoon-proxy-/i.test(h.name)),
          { _: 'http.header', name: 'X-Cocoon-Proxy-Start', value: r.startedAt.toFixed(6) },
        ];
        r.bytes += head.payload.length;
        answer = encodeTl(head);
      }
      r.headSent = true;
      if (complete) {
        this.settle(r, m.final_info, true, (final_info) => ({
          _: 'client.queryAnswerEx',
          request_id: r.clientRequestId,
          answer,
          flags: 1,
          final_info,
        }));
        return;
      }
      this.sendClient(r.client, {
        _: 'client.queryAnswerEx',
        request_id: r.clientRequestId,
        answer,
        flags: 0,
      });
    } else {
      if (!r.headSent) {
        w.conn.close(new ProtocolError('PROTOVIOLATION', 'an answer part before its head'));
        return;
      }
      r.bytes += m.answer.length;
      this.stats.bytesRelayed += m.answer.length;
      const answer = m.answer;
      if (complete) {
        // The last part reaches the client only once what it bills is committed: a client never holds a billed
        // amount the proxy could lose in a crash.
        this.settle(r, m.final_info, true, (final_info) => ({
          _: 'client.queryAnswerPartEx',
          request_id: r.clientRequestId,
          answer: Uint8Array.from(answer),
          flags: 1,
          final_info,
        }));
        return;
      }
      this.sendClient(r.client, {
        _: 'client.queryAnswerPartEx',
        request_id: r.clientRequestId,
        answer,
        flags: 0,
      });
    }
    const limit = this.opts.maxClientBuffer ?? 16 * 1024 * 1024;
    if (r.client.conn.bufferedBytes > limit) {
      this.stats.cut++;
      this.finish(r, ANSWER_ERROR.overloaded, 'the client does not read its answers', undefined);
      r.client.conn.close(new ProtocolError('SLOW_CLIENT', `more than ${limit} bytes wait for the client`));
    }
  }

  /** A worker failed a request (an error answer or its connection went away). */
  private workerFailed(
    r: ProxyRequest,
    w: WorkerLink,
    code: number,
    error: string,
    f: WorkerFinal | undefined,
  ): void {
    if (r.done || r.worker !== w) return;
    w.requests.delete(r.workerKey);
    w.running--;
    recordOutcome(w.score, false, 0);
    if (this.closed) {
      this.finish(r, ANSWER_ERROR.failure, 'the proxy is stopping', f);
      return;
    }
    const retryable =
      !r.headSent &&
      (f?.tokens_used.total_tokens_used ?? 0n) === 0n &&
      code !== ANSWER_ERROR.badRequest &&
      code !== ANSWER_ERROR.timeout &&
      r.attempts < (this.opts.maxAttempts ?? 3) &&
      r.deadline - Date.now() > 1000;
    if (retryable) {
      this.stats.retries++;
      this.retries.inc();
      this.log(`request ${r.key.slice(0, 8)} failed on worker#${w.id} (${error}); retrying`);
      r.worker = undefined;
      if (this.dispatch(r, false)) return;
      return;
    }
    this.finish(r, code, error, f);
  }

  private timeout(r: ProxyRequest): void {
    if (r.done) return;
    const w = r.worker;
    if (w) {
      w.requests.delete(r.workerKey);
      w.running--;
      recordOutcome(w.score, false, 0);
    }
    this.finish(r, ANSWER_ERROR.timeout, 'timeout in proxy', undefined);
  }

  /** Ends a request with an error to the client; bills what the worker's final info reported. */
  private finish(r: ProxyRequest, code: number, error: string, f: WorkerFinal | undefined): void {
    this.settle(
      r,
      f,
      false,
      (final_info) => ({
        _: 'client.queryAnswerErrorEx',
        request_id: r.clientRequestId,
        error_code: code,
        error,
        flags: 1,
        final_info,
      }),
      code,
    );
  }

  /**
   * Ends a request: releases the reservation, bills the tokens, records the outcome; once the books are
   * committed, sends the client its last message (built with the billed final info) and both payment messages.
   */
  private settle(
    r: ProxyRequest,
    f: WorkerFinal | undefined,
    ok: boolean,
    last: (final: ClientFinal) => TlTypes['client.QueryAnswerEx'],
    cause?: number,
  ): void {
    if (r.done) return;
    r.done = true;
    clearTimeout(r.timer);
    r.client.requests.delete(r.key);
    const w = r.worker;
    if (w && w.requests.get(r.workerKey) === r) {
      w.requests.delete(r.workerKey);
      w.running--;
      recordOutcome(w.score, ok, (now() - r.startedAt) * 1000);
    }
    const acc = this.accounts.get('client', r.client.owner, r.client.scAddress);
    acc.reserved -= r.reserved;
    let tokens = f?.tokens_used.total_tokens_used ?? 0n;
    if (tokens > r.reserved) {
      // The worker reported more than the client reserved: the client never pays beyond its reservation.
      this.log(
        `request ${r.key.slice(0, 8)}: worker reported ${tokens} tokens over a ${r.reserved} reservation`,
      );
      this.stats.cut++;
      tokens = r.reserved;
    }
    if (ok) this.stats.success++;
    else this.stats.failed++;
    this.metrics.ended(
      ok ? 'success' : 'failed',
      now() - r.startedAt,
      tokens,
      ok ? undefined : (cause ?? 'failure'),
    );
    this.logger.info(
      {
        request: shortId(r.key),
        worker_request: r.workerKey ? shortId(r.workerKey) : null,
        client: r.client.owner,
        worker: w?.owner ?? null,
        model: r.model,
        outcome: ok ? 'success' : 'failed',
        ...(ok ? {} : { cause: cause ?? 'failure' }),
        tokens: Number(tokens),
        attempts: r.attempts,
        ms: Math.round((now() - r.startedAt) * 1000),
      },
      'request ended',
    );
    this.stats.tokens += tokens;
    this.accounts.add(acc, tokens);
    const wa = w ? this.accounts.get('worker', w.owner, w.scAddress) : undefined;
    if (wa) this.accounts.add(wa, tokens);
    const final = this.clientFinal(r, f);
    if (tokens !== final.tokens_used.total_tokens_used)
      final.tokens_used = { ...final.tokens_used, total_tokens_used: tokens };
    // The last answer and the payment messages go out once the new amounts are committed (signed over them).
    const price = this.root.params.pricePerToken;
    this.accounts.flush().then(
      () => {
        if (ok && r.receipt && r.client.ext) {
          const receipt = countersign(
            r.receipt,
            {
              client_sc_address: r.client.scAddress,
              charged_tokens: tokens,
              charged_nanoton: tokens * price,
              client_total_tokens: acc.tokens,
            },
            this.opts.identity,
          );
          this.sendClient(r.client, { _: 'ext.clientReceipt', request_id: r.clientRequestId, receipt });
        }
        this.sendClient(r.client, last(final));
        if (w && wa && !w.conn.isClosed) {
          this.trySend(w.conn, {
            _: 'proxy.workerRequestPayment',
            request_id: r.workerRequestId,
            signed_payment: this.accounts.payment(wa),
            db_tokens: wa.committed,
            max_tokens: wa.tokens,
            request_tokens: tokens,
            request_client_owner: r.client.owner,
          });
        }
        if (!r.client.conn.isClosed) {
          this.trySend(r.client.conn, {
            _: 'proxy.clientRequestPayment',
            request_id: r.clientRequestId,
            signed_payment: this.accounts.payment(acc),
            db_tokens: acc.committed,
            max_tokens: acc.tokens,
            request_tokens: tokens,
          });
        }
      },
      (err: unknown) => this.storeFailed(err),
    );
  }

  private trySend(conn: Connection, m: Parameters<typeof sendTl>[1]): void {
    try {
      sendTl(conn, m);
    } catch {
      // the peer is going away; it asks for its payment status when it is back
    }
  }

  /** The store failed: nothing more may be served, since what is served could not be accounted for. */
  private storeFailed(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.opts.log?.(`proxy: the store failed, stopping: ${e.message}`);
    this.logger.error({ err: e.message }, 'the store failed, stopping');
    void this.close().finally(() => this.resolveFailed(e));
  }

  private resolveFailed: (err: Error) => void = () => {};
  /** Settles when the proxy stopped by itself (its store failed), with why; a runner exits on it. */
  readonly failed = new Promise<Error>((resolve) => {
    this.resolveFailed = resolve;
  });

  private onRootUpdate(cfg: RootConfig): void {
    if (this.opts.checkWorkerHashes === false) return;
    for (const w of this.workers.values()) {
      const modelHash = createHash('sha256').update(w.modelSpec).digest('hex');
      if (!cfg.workerHashes.includes(w.peer.imageHash) || !cfg.modelHashes.includes(modelHash)) {
        w.conn.close(new ProtocolError('NOT_ALLOWED', 'the root no longer allows this worker'));
      }
    }
  }

  /** Everything /jsonstats shows. */
  jsonStats(): Record<string, unknown> {
    const root = this.root;
    return {
      status: {
        uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
        public_key: Buffer.from(this.opts.identity.publicKey).toString('hex'),
        owner_address: this.opts.ownerAddress,
        sc_address: this.scAddress,
        ports: this.ports,
        root_version: root.version,
        root_source: root.source,
      },
      stats: { ...this.stats },
      chain: this.settlement
        ? { charges: this.settlement.charges, clients: Object.fromEntries(this.settlement.clients) }
        : null,
      root_contract_config: {
        version: root.version,
        price_per_token: root.params.pricePerToken,
        worker_fee_per_token: root.params.workerFeePerToken,
        proxies: root.proxies.map((p) => p.address),
        worker_hashes: root.workerHashes,
        proxy_hashes: root.proxyHashes,
        model_hashes: root.modelHashes,
      },
      accounts_seqno: this.accounts.seqno,
      workers: this.accounts.all('worker').map(({ reserved: _, ...a }) => a),
      worker_connections: [...this.workers.values()].map((w) => ({
        id: w.id,
        owner: w.owner,
        model: w.modelSpec,
        coefficient: w.coefficient,
        enabled: w.enabled,
        state: w.state,
        running: w.running,
        capacity: w.capacity,
        queries: w.score.queries,
        failures: w.score.failures,
        success_rate: Number(w.score.successRate.toFixed(3)),
        mean_ms: w.score.meanMs === undefined ? null : Number(w.score.meanMs.toFixed(1)),
        image_hash: w.peer.imageHash,
        attestation: w.peer.quoteKind,
        policy: w.peer.policy,
        mr_td: w.peer.mrTd ?? null,
        tcb_status: w.peer.status ?? null,
        attested_until: w.peer.expiresAt.toISOString(),
      })),
      clients: this.accounts.all('client'),
      client_connections: [...this.clients.values()].map((c) => ({
        id: c.id,
        owner: c.owner,
        authorized: c.authorized,
        running: c.requests.size,
      })),
    };
  }
}
