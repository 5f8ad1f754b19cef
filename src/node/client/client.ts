// The client runner's network side (cocoon-reference.md §4.1, §4.3): holds a connection to a proxy from the
// root config (RA-TLS, the proxy's attestation and image hash checked), authorises (short auth with its secret,
// long auth otherwise), sends `client.runQueryEx` and hands the streamed answer to the caller. It has its own
// timeout for every request and ends requests at once when their proxy connection drops.

import { createHash, randomBytes } from 'node:crypto';
import { Address } from '@ton/core';
import { withRetry } from '../../chain/client.ts';
import { ClientContract } from '../../chain/client-contract.ts';
import { ProtocolError, SealError } from '../../errors.ts';
import type { Connection } from '../../net/connection.ts';
import { signLabel } from '../../receipt/label.ts';
import {
  AnswerChain,
  encodeReceipt,
  type Receipt,
  requestHash,
  verifyReceipt,
} from '../../receipt/receipt.ts';
import { MAX_RECIPIENTS, type SealedAnswerReader, SealSessions, sealQuery } from '../../seal/sealed.ts';
import type { Store } from '../../store/store.ts';
import { toHex } from '../../tee/bytes.ts';
import { collateralToPhalaJson, quoteCrlFirst } from '../../tee/collateral.ts';
import type { AttestationPolicy, AttestationVerifier, PeerAttestation } from '../../tee/policy.ts';
import { parseTdxQuote } from '../../tee/quote.ts';
import { type TcbStatus, tcbAtLeast } from '../../tee/types.ts';
import { decodeTl } from '../../tl/cocoon.ts';
import type { TlConstructors, TlTypes } from '../../tl/cocoon-api.gen.ts';
import { childScAddress } from '../addresses.ts';
import type { ChainAgent } from '../chain-agent.ts';
import { evidenceReportData, type NodeIdentity, verifierFor } from '../identity.ts';
import { type Logger, silentLogger } from '../log.ts';
import { NodeMetrics } from '../metrics.ts';
import { PaymentTracker } from '../payments.ts';
import { checkProxyParams, ProxyLinks, type ProxySession } from '../proxy-link.ts';
import type { RootWatcher } from '../root-config.ts';
import { ANSWER_ERROR, call, decodeMessage, EXT_FLAG, idHex, PROTO_MAX, PROTO_MIN, sendTl } from '../rpc.ts';

export type ClientFinal = NonNullable<TlConstructors['client.queryAnswerEx']['final_info']>;
export type HttpResponseHead = TlConstructors['http.response'];

export interface ClientNodeOptions {
  root: RootWatcher;
  identity: NodeIdentity;
  /** The client's owner address (its wallet), which the proxy accounts by. */
  ownerAddress: string;
  /** Short-auth secret; its SHA-256 is what the proxy knows (default empty, as the reference). */
  secret?: string;
  /** How the proxy must attest (default `tdx`; `fake_tdx` only for local networks, chosen explicitly). */
  proxyPolicy?: AttestationPolicy['kind'] | AttestationPolicy;
  checkProxyHashes?: boolean;
  /**
   * Whether requests are sealed end to end to the worker's enclave (default `auto`: whenever the proxy and some
   * worker of the model speak cocoon_ext.tl; `off` sends every request in plain, as the reference).
   */
  seal?: SealMode;
  /** How the workers a request is sealed to must attest (default: as the proxy). */
  workerPolicy?: AttestationPolicy['kind'] | AttestationPolicy;
  /** Check the workers' image hashes and models against the root (default: as the proxy's). */
  checkWorkerHashes?: boolean;
  proxyConnections?: number;
  maxPowDifficulty?: number;
  /** Where the newest signed charge of each proxy is kept, and the receipts. */
  store?: Store;
  /**
   * How many receipts the store keeps, the newest (default {@link KEEP_RECEIPTS}); older ones are removed as
   * new ones come, in batches of up to 1,000.
   */
  keepReceipts?: number;
  /**
   * The chain: the client deploys its contract with each proxy (setting its secret's hash), keeps it topped up
   * with `topUp` nanoTON (default twice the root's minimum client stake) whenever its balance falls below the stake.
   */
  chain?: ChainAgent;
  topUp?: bigint;
  log?: (line: string) => void;
  /** Structured logs (one JSON line per event; requests with their ids). */
  logger?: Logger;
}

/** Receipts a client keeps by default: ~2.5 KB each, so ~250 MB of store. */
export const KEEP_RECEIPTS = 100_000;

/** `require` fails a request that cannot be sealed instead of sending it in plain. */
export type SealMode = 'auto' | 'off' | 'require';

/** A request's receipt as this client checked it. */
export interface ClientReceipt {
  receipt: Receipt;
  /** Its bytes (TL), what X-Cocoon-Receipt carries in base64. */
  bytes: Buffer;
  /** Every check held: signatures, certificate, and what was sent, received and charged. */
  ok: boolean;
  problems: string[];
}

/**
 * What the app may learn about its request: who could read it (the worker's enclave alone when sealed, the
 * proxy's too when plain), and, once it ended, its receipt.
 */
export interface QueryInfo {
  sealed: boolean;
  /** The model as requested, and the proxy the request went through. */
  model?: string;
  proxy?: PeerAttestation;
  /** For a sealed request, the workers it was sealed to (hex certificate keys) and, once known, the one that answered. */
  recipients?: string[];
  worker?: PeerAttestation;
  /** When this client verified the answering worker's attestation. */
  attestedAt?: Date;
  receipt?: ClientReceipt;
}

/** A worker requests may be sealed to, as the proxy listed it and this client verified it. */
interface SealTarget {
  key: string;
  peer: PeerAttestation & { sealKey: Uint8Array };
  attestedAt: Date;
  coefficient: number;
  active: number;
  max: number;
}

/** A proxy's list of the sealable workers of one model: asked for at `at`, and once answered, at hand. */
interface CatalogueEntry {
  at: number;
  list: Promise<SealTarget[]>;
  listed?: SealTarget[];
}

/** How long a proxy's list of sealable workers is reused. */
const CATALOGUE_TTL_MS = 2000;
/** How many workers a request is sealed to: the proxy picks among them, and fails over within them. */
const SEAL_FANOUT = 3;

export interface QueryRequest {
  model: string;
  /** The serialized `http.request`. */
  query: Uint8Array;
  maxCoefficient: number;
  maxTokens: number;
  timeoutS: number;
  enableDebug?: boolean;
  /** Overrides the client's sealing mode for this request. */
  seal?: SealMode;
  /**
   * The worst TCB status the answering worker may have (its quote DCAP-verified by this client). Only a sealed
   * request lets the client choose its worker, so this implies `require`.
   */
  minTcb?: TcbStatus;
}

/** How a running query reports back; exactly one of `onError` or a part/head with `final` ends it. */
export interface QueryCallbacks {
  onHead(head: HttpResponseHead, final: ClientFinal | undefined): void;
  onPart(data: Uint8Array, final: ClientFinal | undefined): void;
  onError(code: number, message: string, final: ClientFinal | undefined): void;
}

interface Pending {
  cb: QueryCallbacks;
  timer: NodeJS.Timeout;
  headSeen: boolean;
  /** Opens a sealed answer. */
  reader?: SealedAnswerReader;
  /** The attested workers a sealed request was sealed to, by hex certificate key. */
  sealedTo?: Map<string, SealTarget>;
  model: string;
  /** The request bytes (for the receipt's hash) and the answer's hash chain, kept when receipts come. */
  query: Uint8Array;
  chain?: AnswerChain;
  receipt?: Receipt;
  /** A sealed answer failed to open: the rest of it is dropped unread. */
  dropped?: boolean;
  info: QueryInfo;
}

interface ClientSession extends ProxySession {
  proxyParams: TlConstructors['client.connectedToProxy']['params'];
  clientScAddress: string;
  pending: Map<string, Pending>;
  /** Tokens the proxy says this client has used (never allowed to go down). */
  usedTokens: bigint;
  /** The newest signed charge from this proxy for this client's contract. */
  payments: PaymentTracker;
  /** The proxy speaks cocoon_ext.tl. */
  ext: boolean;
  /** Sealable workers by model, as last listed. */
  catalogue: Map<string, CatalogueEntry>;
}

export class ClientNode {
  readonly stats = { requests: 0, success: 0, failed: 0, tokens: 0n, bytes: 0 };
  private readonly links: ProxyLinks<ClientSession>;

  private readonly proxyVerifier: AttestationVerifier;

  constructor(private readonly opts: ClientNodeOptions) {
    this.proxyVerifier = verifierFor(opts.proxyPolicy ?? 'tdx');
    const o: ConstructorParameters<typeof ProxyLinks<ClientSession>>[0] = {
      root: opts.root,
      side: 'clients',
      count: opts.proxyConnections ?? 1,
      identity: opts.identity,
      verifier: this.proxyVerifier,
      checkHashes: opts.checkProxyHashes !== false,
      handshake: (conn, peer, address) => this.handshake(conn, peer, address),
      log: (l) => opts.log?.(`client: ${l}`),
    };
    if (opts.maxPowDifficulty !== undefined) o.maxPowDifficulty = opts.maxPowDifficulty;
    this.links = new ProxyLinks(o);
    this.workerVerifier = verifierFor(opts.workerPolicy ?? opts.proxyPolicy ?? 'tdx');
    this.initMetrics();
    for (const { key } of opts.store?.list('contract:') ?? [])
      this.knownContracts.add(key.slice('contract:'.length));
    this.links.on('down', (s, reason) => {
      for (const [key, p] of [...s.pending]) {
        s.pending.delete(key);
        clearTimeout(p.timer);
        this.stats.failed++;
        p.cb.onError(
          ANSWER_ERROR.failure,
          `the connection to the proxy was lost${reason ? `: ${reason.message}` : ''}`,
          undefined,
        );
      }
    });
  }

  readonly metrics = new NodeMetrics('client');

  get logger(): Logger {
    return this.opts.logger ?? silentLogger;
  }

  private initMetrics(): void {
    this.metrics.gauge('proxies', 'Proxies this client is connected to', () => this.sessions.length);
    this.metrics.gauge('running_requests', 'Requests in flight', () =>
      this.sessions.reduce((n, s) => n + s.pending.size, 0),
    );
    this.metrics.gauges(
      'charged_tokens',
      'Tokens of the newest signed charge, by client contract',
      'contract',
      () => this.sessions.map((s) => [s.clientScAddress, s.payments.tokens]),
    );
    this.metrics.gauges(
      'balance_nanoton',
      'Client contract balance as last read, by contract',
      'contract',
      () => [...this.contracts].map(([sc, c]) => [sc, c.balance]),
    );
  }

  get root(): RootWatcher {
    return this.opts.root;
  }

  get sessions(): ClientSession[] {
    return this.links.sessions();
  }

  start(): void {
    this.links.start();
    if (this.opts.chain) {
      this.topUpTimer = setInterval(() => {
        for (const s of this.sessions) {
          if (s.clientScAddress)
            this.topUpIfLow(s.clientScAddress).catch((e: Error) =>
              this.opts.log?.(`client: top-up: ${e.message}`),
            );
        }
      }, 5000);
      this.topUpTimer.unref();
    }
  }

  close(): void {
    clearInterval(this.topUpTimer);
    this.links.close();
  }

  waitReady(timeoutMs = 30_000): Promise<ClientSession> {
    return this.links.waitReady(timeoutMs);
  }

  /** The first ready proxy session, waiting up to `waitMs` for one. */
  async session(waitMs = 0): Promise<ClientSession> {
    const s = this.links.first();
    if (s) return s;
    return this.links.waitReady(waitMs);
  }

  private async handshake(conn: Connection, peer: PeerAttestation, address: string): Promise<ClientSession> {
    const root = this.opts.root.current;
    const r = await call(conn, {
      _: 'client.connectToProxy',
      params: {
        _: 'client.params',
        flags: 3 | EXT_FLAG,
        client_owner_address: this.opts.ownerAddress,
        is_test: root.params.isTest,
        min_proto_version: PROTO_MIN,
        max_proto_version: PROTO_MAX,
      },
      min_config_version: root.version,
    });
    const p = r.params;
    const proxySc = checkProxyParams(p, peer, root);
    const clientSc = childScAddress('client', root, proxySc, this.opts.ownerAddress, p.proxy_public_key);
    if (clientSc) {
      this.proxyKeys.set(clientSc, { proxySc, key: p.proxy_public_key });
      if (!this.knownContracts.has(clientSc)) {
        this.knownContracts.add(clientSc);
        await this.opts.store?.transaction((tx) => tx.put(`contract:${clientSc}`, { proxySc }));
      }
    }
    if (clientSc !== r.client_sc_address) {
      throw new ProtocolError(
        'HANDSHAKE_FAILED',
        `client contract ${r.client_sc_address}, expected ${clientSc}`,
      );
    }
    const secret = Buffer.from(this.opts.secret ?? '');
    if (this.opts.chain && clientSc) await this.ensureContract(clientSc, secret);
    let auth: TlTypes['client.AuthorizationWithProxy'];
    if (
      r.auth._ === 'client.proxyConnectionAuthShort' &&
      createHash('sha256').update(secret).digest().equals(Buffer.from(r.auth.secret_hash))
    ) {
      auth = await call(conn, { _: 'client.authorizeWithProxyShort', data: secret });
    } else {
      auth = await call(conn, { _: 'client.authorizeWithProxyLong' }, 300_000);
    }
    if (auth._ === 'client.authorizationWithProxyFailed') {
      throw new ProtocolError('AUTH_FAILED', `the proxy refused authorisation: ${auth.error}`);
    }
    const payments = new PaymentTracker({
      kind: 'client',
      proxyPublicKey: p.proxy_public_key,
      contract: clientSc,
      key: `payment:${proxySc || address}:${clientSc}`,
      ...(this.opts.store ? { store: this.opts.store } : {}),
    });
    await payments.accept(auth.signed_payment);
    const session: ClientSession = {
      conn,
      address,
      peer,
      proxyParams: p,
      clientScAddress: clientSc,
      pending: new Map(),
      usedTokens: auth.max_tokens,
      payments,
      ext: (p.flags & EXT_FLAG) !== 0,
      catalogue: new Map(),
      onMessage: (data) => this.onMessage(session, data),
    };
    return session;
  }

  private onMessage(s: ClientSession, data: Uint8Array): void {
    const m = decodeMessage(s.conn, data);
    if (!m) return;
    switch (m._) {
      case 'client.queryAnswerEx':
      case 'client.queryAnswerPartEx':
      case 'client.queryAnswerErrorEx': {
        const key = idHex(m.request_id);
        const p = s.pending.get(key);
        if (!p) return; // ended here already (own timeout)
        if (p.dropped) {
          if (m._ === 'client.queryAnswerErrorEx' || m.flags & 1) {
            s.pending.delete(key);
            clearTimeout(p.timer);
            if (m.flags & 1 && m.final_info) this.stats.tokens += m.final_info.tokens_used.total_tokens_used;
          }
          return;
        }
        const final = m.flags & 1 ? m.final_info : undefined;
        if (m._ === 'client.queryAnswerErrorEx' || final) {
          s.pending.delete(key);
          clearTimeout(p.timer);
          if (final) this.stats.tokens += final.tokens_used.total_tokens_used;
        }
        if (m._ === 'client.queryAnswerErrorEx') {
          this.stats.failed++;
          // The workers it was sealed to went away or filled up: list them afresh for the next request.
          if (p.info.sealed && m.error_code === ANSWER_ERROR.notready) s.catalogue.delete(p.model);
          p.cb.onError(m.error_code, m.error, final);
          return;
        }
        if (m._ === 'client.queryAnswerEx' && p.headSeen) {
          s.conn.close(new ProtocolError('PROTOVIOLATION', 'a second answer head'));
          return;
        }
        if (m._ === 'client.queryAnswerPartEx' && !p.headSeen) {
          s.conn.close(new ProtocolError('PROTOVIOLATION', 'an answer part before its head'));
          return;
        }
        let data: Uint8Array = m.answer;
        /** A sealed answer whose end came unsealed: only its signed receipt can vouch for it. */
        let endByReceipt = false;
        if (p.reader) {
          // Sealed: a chunk that fails to open, comes out of order, or an answer that ends before the chunk the
          // worker flagged last ends this request (the proxy or the path tampered with it); the connection stays.
          try {
            if (final && m._ === 'client.queryAnswerPartEx' && data.length === 0 && p.reader.worker) {
              endByReceipt = !p.reader.complete;
            } else {
              const opened = m._ === 'client.queryAnswerEx' ? p.reader.head(data) : p.reader.part(data);
              data = opened.data;
              if (final && !opened.last)
                throw new SealError('SEAL_TRUNCATED', 'the sealed answer was cut short');
            }
          } catch (err) {
            this.sealFailed(s, key, p, err instanceof Error ? err.message : String(err), final);
            return;
          }
        }
        if (m._ === 'client.queryAnswerEx') {
          p.headSeen = true;
          const worker = p.reader?.worker && p.sealedTo?.get(p.reader.worker);
          if (worker) {
            p.info.worker = worker.peer;
            p.info.attestedAt = worker.attestedAt;
          }
          let head: ReturnType<typeof decodeTl>;
          try {
            head = decodeTl(data);
          } catch {
            head = { _: 'tcp.ping', id: 0n };
          }
          if (head._ !== 'http.response') {
            s.pending.delete(key);
            clearTimeout(p.timer);
            this.stats.failed++;
            p.cb.onError(ANSWER_ERROR.protoviolation, 'the answer is not an HTTP response', final);
            return;
          }
          if (s.ext) {
            p.chain = new AnswerChain(p.reader?.receiptSalt);
            p.chain.push(head.payload);
          }
          if (final) this.answered(s, key, p, final);
          p.cb.onHead(head, final);
        } else {
          this.stats.bytes += data.length;
          p.chain?.push(data);
          if (final) {
            this.answered(s, key, p, final);
            if (endByReceipt && !p.info.receipt?.ok) {
              // The receipt covers every chunk the worker sent: without a valid one, this end may be a cut.
              this.stats.success--;
              this.stats.failed++;
              p.cb.onError(
                ANSWER_ERROR.protoviolation,
                'the sealed answer did not open: no valid receipt vouches for its end (cut short?)',
                final,
              );
              return;
            }
          }
          p.cb.onPart(data, final);
        }
        return;
      }
      case 'ext.clientReceipt': {
        if (!s.ext) {
          s.conn.close(new ProtocolError('PROTOVIOLATION', 'a receipt from a proxy without extensions'));
          return;
        }
        const p = s.pending.get(idHex(m.request_id));
        if (p && !p.dropped) p.receipt = m.receipt;
        return;
      }
      case 'proxy.clientRequestPayment':
        if (m.max_tokens < s.usedTokens) {
          s.conn.close(new ProtocolError('ROLLBACK_DETECTED', 'the proxy lowered what this client used'));
          return;
        }
        s.usedTokens = m.max_tokens;
        s.payments.accept(m.signed_payment).catch((err: Error) => {
          this.opts.log?.(`client: refused a charge from ${s.address}: ${err.message}`);
          s.conn.close(
            err instanceof ProtocolError
              ? err
              : new ProtocolError('PAYMENT_REFUSED', err.message, { cause: err }),
          );
        });
        return;
      default:
        s.conn.close(new ProtocolError('PROTOVIOLATION', `unexpected message ${m._} from the proxy`));
    }
  }

  /**
   * Sends a query through the first ready proxy. Returns a function that abandons it (the app went away);
   * the answer keeps streaming into nothing and is billed as usual, since the protocol has no cancel.
   */
  run(
    s: ClientSession,
    q: QueryRequest,
    cb: QueryCallbacks,
  ): { id: string; abandon: () => void; info: QueryInfo } {
    this.stats.requests++;
    const requestId = randomBytes(32);
    const key = idHex(requestId);
    const p: Pending = {
      cb,
      model: q.model,
      query: q.query,
      headSeen: false,
      info: { sealed: false, model: q.model, proxy: s.peer },
      timer: setTimeout(() => {
        if (s.pending.get(key) !== p) return;
        s.pending.delete(key);
        this.stats.failed++;
        p.cb.onError(ANSWER_ERROR.timeout, `no answer within ${q.timeoutS} s (timeout in client)`, undefined);
      }, q.timeoutS * 1000),
    };
    p.timer.unref();
    s.pending.set(key, p);
    const fail = (code: number, message: string) => {
      if (s.pending.get(key) !== p) return;
      s.pending.delete(key);
      clearTimeout(p.timer);
      this.stats.failed++;
      p.cb.onError(code, message, undefined);
    };
    const send = (query: Uint8Array) => {
      if (s.pending.get(key) !== p) return; // timed out while the workers were being listed
      try {
        sendTl(s.conn, {
          _: 'client.runQueryEx',
          model_name: q.model,
          query,
          max_coefficient: q.maxCoefficient,
          max_tokens: q.maxTokens,
          timeout: q.timeoutS * 0.95,
          request_id: requestId,
          min_config_version: this.opts.root.current.version,
          flags: q.enableDebug ? 1 : 0,
          ...(q.enableDebug ? { enable_debug: true } : {}),
        });
      } catch (err) {
        fail(ANSWER_ERROR.failure, `could not send the request: ${(err as Error).message}`);
      }
    };
    const mode = q.minTcb ? 'require' : (q.seal ?? this.opts.seal ?? 'auto');
    if (mode === 'require' && this.opts.seal === 'off') {
      fail(
        ANSWER_ERROR.notready,
        'this client sends every request plain (seal off): require_e2e cannot be met',
      );
    } else if (mode === 'off' || (!s.ext && mode === 'auto')) {
      send(q.query);
    } else if (!s.ext) {
      fail(ANSWER_ERROR.notready, `the proxy at ${s.address} cannot carry a sealed request (require_e2e)`);
    } else {
      const sealTo = (targets: SealTarget[]) => {
        if (targets.length === 0) {
          if (q.minTcb) {
            fail(
              ANSWER_ERROR.notready,
              `no worker of ${q.model} is attested at TCB status ${q.minTcb} or better (min_tcb)`,
            );
          } else if (mode === 'require') {
            fail(
              ANSWER_ERROR.notready,
              `no attested worker of ${q.model} can take a sealed request (require_e2e)`,
            );
          } else {
            send(q.query);
          }
          return;
        }
        let sealed: ReturnType<typeof sealQuery>;
        try {
          sealed = sealQuery({
            model: q.model,
            maxTokens: q.maxTokens,
            request: q.query,
            recipients: targets.map((t) => ({ workerKey: t.peer.publicKey, sealKey: t.peer.sealKey })),
            sessions: this.sealSessions,
          });
        } catch (err) {
          fail(ANSWER_ERROR.failure, `could not seal the request: ${(err as Error).message}`);
          return;
        }
        p.reader = sealed.reader;
        p.sealedTo = new Map(targets.map((t) => [t.key, t]));
        p.info.sealed = true;
        p.info.recipients = targets.map((t) => t.key);
        send(sealed.query);
        // The answer keys are derived while the answer is awaited, not when it arrives.
        setImmediate(() => sealed.reader.prepare());
      };
      // A fresh list is used at once; else the request waits for the proxy to list its workers.
      const listed = this.listedTargets(s, q.model);
      if (listed) sealTo(this.rankTargets(listed, q.maxCoefficient, q.minTcb));
      else
        this.sealTargets(s, q.model, q.maxCoefficient, q.minTcb).then(sealTo, (err: Error) => {
          this.opts.log?.(`client: listing the sealable workers of ${q.model}: ${err.message}`);
          if (mode === 'require')
            fail(ANSWER_ERROR.notready, `cannot list the workers to seal to: ${err.message}`);
          else send(q.query);
        });
    }
    return {
      id: key,
      info: p.info,
      abandon: () => {
        if (s.pending.get(key) === p) {
          // Keep listening so the final info still counts; just stop reporting.
          p.cb = { onHead() {}, onPart() {}, onError() {} };
        }
      },
    };
  }

  /** An answer complete: its receipt checked against what was sent, received and charged, and kept. */
  private answered(s: ClientSession, key: string, p: Pending, final: ClientFinal): void {
    this.stats.success++;
    const r = p.receipt;
    if (!r || !p.chain) return;
    const check = verifyReceipt(r, this.receiptCerts);
    const problems = check.problems;
    const b = r.body;
    const eq = (a: Uint8Array, x: Uint8Array) => Buffer.from(a).equals(Buffer.from(x));
    const salt = p.reader?.receiptSalt;
    if (!eq(b.request_hash, requestHash(p.query, salt))) problems.push('the receipt is for another request');
    if (!eq(b.answer_hash, p.chain.digest) || b.answer_chunks !== p.chain.chunks)
      problems.push('the receipt is for another answer');
    if (b.sealed !== (p.reader !== undefined)) problems.push('the receipt says otherwise about sealing');
    if (p.reader?.worker && Buffer.from(b.worker_key).toString('hex') !== p.reader.worker)
      problems.push('the receipt is signed by another worker than the one that answered');
    if (!eq(r.proxy_key, s.proxyParams.proxy_public_key))
      problems.push('the receipt is signed by another proxy');
    if (r.charge.client_sc_address !== s.clientScAddress) problems.push('the charge is for another contract');
    if (r.charge.charged_tokens !== final.tokens_used.total_tokens_used)
      problems.push(
        `the charge is ${r.charge.charged_tokens} tokens, the answer said ${final.tokens_used.total_tokens_used}`,
      );
    const receipt: ClientReceipt = {
      receipt: r,
      bytes: encodeReceipt(r),
      ok: problems.length === 0,
      problems,
    };
    p.info.receipt = receipt;
    if (!receipt.ok)
      this.opts.log?.(`client: receipt of ${key.slice(0, 8)} from ${s.address}: ${problems.join('; ')}`);
    this.receipts.push(receipt);
    if (this.receipts.length > 1000) this.receipts.shift();
    const store = this.opts.store;
    if (store) {
      // Kept for `cocoon client receipts`; a store that fails here loses a receipt, not the answer.
      const at = String(Math.round(b.time * 1000)).padStart(14, '0');
      store
        .transaction((tx) =>
          tx.put(`receipt:${at}:${key}`, {
            receipt: receipt.bytes.toString('base64'),
            ok: receipt.ok,
            problems,
          }),
        )
        .then(() => this.pruneReceipts(store))
        .catch((err: Error) => this.opts.log?.(`client: keeping a receipt: ${err.message}`));
    }
  }

  /**
   * Fresh evidence of the proxy and its workers (of `model`, or all) for an app's nonce, each checked here: the
   * certificate under this client's policy, a new quote binding SHA-256(nonce) to the certificate's key and
   * measuring the same image, the image in the root's allowlist.
   */
  async attestation(nonce: string, model = ''): Promise<Record<string, unknown>> {
    const s = await this.session(5000);
    if (!s.ext) {
      throw new ProtocolError(
        'NOT_SUPPORTED',
        `the proxy at ${s.address} gives no evidence for a nonce (a reference proxy)`,
      );
    }
    const n = createHash('sha256').update(nonce).digest();
    const r = await call(s.conn, { _: 'ext.getAttestation', nonce: n, model }, 30_000);
    const root = this.opts.root.current;
    const now = new Date();
    const check = async (
      e: TlConstructors['ext.evidence'],
      verifier: AttestationVerifier,
      allowed: string[],
      expectKey?: Uint8Array,
    ) => {
      const out: Record<string, unknown> = {
        public_key: toHex(e.public_key),
        certificate: Buffer.from(e.certificate).toString('base64'),
        quote: Buffer.from(e.quote).toString('base64'),
      };
      try {
        const peer = await verifier.verifyCertificate(e.certificate, now);
        if (!Buffer.from(peer.publicKey).equals(Buffer.from(e.public_key)))
          throw new Error('the certificate is for another key');
        if (expectKey && !Buffer.from(expectKey).equals(Buffer.from(e.public_key)))
          throw new Error('the evidence is of another node than the one this client is connected to');
        const q = await verifier.verifyQuote(e.quote, evidenceReportData(e.public_key, n), now);
        if (q.imageHash !== peer.imageHash || q.mrTd !== peer.mrTd)
          throw new Error('the fresh quote measures another image than the certificate');
        return {
          ...out,
          verified: true,
          nonce_bound: true,
          tee: q.quoteKind,
          image_hash: q.imageHash,
          image_allowed_by_root: allowed.includes(q.imageHash),
          mr_td: q.mrTd ?? null,
          rtmr: q.rtmr ?? null,
          tcb_status: q.status ?? null,
          advisory_ids: q.advisoryIds ?? [],
          attestation_valid_until: peer.expiresAt.toISOString(),
          seal_key: peer.sealKey ? toHex(peer.sealKey) : null,
        };
      } catch (err) {
        return { ...out, verified: false, error: (err as Error).message };
      }
    };
    const [proxy, ...workers] = await Promise.all([
      check(r.proxy, this.proxyVerifier, root.proxyHashes, s.peer.publicKey),
      ...r.workers.map((w) => check(w, this.workerVerifier, root.workerHashes)),
    ]);
    return {
      nonce,
      client: { public_key: this.publicKey, signs: 'X-Cocoon-Privacy' },
      report_data: 'SHA-512("cocoon attestation v1\\n" || public_key || SHA-256(nonce))',
      checked_at: now.toISOString(),
      proxy: { address: s.address, ...proxy },
      workers,
    };
  }

  /**
   * The DCAP collateral this client checks a worker's TDX quote with, for an app or a browser to run DCAP itself
   * (every byte of it is signed under Intel's root, so it needs no trust in this client). The PCK CRL of the
   * quote's CA comes first. `trusted_root` is set only when this client pins a test root instead of Intel's.
   */
  async collateralFor(quote: Uint8Array): Promise<{ collateral: unknown; trusted_root: string | null }> {
    const p = this.workerVerifier.policy;
    if (p.kind !== 'tdx' || !p.collateral) {
      throw new ProtocolError(
        'NOT_SUPPORTED',
        `this client checks workers under '${p.kind}': no DCAP collateral`,
      );
    }
    const parsed = parseTdxQuote(quote);
    const c = quoteCrlFirst(await p.collateral(parsed), parsed);
    return {
      collateral: JSON.parse(collateralToPhalaJson(c)),
      trusted_root: p.trustedRootDer ? Buffer.from(p.trustedRootDer).toString('base64') : null,
    };
  }

  /** The signed privacy label of a request (X-Cocoon-Privacy); see receipt/label.ts. */
  privacyLabel(info: QueryInfo | undefined): string {
    const model = info?.model ? [`model=${createHash('sha256').update(info.model).digest('hex')}`] : [];
    const tee = (p: PeerAttestation) => [`tee=${p.quoteKind}`, ...(p.status ? [`tcb=${p.status}`] : [])];
    let fields: string[];
    if (info?.sealed && info.worker) {
      const age = Math.max(0, Math.round((Date.now() - (info.attestedAt ?? new Date()).getTime()) / 1000));
      const w = info.worker;
      fields = [
        'e2e=1',
        'plaintext=worker',
        `worker=${toHex(w.publicKey)}`,
        `image=${w.imageHash}`,
        ...tee(w),
        ...model,
        `attested=${age}s`,
      ];
    } else if (info?.sealed) {
      fields = ['e2e=1', 'plaintext=worker', ...model];
    } else {
      const p = info?.proxy;
      fields = [
        'e2e=0',
        'plaintext=proxy,worker',
        ...(p ? [`proxy=${toHex(p.publicKey)}`, `proxy_image=${p.imageHash}`, ...tee(p)] : []),
        ...model,
      ];
    }
    return signLabel(fields, this.opts.identity.privateKey);
  }

  /** The key the privacy labels are signed with (hex). */
  get publicKey(): string {
    return Buffer.from(this.opts.identity.publicKey).toString('hex');
  }

  private receiptsSincePrune = 0;

  /** Removes the oldest receipts beyond the retention limit, once per batch of new ones. */
  private async pruneReceipts(store: Store): Promise<void> {
    const keep = this.opts.keepReceipts ?? KEEP_RECEIPTS;
    if (++this.receiptsSincePrune < Math.min(1000, Math.max(1, keep))) return;
    this.receiptsSincePrune = 0;
    const excess = store.count('receipt:') - keep;
    if (excess <= 0) return;
    const old = store.keys('receipt:', excess);
    await store.transaction((tx) => {
      for (const k of old) tx.remove(k);
    });
  }

  /** The newest receipts, in order (up to 1,000). */
  readonly receipts: ClientReceipt[] = [];

  /** The newest `limit` receipts kept (from the store when there is one), oldest first. */
  listReceipts(limit = 100): { key: string; receipt: string; ok: boolean; problems: string[] }[] {
    const store = this.opts.store;
    if (store) {
      return store
        .list<{ receipt: string; ok: boolean; problems: string[] }>('receipt:', { last: limit })
        .map(({ key, value }) => ({ key: key.slice('receipt:'.length), ...value }));
    }
    return this.receipts.slice(-limit).map((r, i) => ({
      key: String(i),
      receipt: r.bytes.toString('base64'),
      ok: r.ok,
      problems: r.problems,
    }));
  }
  /** Worker certificates already checked for receipts. */
  private readonly receiptCerts = new Map<
    string,
    { publicKey: Uint8Array; image: string; quoteKind: 'fake_tdx' | 'tdx' }
  >();

  /** A sealed answer that failed to open: the request ends with an error, its final info still counts. */
  private sealFailed(
    s: ClientSession,
    key: string,
    p: Pending,
    message: string,
    final: ClientFinal | undefined,
  ): void {
    this.opts.log?.(`client: a sealed answer from ${s.address} failed to open: ${message}`);
    this.stats.failed++;
    const cb = p.cb;
    p.cb = { onHead() {}, onPart() {}, onError() {} };
    if (final) {
      s.pending.delete(key);
      clearTimeout(p.timer);
    } else {
      // Further chunks of this answer are dropped unopened until its end.
      p.dropped = true;
    }
    cb.onError(ANSWER_ERROR.protoviolation, `the sealed answer did not open: ${message}`, final);
  }

  private readonly workerVerifier: AttestationVerifier;
  /** Sealing sessions with workers, reused across requests and proxies. */
  private readonly sealSessions = new SealSessions();
  /** Verified worker certificates, by SHA-256 of the DER. */
  private readonly verifiedWorkers = new Map<string, { peer: PeerAttestation; at: Date }>();

  /** The workers (at most three) a request of `model` is sealed to: affordable, least loaded first. */
  private async sealTargets(
    s: ClientSession,
    model: string,
    maxCoefficient: number,
    minTcb?: TcbStatus,
  ): Promise<SealTarget[]> {
    let c = s.catalogue.get(model);
    if (!c || Date.now() - c.at > CATALOGUE_TTL_MS) {
      const entry: CatalogueEntry = { at: Date.now(), list: this.listSealable(s, model) };
      s.catalogue.set(model, entry);
      entry.list.then(
        (l) => {
          entry.listed = l;
        },
        () => {
          if (s.catalogue.get(model) === entry) s.catalogue.delete(model);
        },
      );
      c = entry;
    }
    return this.rankTargets(await c.list, maxCoefficient, minTcb);
  }

  /** The sealable workers of `model` as listed by the proxy, when that list is fresh and at hand. */
  private listedTargets(s: ClientSession, model: string): SealTarget[] | undefined {
    const c = s.catalogue.get(model);
    return c?.listed && Date.now() - c.at <= CATALOGUE_TTL_MS ? c.listed : undefined;
  }

  /** The workers (at most three) a request is sealed to, out of those listed: affordable, least loaded first. */
  private rankTargets(all: SealTarget[], maxCoefficient: number, minTcb?: TcbStatus): SealTarget[] {
    const list = minTcb ? all.filter((t) => tcbAtLeast(t.peer.status, minTcb)) : all;
    const affordable = list.filter((t) => t.coefficient <= maxCoefficient);
    // None affordable: sealed to the cheapest all the same, so that the proxy says what coefficient would do.
    const pool = affordable.length ? affordable : [...list].sort((a, b) => a.coefficient - b.coefficient);
    const load = (t: SealTarget) => (t.max > 0 ? t.active / t.max : 1);
    const ranked = pool
      .map((t) => ({ t, r: Math.random() }))
      .sort((a, b) => load(a.t) - load(b.t) || a.t.coefficient - b.t.coefficient || a.r - b.r)
      .map((x) => x.t);
    return ranked.slice(0, Math.min(SEAL_FANOUT, MAX_RECIPIENTS));
  }

  /** Asks the proxy for its sealable workers of a model, and keeps those whose certificates verify here. */
  private async listSealable(s: ClientSession, model: string): Promise<SealTarget[]> {
    const r = await call(s.conn, { _: 'ext.getWorkers', model });
    const root = this.opts.root.current;
    const check = this.opts.checkWorkerHashes ?? this.opts.checkProxyHashes !== false;
    const out: SealTarget[] = [];
    const now = new Date();
    for (const [k, v] of this.verifiedWorkers) if (v.peer.expiresAt <= now) this.verifiedWorkers.delete(k);
    for (const w of r.workers) {
      const id = createHash('sha256').update(w.certificate).digest('hex');
      try {
        let v = this.verifiedWorkers.get(id);
        if (!v) {
          v = { peer: await this.workerVerifier.verifyCertificate(w.certificate, now), at: now };
          this.verifiedWorkers.set(id, v);
        }
        const peer = v.peer;
        if (!Buffer.from(peer.publicKey).equals(Buffer.from(w.worker_key)))
          throw new Error('the certificate is for another key');
        if (!peer.sealKey) throw new Error('the certificate has no sealing key');
        if (check && !root.workerHashes.includes(peer.imageHash))
          throw new Error(`image ${peer.imageHash} is not allowed by the root`);
        const modelHash = createHash('sha256').update(w.model).digest('hex');
        if (check && !root.modelHashes.includes(modelHash))
          throw new Error(`model ${w.model} is not allowed by the root`);
        out.push({
          key: Buffer.from(peer.publicKey).toString('hex'),
          peer: peer as SealTarget['peer'],
          attestedAt: v.at,
          coefficient: w.coefficient,
          active: w.active_requests,
          max: w.max_active_requests,
        });
      } catch (err) {
        this.opts.log?.(
          `client: worker ${Buffer.from(w.worker_key).toString('hex').slice(0, 16)} not sealable: ${(err as Error).message}`,
        );
      }
    }
    return out;
  }

  private topUpTimer: NodeJS.Timeout | undefined;

  /** Deploys this client's contract with a proxy, with its secret's hash and a first top-up, unless it exists. */
  private async ensureContract(sc: string, secret: Buffer): Promise<void> {
    const chain = this.opts.chain as ChainAgent;
    const c = chain.open(ClientContract.createFromAddress(Address.parse(sc)));
    const root = this.opts.root.current;
    if (!(await chain.isDeployed(c.address))) {
      const proxySc = this.proxyScOf(sc);
      if (!proxySc || !root.params.clientScCode)
        throw new ProtocolError('HANDSHAKE_FAILED', 'cannot deploy the client contract');
      const init = this.opts.chain?.open(
        ClientContract.createFromConfig(
          {
            owner: chain.address,
            proxy: Address.parse(proxySc.proxySc),
            proxyPublicKey: Buffer.from(proxySc.key),
            params: root.params,
          },
          root.params.clientScCode,
        ),
      );
      if (!init?.address.equals(c.address)) {
        throw new ProtocolError(
          'HANDSHAKE_FAILED',
          "the client contract is not owned by this client's wallet",
        );
      }
      await chain.send('deploying the client contract', (s) => init.sendDeploy(s));
    }
    const d = await c.getClientData();
    const want = BigInt(`0x${createHash('sha256').update(secret).digest('hex')}`);
    if (d.secretHash !== want) {
      await chain.send('setting the client secret hash', (s) =>
        c.sendChangeSecretHash(s, want, chain.address),
      );
    }
    await this.topUpIfLow(sc);
  }

  /** Tops the contract up when its balance is below its stake. */
  private async topUpIfLow(sc: string): Promise<void> {
    const chain = this.opts.chain;
    if (!chain) return;
    const c = chain.open(ClientContract.createFromAddress(Address.parse(sc)));
    const d = await c.getClientData();
    this.contracts.set(sc, { balance: d.balance, stake: d.stake, tokensUsed: d.tokensUsed, state: d.state });
    if (d.state !== 0 || d.balance >= d.stake) return;
    const amount = this.opts.topUp ?? 2n * this.opts.root.current.params.minClientStake;
    await chain.send(`topping up the client contract with ${amount} nanoTON`, (s) =>
      c.sendTopUp(s, amount, chain.address),
    );
    this.topUps++;
  }

  topUps = 0;
  /** Client contracts as last read (balance, stake, tokens charged on-chain, state). */
  readonly contracts = new Map<
    string,
    { balance: bigint; stake: bigint; tokensUsed: bigint; state: number }
  >();

  /** Re-reads every client contract (status commands). */
  async refreshContracts(): Promise<void> {
    await Promise.all(
      this.sessions.map((s) => (s.clientScAddress ? this.readContract(s.clientScAddress) : undefined)),
    );
  }

  /** Owner operations on every client contract of this client: top up, withdraw what is above the stake, close. */
  async contractOp(
    op: 'topup' | 'withdraw' | 'close',
    amount?: bigint,
  ): Promise<{ contract: string; done: string }[]> {
    const chain = this.opts.chain;
    if (!chain) throw new ProtocolError('NO_CHAIN', 'this client runs without a chain');
    const out: { contract: string; done: string }[] = [];
    // Every contract this client has, connected or not: a proxy that vanished still holds the client's money.
    for (const sc of this.knownContracts) {
      const c = chain.open(ClientContract.createFromAddress(Address.parse(sc)));
      if (op === 'topup') {
        const a = amount ?? 2n * this.opts.root.current.params.minClientStake;
        await chain.send(`topping up ${sc}`, (x) => c.sendTopUp(x, a, chain.address));
        out.push({ contract: sc, done: `topped up ${a} nanoTON` });
      } else if (op === 'withdraw') {
        await chain.send(`withdrawing from ${sc}`, (x) => c.sendWithdraw(x, chain.address));
        out.push({ contract: sc, done: 'withdrew the balance above the stake' });
      } else {
        // First call: closing (the balance above the stake comes back now). Once the close delay has passed, a
        // second call closes it by force: the rest is paid back from the proxy's stake if the proxy never settled.
        await chain.send(`closing ${sc}`, (x) => c.sendRequestRefund(x, chain.address));
        out.push({ contract: sc, done: 'requested the refund' });
      }
      await this.readContract(sc);
    }
    return out;
  }

  /** Reads a client contract now (status commands). */
  async readContract(sc: string): Promise<void> {
    const chain = this.opts.chain;
    if (!chain) return;
    const c = chain.open(ClientContract.createFromAddress(Address.parse(sc)));
    const d = await withRetry(() => c.getClientData());
    this.contracts.set(sc, { balance: d.balance, stake: d.stake, tokensUsed: d.tokensUsed, state: d.state });
  }
  private readonly proxyKeys = new Map<string, { proxySc: string; key: Uint8Array }>();
  /** Every client contract of this client (kept in its store). */
  private readonly knownContracts = new Set<string>();

  private proxyScOf(clientSc: string): { proxySc: string; key: Uint8Array } | undefined {
    return this.proxyKeys.get(clientSc);
  }

  /** The worker types the proxy offers (enabled workers per model). */
  async workerTypes(waitMs = 10_000): Promise<TlTypes['client.WorkerTypesV2']> {
    const s = await this.session(waitMs);
    return call(s.conn, { _: 'client.getWorkerTypesV2' }, 10_000);
  }

  jsonStats(): Record<string, unknown> {
    return {
      status: { owner_address: this.opts.ownerAddress, root_version: this.opts.root.current.version },
      stats: { ...this.stats },
      proxies: this.sessions.map((s) => {
        const price = this.opts.root.current.params.pricePerToken;
        const c = this.contracts.get(s.clientScAddress);
        return {
          address: s.address,
          proxy_sc_address: s.proxyParams.proxy_sc_address,
          client_sc_address: s.clientScAddress,
          image_hash: s.peer.imageHash,
          attestation: s.peer.quoteKind,
          policy: s.peer.policy,
          mr_td: s.peer.mrTd ?? null,
          tcb_status: s.peer.status ?? null,
          attested_until: s.peer.expiresAt.toISOString(),
          used_tokens: s.usedTokens,
          signed_tokens: s.payments.tokens,
          // Everything the proxy has charged so far (its newest signed charge), and its price.
          charged_tokens: s.payments.tokens,
          charged_nanoton: s.payments.tokens * price,
          contract: c
            ? {
                balance: c.balance,
                stake: c.stake,
                charged_on_chain_tokens: c.tokensUsed,
                state: ['normal', 'closing', 'closed'][c.state] ?? String(c.state),
              }
            : null,
          running: s.pending.size,
        };
      }),
    };
  }
}
