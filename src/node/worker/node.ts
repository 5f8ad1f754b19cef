// The worker runner (cocoon-reference.md §4.2, §6.2): holds connections to proxies from the root config, runs
// the worker handshake on each, serves `proxy.runQueryEx` on its engine, watches the engine's health (and
// disables itself at every proxy while it is down), and can be disabled, enabled or re-priced while running.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address, Cell, toNano } from '@ton/core';
import { withRetry } from '../../chain/client.ts';
import { repackExcesses } from '../../chain/signed.ts';
import { WorkerContract } from '../../chain/worker.ts';
import { ProtocolError } from '../../errors.ts';
import type { Connection } from '../../net/connection.ts';
import type { InferenceEngine } from '../../openai/engine.ts';
import type { AdjustedTokens } from '../../pricing/tokens.ts';
import { certificateImage, signReceiptBody } from '../../receipt/receipt.ts';
import { x25519PrivateKeyObject } from '../../seal/hpke.ts';
import type { Store } from '../../store/store.ts';
import type { AttestationPolicy, PeerAttestation } from '../../tee/policy.ts';
import { childScAddress } from '../addresses.ts';
import type { ChainAgent } from '../chain-agent.ts';
import { serveDashboard } from '../dashboard.ts';
import { hasToken, requestUrl, sendJson, serveMetrics, serveStats } from '../http-util.ts';
import { type NodeIdentity, verifierFor } from '../identity.ts';
import { type Logger, shortId, silentLogger } from '../log.ts';
import { NodeMetrics } from '../metrics.ts';
import { type HeldPayment, PaymentTracker } from '../payments.ts';
import { checkProxyParams, ProxyLinks, type ProxySession } from '../proxy-link.ts';
import type { RootWatcher } from '../root-config.ts';
import { call, decodeMessage, dispatchQueries, EXT_FLAG, PROTO_MAX, PROTO_MIN, sendTl } from '../rpc.ts';
import { WorkerQueries } from './query.ts';

export interface WorkerNodeOptions {
  root: RootWatcher;
  identity: NodeIdentity;
  engine: InferenceEngine;
  /** `NAME@COMMIT:HASH`, or just the name the engine serves. */
  model: string;
  /** TON address earnings go to. */
  ownerAddress: string;
  /** Price multiplier ×1000 (1000 = 1.0×). */
  coefficient?: number;
  /** Requests at once across all proxies (default 200, as the reference). */
  maxActiveRequests?: number;
  /** Distinct proxies to hold (default 1). */
  proxyConnections?: number;
  /** How proxies must attest (default `tdx`). */
  proxyPolicy?: AttestationPolicy['kind'] | AttestationPolicy;
  checkProxyHashes?: boolean;
  maxPowDifficulty?: number;
  /** Engine health check period (default 2 s); 0 disables the monitor. */
  healthIntervalMs?: number;
  host?: string;
  /** Port of /stats, /jsonstats and /request/*; undefined: none. */
  statsPort?: number;
  accessToken?: string;
  /** Where the newest signed payout of each proxy is kept (to cash out even if the proxy disappears). */
  store?: Store;
  /**
   * The chain: the worker deploys its contract with each proxy and cashes out its signed payouts once they are
   * worth `payoutThreshold` nanoTON more than what it was paid already (default 1 TON).
   */
  chain?: ChainAgent;
  payoutThreshold?: bigint;
  log?: (line: string) => void;
  /** Structured logs (one JSON line per event; requests with their ids). */
  logger?: Logger;
}

interface WorkerSession extends ProxySession {
  proxyScAddress: string;
  workerScAddress: string;
  /** Tokens this proxy reported as earned by this worker (never allowed to go down). */
  earned: bigint;
  /** The newest signed payout from this proxy for this worker's contract. */
  payments: PaymentTracker;
  running: Map<string, AbortController>;
  /** The proxy speaks cocoon_ext.tl: answers go with signed receipts. */
  ext: boolean;
}

/**
 * The image this worker's own quote attests (the same in every certificate it issues); zeros when its quote does
 * not parse, and then its receipts do not verify, which says what is wrong.
 */
function ownImage(identity: NodeIdentity): Uint8Array {
  try {
    return Buffer.from(certificateImage(identity.holder.identity.certDer, new Date()).image, 'hex');
  } catch {
    return new Uint8Array(32);
  }
}

export class WorkerNode {
  readonly stats = { requests: 0, success: 0, failed: 0, tokens: 0n, bytes: 0 };
  private readonly queries: WorkerQueries;
  private readonly links: ProxyLinks<WorkerSession>;
  private enabledByOwner = true;
  private healthy = true;
  /** When an answer last completed (performance.now()). */
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private healthError: string | undefined;
  private coef: number;
  private healthTimer: NodeJS.Timeout | undefined;
  private http: Server | undefined;
  /** Committed earned tokens per proxy contract (or proxy address), as last reported. */
  private readonly committedByProxy = new Map<string, bigint>();
  statsPort = 0;

  constructor(private readonly opts: WorkerNodeOptions) {
    this.coef = opts.coefficient ?? 1000;
    const root = opts.root.current;
    this.queries = new WorkerQueries({
      engine: opts.engine,
      model: opts.model,
      multipliers: {
        prompt: root.params.promptTokensPriceMultiplier,
        cached: root.params.cachedTokensPriceMultiplier,
        completion: root.params.completionTokensPriceMultiplier,
        reasoning: root.params.reasoningTokensPriceMultiplier,
      },
      maxActiveRequests: opts.maxActiveRequests ?? 200,
      seal: {
        workerKey: opts.identity.publicKey,
        sealPrivateKey: x25519PrivateKeyObject(opts.identity.seal.privateKey),
      },
      receipt: {
        workerKey: opts.identity.publicKey,
        imageHash: ownImage(opts.identity),
        sign: (body) => signReceiptBody(body, opts.identity.privateKey),
        pricePerToken: () => opts.root.current.params.pricePerToken,
        configVersion: () => opts.root.current.version,
      },
    });
    const linkOpts: ConstructorParameters<typeof ProxyLinks<WorkerSession>>[0] = {
      root: opts.root,
      side: 'workers',
      count: opts.proxyConnections ?? 1,
      identity: opts.identity,
      verifier: verifierFor(opts.proxyPolicy ?? 'tdx'),
      checkHashes: opts.checkProxyHashes !== false,
      handshake: (conn, peer, address) => this.handshake(conn, peer, address),
      // An app's nonce, through the client and the proxy: fresh evidence of this worker.
      onQuery: dispatchQueries({
        'ext.attest': (q) => opts.identity.evidence(q.nonce),
      }),
      log: (l) => this.log(l),
    };
    if (opts.maxPowDifficulty !== undefined) linkOpts.maxPowDifficulty = opts.maxPowDifficulty;
    this.links = new ProxyLinks(linkOpts);
    // Certificates are reissued hourly: proxies that list this worker to clients get each new one.
    opts.identity.holder.onChange((id) => {
      for (const s of this.proxies) {
        if (!s.ext || s.conn.isClosed) continue;
        try {
          sendTl(s.conn, { _: 'ext.workerCertificate', certificate: id.certDer });
        } catch {
          // the connection is going away; a new one starts with the new certificate
        }
      }
    });
    this.initMetrics();
  }

  private log(line: string): void {
    this.opts.log?.(`worker: ${line}`);
    (this.opts.logger ?? silentLogger).info(line);
  }

  get enabled(): boolean {
    return this.enabledByOwner && this.healthy;
  }

  get coefficient(): number {
    return this.coef;
  }

  /** Ready proxy sessions. */
  get proxies(): WorkerSession[] {
    return this.links.sessions();
  }

  waitReady(timeoutMs = 30_000): Promise<WorkerSession> {
    return this.links.waitReady(timeoutMs);
  }

  async start(): Promise<void> {
    // Signed payouts kept from earlier runs can be cashed out even if their proxy never comes back.
    for (const { value } of this.opts.store?.list<{ boc: string; tokens: bigint; queryId: bigint }>(
      'payment:',
    ) ?? []) {
      try {
        const body = Cell.fromBoc(Buffer.from(value.boc, 'base64'))[0] as Cell;
        const payload = body.beginParse().loadRef().beginParse();
        payload.loadUint(32);
        payload.loadUintBig(64);
        payload.loadUintBig(64);
        const sc = payload.loadAddress().toString();
        this.held.set(sc, {
          latest: { tokens: value.tokens, queryId: value.queryId, boc: Buffer.from(value.boc, 'base64') },
        });
      } catch {
        // not a payout this worker can use
      }
    }
    const h = await this.opts.engine.health();
    this.healthy = h.ok;
    this.healthError = h.error;
    this.links.start();
    const every = this.opts.healthIntervalMs ?? 2000;
    if (every > 0) {
      this.healthTimer = setInterval(() => void this.checkHealth(), every);
      this.healthTimer.unref();
    }
    if (this.opts.statsPort !== undefined) await this.serveHttp(this.opts.statsPort);
    if (this.opts.chain) {
      this.payoutTimer = setInterval(() => {
        for (const [sc, payments] of this.held) {
          this.cashOut({ workerScAddress: sc, payments }).catch((e: Error) =>
            this.log(`payout: ${e.message}`),
          );
        }
      }, 5000);
      this.payoutTimer.unref();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.healthTimer);
    clearInterval(this.payoutTimer);
    this.links.close();
    if (this.http) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http?.close(() => r()));
    }
  }

  /** Disables or enables this worker at every proxy (running requests finish). */
  setEnabled(enabled: boolean): void {
    const before = this.enabled;
    this.enabledByOwner = enabled;
    if (before !== this.enabled) this.announceEnabled();
  }

  /** Changes the price coefficient (×1000) at every proxy; new requests are billed with it. */
  setCoefficient(coefficient: number): void {
    if (!Number.isSafeInteger(coefficient) || coefficient < 0 || coefficient >= 1e9) {
      throw new RangeError('coefficient must be an integer in [0, 1e9) (×1000)');
    }
    this.coef = coefficient;
    for (const s of this.proxies)
      this.trySend(s, { _: 'worker.newCoefficient', new_coefficient: coefficient });
  }

  private trySend(s: WorkerSession, m: Parameters<typeof sendTl>[1]): void {
    try {
      sendTl(s.conn, m);
    } catch {
      // the connection is going away; the next handshake carries the current state
    }
  }

  private announceEnabled(): void {
    for (const s of this.proxies) {
      this.trySend(s, { _: 'worker.enabledDisabled', disabled: this.enabled ? 0 : 1 });
    }
  }

  private async checkHealth(): Promise<void> {
    const started = performance.now();
    let h: { ok: boolean; error?: string | undefined } = await this.opts.engine
      .health()
      .catch((err: unknown) => ({
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      }));
    // A check that failed while answers kept completing (one within three check periods) is the engine being busy,
    // not down: under full load its health endpoint can miss its deadline. The worker stays in routing; an engine
    // failing its answers leaves.
    if (!h.ok && this.lastAnswerAt >= started - 3 * (this.opts.healthIntervalMs ?? 2000)) h = { ok: true };
    this.healthError = h.error;
    if (h.ok === this.healthy) return;
    const before = this.enabled;
    this.healthy = h.ok;
    this.log(h.ok ? 'engine healthy again' : `engine unhealthy: ${h.error ?? '?'}`);
    if (before !== this.enabled) this.announceEnabled();
  }

  private async handshake(conn: Connection, peer: PeerAttestation, address: string): Promise<WorkerSession> {
    const root = this.opts.root.current;
    const sentCoefficient = this.coef;
    const r = await call(conn, {
      _: 'worker.connectToProxy',
      params: {
        _: 'worker.params',
        flags: 3 | EXT_FLAG,
        worker_owner_address: this.opts.ownerAddress,
        model: this.opts.model,
        coefficient: sentCoefficient,
        is_test: root.params.isTest,
        proxy_cnt: this.opts.proxyConnections ?? 1,
        max_active_requests: this.opts.maxActiveRequests ?? 200,
        min_proto_version: PROTO_MIN,
        max_proto_version: PROTO_MAX,
      },
    });
    const p = r.params;
    // Both contract addresses are derived here and must match what the proxy says (when derivable).
    const proxySc = checkProxyParams(p, peer, root);
    const workerSc = childScAddress('worker', root, proxySc, this.opts.ownerAddress, p.proxy_public_key);
    if (workerSc && this.opts.chain) {
      this.deployers.set(workerSc, {
        owner: this.opts.chain.address,
        proxy: Address.parse(proxySc),
        proxyPublicKey: Buffer.from(p.proxy_public_key),
        params: root.params,
      });
    }
    if (workerSc !== r.worker_sc_address) {
      throw new ProtocolError(
        'HANDSHAKE_FAILED',
        `worker contract ${r.worker_sc_address}, expected ${workerSc}`,
      );
    }
    const key = proxySc || address;
    const payments = new PaymentTracker({
      kind: 'worker',
      proxyPublicKey: p.proxy_public_key,
      contract: workerSc,
      key: `payment:${key}:${workerSc}`,
      ...(this.opts.store ? { store: this.opts.store } : {}),
    });
    // What this proxy committed for this worker before: its store may never report less (rollback or clone).
    const known = this.committedByProxy.get(key) ?? payments.tokens;
    const cmp = await call(conn, {
      _: 'worker.compareBalanceWithProxy',
      tokens_committed_to_blockchain: 0n,
      tokens_committed_to_db: known,
      max_tokens: known,
    });
    if (cmp.tokens_committed_to_db < known) {
      throw new ProtocolError(
        'ROLLBACK_DETECTED',
        `the proxy reports ${cmp.tokens_committed_to_db} committed tokens for this worker, it reported ${known} before`,
      );
    }
    await payments.accept(cmp.signed_payment);
    if (workerSc) this.held.set(workerSc, payments);
    this.committedByProxy.set(key, cmp.tokens_committed_to_db);
    const session: WorkerSession = {
      conn,
      address,
      peer,
      proxyScAddress: proxySc,
      workerScAddress: workerSc,
      earned: cmp.max_tokens,
      payments,
      running: new Map(),
      ext: (p.flags & EXT_FLAG) !== 0,
      onMessage: (data) => this.onMessage(session, data),
    };
    if (this.opts.chain && workerSc) await this.ensureContract(workerSc);
    await call(conn, { _: 'worker.proxyHandshakeComplete', is_disabled: !this.enabled });
    // The coefficient may have changed while the handshake ran.
    if (this.coef !== sentCoefficient) {
      this.trySend(session, { _: 'worker.newCoefficient', new_coefficient: this.coef });
    }
    conn.once('close', () => {
      for (const a of session.running.values()) a.abort();
    });
    return session;
  }

  payouts = 0;
  private payoutTimer: NodeJS.Timeout | undefined;
  private readonly payingOut = new Set<string>();

  /** Deploys this worker's contract with a proxy unless it exists (its address was checked in the handshake). */
  private async ensureContract(sc: string): Promise<void> {
    const chain = this.opts.chain as ChainAgent;
    const addr = Address.parse(sc);
    if (await chain.isDeployed(addr)) return;
    const root = this.opts.root.current;
    const code = root.params.workerScCode;
    if (!code) throw new ProtocolError('HANDSHAKE_FAILED', 'no worker contract code in the root');
    const deployed = this.deployers.get(sc);
    if (!deployed) throw new ProtocolError('HANDSHAKE_FAILED', 'cannot derive the worker contract');
    const c = chain.open(WorkerContract.createFromConfig(deployed, code));
    if (!c.address.equals(addr))
      throw new ProtocolError('HANDSHAKE_FAILED', "the worker contract is not this worker's");
    await chain.send('deploying the worker contract', (sender) => c.sendDeploy(sender));
  }

  /** The newest signed payout of every worker contract this worker has had (a vanished proxy's included). */
  readonly held = new Map<string, { latest: HeldPayment | undefined }>();

  /** Tokens each worker contract has paid out, as last read. */
  readonly paidOnChain = new Map<string, bigint>();

  private readonly deployers = new Map<string, Parameters<typeof WorkerContract.createFromConfig>[0]>();

  /** Submits the newest signed payout of a proxy when it is worth the threshold more than what was paid. */
  async cashOut(
    s: { workerScAddress: string; payments: { latest: HeldPayment | undefined } },
    force = false,
  ): Promise<boolean> {
    const chain = this.opts.chain;
    const held = s.payments.latest;
    if (!chain || !held || !s.workerScAddress || this.payingOut.has(s.workerScAddress)) return false;
    const c = chain.open(WorkerContract.createFromAddress(Address.parse(s.workerScAddress)));
    const paid = (await withRetry(() => c.getWorkerData())).tokens;
    this.paidOnChain.set(s.workerScAddress, paid);
    const fee = this.opts.root.current.params.workerFeePerToken;
    if (held.tokens <= paid) return false;
    if (!force && (held.tokens - paid) * fee < (this.opts.payoutThreshold ?? toNano('1'))) return false;
    this.payingOut.add(s.workerScAddress);
    try {
      // The excess comes back to this worker's wallet, not the proxy's: outside the signature, so repacked.
      const body = repackExcesses(Cell.fromBoc(Buffer.from(held.boc))[0] as Cell, chain.address);
      await chain.send(`cashing out ${held.tokens - paid} tokens from ${s.workerScAddress}`, (sender) =>
        c.sendSigned(sender, body, toNano('0.5')),
      );
      this.payouts++;
      this.paidOnChain.set(s.workerScAddress, (await c.getWorkerData()).tokens);
      return true;
    } finally {
      this.payingOut.delete(s.workerScAddress);
    }
  }

  private onMessage(s: WorkerSession, data: Uint8Array): void {
    const m = decodeMessage(s.conn, data);
    if (!m) return;
    if (m._ === 'proxy.runQueryEx') {
      void this.serve(s, m);
    } else if (m._ === 'proxy.workerRequestPayment') {
      const key = s.proxyScAddress || s.address;
      if (m.db_tokens < (this.committedByProxy.get(key) ?? 0n)) {
        s.conn.close(
          new ProtocolError('ROLLBACK_DETECTED', 'the proxy lowered what it committed for this worker'),
        );
        return;
      }
      s.earned = m.max_tokens;
      this.committedByProxy.set(key, m.db_tokens);
      s.payments.accept(m.signed_payment).catch((err: Error) => {
        this.log(`refused a payment from ${s.address}: ${err.message}`);
        s.conn.close(
          err instanceof ProtocolError
            ? err
            : new ProtocolError('PAYMENT_REFUSED', err.message, { cause: err }),
        );
      });
    } else {
      s.conn.close(new ProtocolError('PROTOVIOLATION', `unexpected message ${m._} from a proxy`));
    }
  }

  private async serve(s: WorkerSession, q: Parameters<WorkerQueries['run']>[0]): Promise<void> {
    this.stats.requests++;
    const key = Buffer.from(q.request_id).toString('hex');
    const abort = new AbortController();
    s.running.set(key, abort);
    let ok = false;
    const send = async (m: Parameters<Parameters<WorkerQueries['run']>[1]>[0]) => {
      if (s.conn.isClosed) {
        abort.abort();
        return;
      }
      if (m._ === 'proxy.queryAnswerPartEx' && m.flags & 1) ok = true;
      if (m._ === 'proxy.queryAnswerEx' && m.flags & 1) ok = true;
      if (m._ === 'proxy.queryAnswerEx' || m._ === 'proxy.queryAnswerPartEx')
        this.stats.bytes += m.answer.length;
      sendTl(s.conn, m);
      if (s.conn.writableNeedDrain) await s.conn.drain();
    };
    let tokens: AdjustedTokens | undefined;
    let cause: number | undefined;
    const started = performance.now();
    const sendAndNote = (m: Parameters<typeof send>[0]) => {
      if (m._ === 'proxy.queryAnswerErrorEx') cause = m.error_code;
      return send(m);
    };
    try {
      tokens = await this.queries.run(q, sendAndNote, abort.signal, { receipt: s.ext });
    } catch (err) {
      this.log(`request failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      s.running.delete(key);
    }
    if (ok) {
      this.stats.success++;
      this.lastAnswerAt = performance.now();
    } else this.stats.failed++;
    if (tokens) this.stats.tokens += tokens.total;
    this.metrics.ended(
      ok ? 'success' : 'failed',
      (performance.now() - started) / 1000,
      tokens?.total ?? 0n,
      ok ? undefined : (cause ?? 'failure'),
    );
    (this.opts.logger ?? silentLogger).info(
      {
        worker_request: shortId(key),
        proxy: s.address,
        outcome: ok ? 'success' : 'failed',
        ...(ok ? {} : { cause: cause ?? 'failure' }),
        tokens: Number(tokens?.total ?? 0n),
        ms: Math.round(performance.now() - started),
      },
      'request ended',
    );
  }

  readonly metrics = new NodeMetrics('worker');

  private initMetrics(): void {
    this.metrics.gauge('enabled', '1 while this worker takes requests', () => (this.enabled ? 1 : 0));
    this.metrics.gauge('engine_healthy', '1 while the engine passes its health check', () =>
      this.healthy ? 1 : 0,
    );
    this.metrics.gauge('proxies', 'Proxies this worker is connected to', () => this.proxies.length);
    this.metrics.gauge('running_requests', 'Requests in flight', () => this.queries.running);
    this.metrics.gauge('coefficient', 'Price coefficient (×1000)', () => this.coef);
    this.metrics.gauges(
      'earned_tokens',
      'Tokens of the newest signed payout, by worker contract',
      'contract',
      () => [...this.held].map(([sc, p]) => [sc, p.latest?.tokens ?? 0n]),
    );
    this.metrics.gauges(
      'paid_on_chain_tokens',
      'Tokens paid out on-chain, by worker contract',
      'contract',
      () => [...this.paidOnChain],
    );
  }

  private async serveHttp(port: number): Promise<void> {
    this.http = createServer((req, res) => {
      const url = requestUrl(req, 'http://worker');
      if (!url)
        return sendJson(res, 400, {
          error: { message: 'bad request target', type: 'invalid_request_error' },
        });
      if (serveMetrics(req, res, url, { accessToken: this.opts.accessToken, metrics: this.metrics })) return;
      if (
        serveDashboard(req, res, url, { accessToken: this.opts.accessToken, nodes: () => ({ worker: '' }) })
      )
        return;
      if (
        serveStats(req, res, url, {
          title: 'Cocoon worker',
          accessToken: this.opts.accessToken,
          stats: () => this.jsonStats(),
        })
      )
        return;
      if (url.pathname.startsWith('/request/')) {
        if (!hasToken(req, url, this.opts.accessToken)) {
          return sendJson(res, 401, { error: { message: 'access token required', type: 'auth_error' } });
        }
        try {
          if (url.pathname === '/request/enable') this.setEnabled(true);
          else if (url.pathname === '/request/disable') this.setEnabled(false);
          else if (url.pathname === '/request/payout') {
            if (req.method !== 'POST') throw new RangeError('POST /request/payout');
            Promise.all(
              [...this.held].map(([sc, payments]) => this.cashOut({ workerScAddress: sc, payments }, true)),
            ).then(
              (r) => sendJson(res, 200, { ok: true, payouts: r.filter(Boolean).length }),
              (err: Error) => sendJson(res, 502, { error: { message: err.message, type: 'upstream_error' } }),
            );
            return;
          } else if (url.pathname === '/request/change_coefficient') {
            const c = Number(url.searchParams.get('coefficient'));
            if (!Number.isFinite(c) || c < 0) throw new RangeError('coefficient must be a number like 1.5');
            this.setCoefficient(Math.round(c * 1000));
          } else return sendJson(res, 404, { error: { message: 'no such request', type: 'not_found' } });
          return sendJson(res, 200, { ok: true, enabled: this.enabled, coefficient: this.coef });
        } catch (err) {
          return sendJson(res, 400, {
            error: { message: (err as Error).message, type: 'invalid_request_error' },
          });
        }
      }
      sendJson(res, 404, { error: { message: 'not found', type: 'not_found' } });
    });
    await new Promise<void>((resolve) => this.http?.listen(port, this.opts.host ?? '127.0.0.1', resolve));
    this.statsPort = (this.http.address() as AddressInfo).port;
  }

  jsonStats(): Record<string, unknown> {
    return {
      status: {
        model: this.opts.model,
        model_hash: createHash('sha256').update(this.opts.model).digest('hex'),
        owner_address: this.opts.ownerAddress,
        engine: this.opts.engine.kind,
        enabled: this.enabled,
        disabled_by_owner: !this.enabledByOwner,
        engine_healthy: this.healthy,
        engine_error: this.healthError ?? null,
        coefficient: this.coef,
        running: this.queries.running,
        max_active_requests: this.opts.maxActiveRequests ?? 200,
      },
      stats: { ...this.stats },
      proxies: this.proxies.map((s) => ({
        address: s.address,
        proxy_sc_address: s.proxyScAddress,
        worker_sc_address: s.workerScAddress,
        image_hash: s.peer.imageHash,
        attestation: s.peer.quoteKind,
        policy: s.peer.policy,
        tcb_status: s.peer.status ?? null,
        earned_tokens: s.earned,
        signed_tokens: s.payments.tokens,
        earned_nanoton: s.payments.tokens * this.opts.root.current.params.workerFeePerToken,
        paid_on_chain_tokens: this.paidOnChain.get(s.workerScAddress) ?? null,
        running: s.running.size,
      })),
    };
  }
}
