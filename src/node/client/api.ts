// The client's OpenAI-compatible HTTP API (cocoon-reference.md §6.1): POST /v1/chat/completions and
// /v1/completions through the proxy, GET /v1/models, /stats and /jsonstats. Streams reach the app chunk by
// chunk as the worker sent them; the usage object gets the nanoTON costs of what the proxy billed; every failure
// is an OpenAI-shaped JSON error with the right status, within the request's timeout.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AttestationError, ProtocolError } from '../../errors.ts';
import { parseJsonStrict } from '../../openai/validate.ts';
import { costsOf } from '../../pricing/tokens.ts';
import { TCB_STATUSES, type TcbStatus } from '../../tee/types.ts';
import { encodeTl } from '../../tl/cocoon.ts';
import { type DashboardNodes, serveDashboard } from '../dashboard.ts';
import { hasToken, readBody, requestUrl, sendJson, serveMetrics, serveStats, toJson } from '../http-util.ts';
import { shortId } from '../log.ts';
import { ANSWER_ERROR, unixTime } from '../rpc.ts';
import type { ClientFinal, ClientNode, HttpResponseHead, QueryInfo } from './client.ts';

export interface ClientApiOptions {
  node: ClientNode;
  /** Bearer key the app must send on /v1/*; undefined: none (bind to loopback). */
  apiKey?: string;
  /** Token of /stats and /jsonstats; undefined: open. */
  accessToken?: string;
  defaultMaxCoefficient?: number;
  defaultMaxTokens?: number;
  defaultTimeoutS?: number;
  maxBodyBytes?: number;
  /**
   * An app that stops reading a stream is cut once this many bytes wait for it (default 16 MiB), and a
   * non-streamed answer may not exceed 4× this: the client never buffers without bound.
   */
  maxAppBuffer?: number;
  /** Where the dashboard served at `/` finds the other nodes (default: this client only). */
  dashboardNodes?: DashboardNodes;
  /** How long a request waits for a proxy connection before 502 (default 5 s). */
  proxyWaitMs?: number;
  /**
   * Time for a connection to send a request's complete headers (default 10 s; Node's own is 60 s): slower ones
   * (slowloris) get 408 and are closed.
   */
  headersTimeoutMs?: number;
  /** Time for a request body to arrive once the headers are in (default 60 s): later, 408 and the connection closes. */
  bodyTimeoutMs?: number;
}

/** Default of {@link ClientApiOptions.headersTimeoutMs}. */
export const API_HEADERS_TIMEOUT_MS = 10_000;
/** Default of {@link ClientApiOptions.bodyTimeoutMs}. */
export const API_BODY_TIMEOUT_MS = 60_000;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Authorization',
};

const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

interface ApiErrorShape {
  status: number;
  type: string;
  code: string | null;
}

/** The HTTP status and OpenAI error type for an error code from the network. */
export function httpError(code: number): ApiErrorShape {
  switch (code) {
    case ANSWER_ERROR.badRequest:
    case ANSWER_ERROR.protoviolation:
      return { status: 400, type: 'invalid_request_error', code: null };
    case ANSWER_ERROR.insufficientFunds:
      return { status: 402, type: 'insufficient_quota', code: 'insufficient_quota' };
    case ANSWER_ERROR.unknownModel:
      return { status: 404, type: 'invalid_request_error', code: 'model_not_found' };
    case ANSWER_ERROR.overloaded:
      return { status: 429, type: 'rate_limit_error', code: 'overloaded' };
    case ANSWER_ERROR.notready:
      return { status: 503, type: 'service_unavailable', code: 'no_worker' };
    case ANSWER_ERROR.timeout:
      return { status: 504, type: 'timeout', code: 'timeout' };
    default:
      return { status: 502, type: 'upstream_error', code: 'upstream_error' };
  }
}

function errorBody(message: string, shape: ApiErrorShape, cocoonCode?: number): unknown {
  return {
    error: {
      message,
      type: shape.type,
      param: null,
      code: shape.code,
      ...(cocoonCode === undefined ? {} : { cocoon_error_code: cocoonCode }),
    },
  };
}

function fail(
  res: ServerResponse,
  status: number,
  message: string,
  type = 'invalid_request_error',
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  sendJson(res, status, { error: { message, type, param: null, code: null } }, { ...CORS, ...headers });
}

// After a body is refused unread, the connection cannot carry another request: Node closes it once this is sent.
const CLOSE = { connection: 'close' };

const secs = (t: number) => t.toFixed(6);

function header(head: HttpResponseHead, name: string): string | undefined {
  return head.headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/** The usage costs (nanoTON, exact) of what the proxy billed, to merge into a `usage` object. */
function costs(final: ClientFinal, price: bigint): Record<string, bigint> {
  const t = final.tokens_used;
  const c = costsOf(
    {
      prompt: t.prompt_tokens_used,
      cached: t.cached_tokens_used,
      completion: t.completion_tokens_used,
      reasoning: t.reasoning_tokens_used,
      total: t.total_tokens_used,
    },
    price,
  );
  return { ...c, billed_tokens: t.total_tokens_used };
}

/**
 * Holds back the SSE events from the first one carrying `usage` to the end, so the final one can get the costs
 * the proxy reports after the worker's last byte; everything before streams through untouched.
 */
export class SseUsageHold {
  private text = '';
  private holding = false;
  private held: string[] = [];
  private readonly decoder = new TextDecoder();

  /** Feeds bytes; returns the bytes to write to the app now. */
  push(chunk: Uint8Array): string {
    this.text += this.decoder.decode(chunk, { stream: true });
    let out = '';
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.text);
      if (!m) break;
      const event = this.text.slice(0, m.index + m[0].length);
      this.text = this.text.slice(m.index + m[0].length);
      if (!this.holding && /"usage"\s*:\s*\{/.test(event)) this.holding = true;
      if (this.holding) this.held.push(event);
      else out += event;
    }
    return out;
  }

  /** The held events with `extra` merged into each usage object, plus any unterminated tail. */
  finish(extra: Record<string, unknown> | undefined): string {
    const tail = this.text + this.decoder.decode();
    this.text = '';
    const events = this.held.splice(0);
    if (!extra) return events.join('') + tail;
    return (
      events
        .map((ev) =>
          ev.replace(/^data: ?(\{.*\})[ \t\r]*$/m, (line, json: string) => {
            try {
              const v = JSON.parse(json) as { usage?: Record<string, unknown> | null };
              if (!v.usage || typeof v.usage !== 'object') return line;
              Object.assign(v.usage, extra);
              return `data: ${toJson(v)}`;
            } catch {
              return line;
            }
          }),
        )
        .join('') + tail
    );
  }
}

function readExtensions(
  body: Record<string, unknown>,
  o: Required<Pick<ClientApiOptions, 'defaultMaxCoefficient' | 'defaultMaxTokens' | 'defaultTimeoutS'>>,
) {
  const uint = (k: string, d: number): number => {
    const v = body[k];
    delete body[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new TypeError(`${k} must be a non-negative integer`);
    }
    return v;
  };
  const maxCoefficient = uint('max_coefficient', o.defaultMaxCoefficient);
  const t = body.timeout;
  delete body.timeout;
  if (t !== undefined && (typeof t !== 'number' || !(t > 0) || t > 86_400)) {
    throw new TypeError('timeout must be a number of seconds in (0, 86400]');
  }
  const timeoutS = (t as number | undefined) ?? o.defaultTimeoutS;
  const debug = body.enable_debug;
  delete body.enable_debug;
  if (debug !== undefined && typeof debug !== 'boolean')
    throw new TypeError('enable_debug must be a boolean');
  const e2e = body.require_e2e;
  delete body.require_e2e;
  if (e2e !== undefined && typeof e2e !== 'boolean') throw new TypeError('require_e2e must be a boolean');
  const minTcb = body.min_tcb;
  delete body.min_tcb;
  if (minTcb !== undefined && !(TCB_STATUSES as readonly unknown[]).includes(minTcb)) {
    throw new TypeError(`min_tcb must be one of ${TCB_STATUSES.join(', ')}`);
  }
  const guid = body.request_guid;
  delete body.request_guid;
  if (guid !== undefined && typeof guid !== 'string') throw new TypeError('request_guid must be a string');
  // max_completion_tokens wins over max_tokens (the reference drops max_tokens then); neither: the default is
  // written into the request so the answer can never outgrow what is reserved for it.
  let maxTokens: number;
  const mct = body.max_completion_tokens;
  const mt = body.max_tokens;
  const check = (v: unknown, k: string) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new TypeError(`${k} must be a non-negative integer`);
    }
    return v;
  };
  if (mct !== undefined) {
    maxTokens = check(mct, 'max_completion_tokens');
    delete body.max_tokens;
  } else if (mt !== undefined) {
    maxTokens = check(mt, 'max_tokens');
  } else {
    maxTokens = o.defaultMaxTokens;
    body.max_tokens = maxTokens;
  }
  return {
    maxCoefficient,
    timeoutS,
    enableDebug: debug === true,
    requireE2e: e2e === true,
    minTcb: minTcb as TcbStatus | undefined,
    requestGuid: guid as string | undefined,
    maxTokens,
  };
}

/**
 * @example
 * const server = clientApi({ node });
 * await listenApi(server, 10000);
 */
export function clientApi(opts: ClientApiOptions): Server {
  const { node } = opts;
  const o = {
    defaultMaxCoefficient: opts.defaultMaxCoefficient ?? 4000,
    defaultMaxTokens: opts.defaultMaxTokens ?? 1000,
    defaultTimeoutS: opts.defaultTimeoutS ?? 120,
  };
  const debugLog = new Map<string, unknown>();
  const headersTimeoutMs = opts.headersTimeoutMs ?? API_HEADERS_TIMEOUT_MS;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? API_BODY_TIMEOUT_MS;

  async function models(res: ServerResponse): Promise<void> {
    const types = await node.workerTypes(opts.proxyWaitMs ?? 5000);
    const price = node.root.current.params.pricePerToken;
    sendJson(
      res,
      200,
      {
        object: 'list',
        data: types.types.map((t) => {
          const coefs = t.workers.map((w) => w.coefficient);
          return {
            id: t.name,
            object: 'model',
            created: 0,
            owned_by: 'cocoon',
            active_workers: t.workers.length,
            coefficient_min: coefs.length ? Math.min(...coefs) : 0,
            coefficient_max: coefs.length ? Math.max(...coefs) : 0,
            price_per_token: price,
            workers: t.workers.map((w) => ({
              coefficient: w.coefficient,
              running_requests: w.active_requests,
              max_running_requests: w.max_active_requests,
            })),
          };
        }),
      },
      CORS,
    );
  }

  async function completion(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const clientStart = unixTime();
    // Metrics: one outcome per request, when its response ends (or the app goes away).
    let billed = 0n;
    let cause: number | undefined;
    let requestId: string | undefined;
    let slowApp = false;
    res.once('close', () => {
      const failed = cause !== undefined || res.statusCode >= 400 || !res.writableFinished;
      const why = failed
        ? (cause ?? (slowApp ? 'slow_app' : res.writableFinished ? res.statusCode : 'abandoned'))
        : undefined;
      node.metrics.ended(failed ? 'failed' : 'success', unixTime() - clientStart, billed, why);
      node.logger.info(
        {
          request: requestId ? shortId(requestId) : null,
          path,
          status: res.statusCode,
          outcome: failed ? 'failed' : 'success',
          ...(why === undefined ? {} : { cause: why }),
          tokens: Number(billed),
          ms: Math.round((unixTime() - clientStart) * 1000),
        },
        'request ended',
      );
    });
    const raw = await readBody(req, opts.maxBodyBytes ?? 16 * 1024 * 1024, bodyTimeoutMs).catch(() => null);
    if (raw === null) return fail(res, 408, 'the request body did not arrive in time', undefined, CLOSE);
    if (raw === undefined) return fail(res, 413, 'the request body is too large', undefined, CLOSE);
    let body: Record<string, unknown>;
    let ext: ReturnType<typeof readExtensions>;
    let payload: Buffer;
    try {
      const v = parseJsonStrict(raw.toString('utf8'));
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new TypeError('the body must be a JSON object');
      body = v as Record<string, unknown>;
      if (typeof body.model !== 'string' || body.model === '')
        throw new TypeError('model must be a non-empty string');
      ext = readExtensions(body, o);
      // JSON.stringify recurses: a body nested deeper than the stack allows is the app's mistake, not a 502.
      payload = Buffer.from(JSON.stringify(body));
    } catch (err) {
      return fail(
        res,
        400,
        err instanceof RangeError ? 'the body is nested too deeply' : (err as Error).message,
      );
    }
    const query = encodeTl({
      _: 'http.request',
      method: 'POST',
      url: path,
      http_version: 'HTTP/1.1',
      headers: [
        { _: 'http.header', name: 'Content-Type', value: 'application/json' },
        { _: 'http.header', name: 'Content-Length', value: String(payload.length) },
      ],
      payload,
    });
    let session: Awaited<ReturnType<ClientNode['session']>>;
    try {
      session = await node.session(opts.proxyWaitMs ?? 5000);
    } catch (err) {
      return sendJson(
        res,
        502,
        errorBody((err as Error).message, { status: 502, type: 'upstream_error', code: 'no_proxy' }),
        CORS,
      );
    }
    const price = node.root.current.params.pricePerToken;
    let stream = false;
    let status = 200;
    let headers: Record<string, string> = {};
    let hold: SseUsageHold | undefined;
    const buffered: Uint8Array[] = [];
    let bufferedBytes = 0;
    let ended = false;
    /** Who could read this request (filled in once the client has sealed it, or not). */
    let sealInfo: QueryInfo | undefined;
    const timing = (final: ClientFinal | undefined, head: HttpResponseHead | undefined) => {
      const t: Record<string, string> = { 'X-Cocoon-Client-Start': secs(clientStart) };
      // A sealed answer's head passes the proxy unopened: its start time comes in the final info instead.
      const ps =
        (head && header(head, 'x-cocoon-proxy-start')) ||
        (final?.proxy_start_time ? secs(final.proxy_start_time) : undefined);
      const ws = head && header(head, 'x-cocoon-worker-start');
      if (ps) t['X-Cocoon-Proxy-Start'] = ps;
      if (ws) t['X-Cocoon-Worker-Start'] = ws;
      if (final?.proxy_end_time) t['X-Cocoon-Proxy-End'] = secs(final.proxy_end_time);
      if (final?.worker_end_time) t['X-Cocoon-Worker-End'] = secs(final.worker_end_time);
      t['X-Cocoon-Privacy'] = node.privacyLabel(sealInfo);
      return t;
    };
    const debugOf = (final: ClientFinal | undefined) => ({
      client: { start: clientStart, end: unixTime() },
      proxy: final?.proxy_debug ?? null,
      worker: final?.worker_debug ?? null,
    });
    let headSeen: HttpResponseHead | undefined;
    const end = (final: ClientFinal | undefined) => {
      if (ended) return;
      ended = true;
      billed = final?.tokens_used.total_tokens_used ?? 0n;
      if (ext.enableDebug && ext.requestGuid) {
        debugLog.set(ext.requestGuid, debugOf(final));
        if (debugLog.size > 100) debugLog.delete(debugLog.keys().next().value as string);
      }
      const extra = final
        ? { ...costs(final, price), ...(ext.enableDebug ? { debug: debugOf(final) } : {}) }
        : undefined;
      const receipt = sealInfo?.receipt;
      if (stream) {
        // After the answer (and its [DONE]), where the OpenAI SDKs stop reading: a named event with the receipt.
        const tail = receipt
          ? `event: cocoon.receipt\ndata: ${toJson({ receipt: receipt.bytes.toString('base64'), verified: receipt.ok, problems: receipt.problems })}\n\n`
          : '';
        res.end((hold?.finish(extra) ?? '') + tail);
        return;
      }
      let out = Buffer.concat(buffered);
      const json = /json/i.test(headers['content-type'] ?? '');
      if (extra && json && status === 200) {
        try {
          const v = JSON.parse(out.toString('utf8')) as { usage?: Record<string, unknown> };
          if (v.usage && typeof v.usage === 'object') Object.assign(v.usage, extra);
          out = Buffer.from(toJson(v));
        } catch {
          // not one JSON value: the body goes out as the worker sent it
        }
      }
      res.writeHead(status, {
        ...headers,
        ...timing(final, headSeen),
        ...(receipt
          ? {
              'X-Cocoon-Receipt': receipt.bytes.toString('base64'),
              'X-Cocoon-Receipt-Verified': receipt.ok
                ? 'yes'
                : `no: ${receipt.problems.join('; ')}`.replace(/[^\x20-\x7e]/g, '?'),
            }
          : {}),
        'X-Cocoon-Client-End': secs(unixTime()),
        'content-length': String(out.length),
        ...CORS,
      });
      res.end(out);
    };
    const run = node.run(
      session,
      {
        model: body.model as string,
        query,
        maxCoefficient: ext.maxCoefficient,
        maxTokens: ext.maxTokens,
        timeoutS: ext.timeoutS,
        enableDebug: ext.enableDebug,
        ...(ext.requireE2e ? { seal: 'require' as const } : {}),
        ...(ext.minTcb ? { minTcb: ext.minTcb } : {}),
      },
      {
        onHead(head, final) {
          headSeen = head;
          status = head.status_code;
          headers = {};
          for (const h of head.headers) {
            const k = h.name.toLowerCase();
            if (!HOP_BY_HOP.has(k) && !k.startsWith('x-cocoon-')) headers[k] = h.value;
          }
          stream = /text\/event-stream/i.test(headers['content-type'] ?? '');
          if (stream) {
            hold = new SseUsageHold();
            res.writeHead(status, {
              ...headers,
              ...timing(undefined, head),
              'cache-control': 'no-cache',
              ...CORS,
            });
            res.flushHeaders();
            const now = hold.push(head.payload);
            if (now) res.write(now);
          } else {
            buffered.push(head.payload);
          }
          if (final) end(final);
        },
        onPart(data, final) {
          if (ended) return;
          const limit = opts.maxAppBuffer ?? 16 * 1024 * 1024;
          if (stream) {
            const now = (hold as SseUsageHold).push(data);
            if (now) res.write(now);
            if (res.writableLength > limit) {
              // The app stopped reading: drop it rather than hold the rest of its answer in memory.
              slowApp = true;
              ended = true;
              run.abandon();
              res.destroy();
              return;
            }
          } else {
            bufferedBytes += data.length;
            if (bufferedBytes > 4 * limit) {
              ended = true;
              run.abandon();
              cause = 502;
              sendJson(res, 502, errorBody(`the answer exceeds ${4 * limit} bytes`, httpError(0)), CORS);
              return;
            }
            buffered.push(Uint8Array.from(data));
          }
          if (final) end(final);
        },
        onError(code, message, final) {
          if (ended) return;
          const shape = httpError(code);
          cause = shape.status;
          billed = final?.tokens_used.total_tokens_used ?? 0n;
          if (stream) {
            // Headers are out: the stream ends with an error event the OpenAI SDKs raise as an APIError.
            ended = true;
            const tail = hold?.finish(undefined) ?? '';
            res.end(`${tail}data: ${toJson(errorBody(message, shape, code))}\n\n`);
            return;
          }
          ended = true;
          sendJson(res, shape.status, errorBody(message, shape, code), {
            ...CORS,
            ...timing(final, headSeen),
          });
        },
      },
    );
    requestId = run.id;
    sealInfo = run.info;
    res.on('close', () => {
      if (!ended) {
        ended = true;
        run.abandon();
      }
    });
  }

  const serverOpts = {
    headersTimeout: headersTimeoutMs,
    // A backstop for what no handler reads (a body sent to a GET): our own 408 above comes first.
    requestTimeout: headersTimeoutMs + bodyTimeoutMs + 1000,
    // Node checks these timeouts only this often (default 30 s, which would triple a 10 s headers timeout).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  };
  return createServer(serverOpts, (req, res) => {
    const url = requestUrl(req, 'http://client');
    if (!url) return fail(res, 400, 'the request target is not a valid URL');
    if (req.method === 'OPTIONS') {
      res.writeHead(200, CORS);
      res.end();
      return;
    }
    if (serveMetrics(req, res, url, { accessToken: opts.accessToken, metrics: node.metrics })) return;
    const nodes = opts.dashboardNodes ?? (() => ({ client: '' }));
    if (serveDashboard(req, res, url, { accessToken: opts.accessToken, nodes })) return;
    if (
      url.pathname === '/jsonstats' &&
      url.searchParams.get('refresh') === '1' &&
      hasToken(req, url, opts.accessToken)
    ) {
      // Status commands ask for the contracts as they are now.
      void node
        .refreshContracts()
        .catch(() => {})
        .then(() =>
          serveStats(req, res, url, {
            title: 'Cocoon client',
            accessToken: opts.accessToken,
            stats: () => node.jsonStats(),
          }),
        );
      return;
    }
    if (
      serveStats(req, res, url, {
        title: 'Cocoon client',
        accessToken: opts.accessToken,
        stats: () => node.jsonStats(),
      })
    )
      return;
    const op = /^\/request\/(topup|withdraw|close)$/.exec(url.pathname)?.[1] as
      | 'topup'
      | 'withdraw'
      | 'close'
      | undefined;
    if (op) {
      if (req.method !== 'POST') return fail(res, 405, `POST ${url.pathname}`);
      if (!hasToken(req, url, opts.accessToken)) return fail(res, 401, 'access token required', 'auth_error');
      const amount = url.searchParams.get('amount');
      if (amount !== null && !/^\d+$/.test(amount)) return fail(res, 400, 'amount is nanoTON, an integer');
      node.contractOp(op, amount === null ? undefined : BigInt(amount)).then(
        (done) => sendJson(res, 200, { ok: true, done }, CORS),
        (err: Error) => fail(res, 502, err.message, 'upstream_error'),
      );
      return;
    }
    if (url.pathname === '/request/receipts') {
      if (!hasToken(req, url, opts.accessToken)) return fail(res, 401, 'access token required', 'auth_error');
      const limit = Number(url.searchParams.get('limit') ?? '100');
      if (!Number.isSafeInteger(limit) || limit < 1) return fail(res, 400, 'limit is a positive integer');
      return sendJson(res, 200, { receipts: node.listReceipts(limit) });
    }
    if (url.pathname === '/request/debuglogentry') {
      if (!hasToken(req, url, opts.accessToken)) return fail(res, 401, 'access token required', 'auth_error');
      const e = debugLog.get(url.searchParams.get('request_guid') ?? '');
      return e ? sendJson(res, 200, e) : fail(res, 404, 'no debug entry for that request_guid', 'not_found');
    }
    if (url.pathname.startsWith('/v1/') && opts.apiKey !== undefined) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${opts.apiKey}`) {
        return fail(res, 401, 'invalid or missing API key (Authorization: Bearer …)', 'invalid_api_key');
      }
    }
    const route = `${req.method} ${url.pathname}`;
    const done = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        const m = err instanceof Error ? err.message : String(err);
        if (!res.headersSent) {
          const shape = /no proxy|NOT_READY/i.test(m)
            ? { status: 502, type: 'upstream_error', code: 'no_proxy' }
            : httpError(0);
          sendJson(res, shape.status, errorBody(m, shape), CORS);
        } else res.end();
      });
    if (route === 'GET /v1/models') return void done(models(res));
    if (route === 'GET /v1/attestation') {
      const nonce = url.searchParams.get('nonce');
      if (!nonce || nonce.length > 256) {
        return sendJson(
          res,
          400,
          errorBody('nonce: 1 to 256 characters of your choosing', httpError(ANSWER_ERROR.badRequest)),
          CORS,
        );
      }
      return void done(
        node.attestation(nonce, url.searchParams.get('model') ?? '').then(
          (a) => sendJson(res, 200, a, CORS),
          (err: Error) => {
            if (!/attestations in five seconds/.test(err.message)) throw err;
            sendJson(res, 429, errorBody(err.message, httpError(ANSWER_ERROR.overloaded)), CORS);
          },
        ),
      );
    }
    if (route === 'POST /v1/attestation/collateral') {
      return void done(
        (async () => {
          const raw = await readBody(req, 64 * 1024, bodyTimeoutMs).catch(() => null);
          if (raw === null)
            return fail(res, 408, 'the request body did not arrive in time', undefined, CLOSE);
          if (raw === undefined) return fail(res, 413, 'a quote is at most 64 KiB', undefined, CLOSE);
          try {
            sendJson(res, 200, await node.collateralFor(new Uint8Array(raw)), CORS);
          } catch (err) {
            if (err instanceof AttestationError) {
              return /^(QUOTE_|PCK_CHAIN)/.test(err.code)
                ? fail(res, 400, `the body is not a TDX quote: ${err.message}`)
                : fail(res, 502, `no collateral for this quote: ${err.message}`, 'upstream_error');
            }
            if (err instanceof ProtocolError && err.code === 'NOT_SUPPORTED')
              return fail(res, 404, err.message, 'not_found');
            throw err;
          }
        })(),
      );
    }
    if (route === 'POST /v1/chat/completions') return void done(completion(req, res, '/v1/chat/completions'));
    if (route === 'POST /v1/completions') return void done(completion(req, res, '/v1/completions'));
    if (
      url.pathname === '/v1/chat/completions' ||
      url.pathname === '/v1/completions' ||
      url.pathname === '/v1/models'
    ) {
      return fail(res, 405, `${req.method} is not allowed on ${url.pathname}`);
    }
    fail(res, 404, `no route ${req.method} ${url.pathname}`, 'not_found');
  });
}

export function listenApi(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
