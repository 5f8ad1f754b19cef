// One inference request on a worker (cocoon-reference.md §4.3): a `proxy.runQueryEx` carrying an HTTP request
// goes to the engine; the answer streams back as `proxy.queryAnswerEx` (the HTTP response head), then
// `proxy.queryAnswerPartEx` for every body chunk as it arrives, the last one with the final info (adjusted tokens
// and the worker's start/end times). Every failure ends the request with `proxy.queryAnswerErrorEx` — never a
// legacy constructor — carrying the tokens counted so far.

import type { KeyObject } from 'node:crypto';
import { CocoonError, SealError, TonErrorCode } from '../../errors.ts';
import type { InferenceEngine } from '../../openai/engine.ts';
import { validateRequest } from '../../openai/validate.ts';
import { type AdjustedTokens, adjustTokens, type Multipliers } from '../../pricing/tokens.ts';
import { AnswerChain, type ReceiptBody, requestHash } from '../../receipt/receipt.ts';
import {
  isSealedQuery,
  OpenedSessions,
  openSealedQuery,
  type SealedAnswerWriter,
} from '../../seal/sealed.ts';
import { decodeTl, encodeTl } from '../../tl/cocoon.ts';
import type { TlConstructors, TlFunctions, TlTypes } from '../../tl/cocoon-api.gen.ts';
import { unixTime } from '../rpc.ts';

type RunQuery = TlFunctions['proxy.runQueryEx'];
export type AnswerMessage = TlTypes['proxy.QueryAnswerEx'] | TlConstructors['ext.workerReceipt'];
type FinalInfo = NonNullable<TlConstructors['proxy.queryAnswerEx']['final_info']>;

export interface WorkerQueryOptions {
  engine: InferenceEngine;
  /** The model this worker serves, as `NAME@COMMIT:HASH` or just `NAME`; requests must name `NAME`. */
  model: string;
  multipliers: Multipliers;
  maxActiveRequests: number;
  /** This worker's certificate key and sealing key: requests sealed to it are opened with them. */
  seal?: { workerKey: Uint8Array; sealPrivateKey: KeyObject };
  /** Signs a receipt for every answer (sent when `run` is asked to): this worker's key, image and prices. */
  receipt?: {
    workerKey: Uint8Array;
    imageHash: Uint8Array;
    sign(body: ReceiptBody): Uint8Array;
    pricePerToken(): bigint;
    configVersion(): number;
  };
  /** Seconds since the epoch, fractional (for the X-Cocoon-Worker-* headers and final info). */
  now?: () => number;
}

const enc = new TextEncoder();

/** The answer length a request without max_tokens is capped at (what the client reserves for it). */
export const DEFAULT_MAX_TOKENS = 1000;

/**
 * What an engine failure says on the wire. Error texts travel in clear through the proxy, and an engine may echo
 * parts of the prompt in its errors: for a sealed request only the error's code goes out.
 */
function engineError(err: unknown, sealed: boolean): string {
  if (sealed) {
    const code = err instanceof CocoonError ? err.code : 'ENGINE_FAILED';
    return `the inference engine failed (${code}; details withheld from a sealed request)`;
  }
  return err instanceof Error ? err.message : String(err);
}

export class WorkerQueries {
  private active = 0;
  /** Clients' sealing sessions with this worker. */
  private readonly sealSessions = new OpenedSessions();

  constructor(private readonly opts: WorkerQueryOptions) {}

  get running(): number {
    return this.active;
  }

  /** The model base name requests must use. */
  get modelName(): string {
    return this.opts.model.split('@')[0] as string;
  }

  /**
   * Runs one query, sending each answer message through `send` as soon as it exists (await it for
   * back-pressure). Resolves with the adjusted tokens billed for it. With `receipt` (the proxy speaks
   * cocoon_ext.tl), a signed receipt goes out just before the last message of a complete answer.
   */
  async run(
    q: RunQuery,
    plainSend: (m: AnswerMessage) => void | Promise<void>,
    signal?: AbortSignal,
    opts: { receipt?: boolean } = {},
  ): Promise<AdjustedTokens> {
    let send = plainSend;
    let writer: SealedAnswerWriter | undefined;
    let query = q.query;
    let sealedMaxTokens: number | undefined;
    if (isSealedQuery(q.query)) {
      // Sealed to this worker's enclave: opened here, and every answer chunk sealed back for the client alone.
      const seal = this.opts.seal;
      try {
        if (!seal) throw new SealError('SEAL_NOT_FOR_ME', 'this worker has no sealing key');
        const opened = openSealedQuery(q.query, { ...seal, sessions: this.sealSessions });
        query = opened.request;
        sealedMaxTokens = opened.maxTokens;
        const w = opened.writer;
        writer = w;
        // With a receipt (signed over every chunk, sent just before), the empty last message needs no sealing: the
        // client takes the answer's end from the receipt. Without one, the end is a sealed chunk flagged last.
        const receiptEnds = opts.receipt === true && this.opts.receipt !== undefined;
        send = (m) => {
          if (m._ === 'proxy.queryAnswerEx')
            return plainSend({ ...m, answer: w.head(m.answer, (m.flags & 1) !== 0) });
          if (m._ === 'proxy.queryAnswerPartEx') {
            if (receiptEnds && m.flags & 1 && m.answer.length === 0) return plainSend(m);
            return plainSend({ ...m, answer: w.part(m.answer, (m.flags & 1) !== 0) });
          }
          return plainSend(m);
        };
      } catch (err) {
        await plainSend({
          _: 'proxy.queryAnswerErrorEx',
          request_id: q.request_id,
          error_code: TonErrorCode.failure,
          error: `cannot open the sealed request: ${(err as Error).message}`,
          flags: 0,
        });
        return { prompt: 0n, cached: 0n, completion: 0n, reasoning: 0n, total: 0n };
      }
    }
    const now = this.opts.now ?? unixTime;
    const start = now();
    const coefficient = Number(q.coefficient);
    // A sealed answer's receipt salt comes with its cipher, derived while the engine works (prepare, below).
    const salt = writer ? () => (writer as SealedAnswerWriter).receiptSalt : undefined;
    const chain = new AnswerChain(salt);
    let status = 0;
    const signer = opts.receipt ? this.opts.receipt : undefined;
    const sendReceipt = async (t: AdjustedTokens) => {
      if (!signer) return;
      const body: ReceiptBody = {
        _: 'ext.receiptBody',
        model: this.opts.model,
        worker_key: signer.workerKey,
        image_hash: signer.imageHash,
        sealed: writer !== undefined,
        request_hash: requestHash(query, writer?.receiptSalt),
        status,
        answer_hash: chain.digest,
        answer_chunks: chain.chunks,
        prompt_tokens: t.prompt,
        cached_tokens: t.cached,
        completion_tokens: t.completion,
        reasoning_tokens: t.reasoning,
        total_tokens: t.total,
        coefficient,
        price_per_token: signer.pricePerToken(),
        config_version: signer.configVersion(),
        time: now(),
      };
      await plainSend({
        _: 'ext.workerReceipt',
        request_id: q.request_id,
        body,
        signature: signer.sign(body),
      });
    };
    const zero: AdjustedTokens = { prompt: 0n, cached: 0n, completion: 0n, reasoning: 0n, total: 0n };
    const finalInfo = (t: AdjustedTokens): FinalInfo => ({
      flags: 2,
      tokens_used: {
        prompt_tokens_used: t.prompt,
        cached_tokens_used: t.cached,
        completion_tokens_used: t.completion,
        reasoning_tokens_used: t.reasoning,
        total_tokens_used: t.total,
      },
      worker_start_time: start,
      worker_end_time: now(),
    });
    const fail = async (code: number, error: string, t = zero) => {
      await send({
        _: 'proxy.queryAnswerErrorEx',
        request_id: q.request_id,
        error_code: code,
        error,
        flags: 1,
        final_info: finalInfo(t),
      });
      return t;
    };
    const answerStatus = async (status: number, message: string) => {
      const payload = enc.encode(
        JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }),
      );
      const head: TlConstructors['http.response'] = {
        _: 'http.response',
        http_version: 'HTTP/1.1',
        status_code: status,
        reason: 'Bad Request',
        headers: [
          { _: 'http.header', name: 'Content-Type', value: 'application/json' },
          { _: 'http.header', name: 'X-Cocoon-Worker-Start', value: start.toFixed(6) },
        ],
        payload,
      };
      status = head.status_code;
      chain.push(payload);
      await sendReceipt(zero);
      await send({
        _: 'proxy.queryAnswerEx',
        request_id: q.request_id,
        answer: encodeTl(head),
        flags: 1,
        final_info: finalInfo(zero),
      });
      return zero;
    };
    if (this.active >= this.opts.maxActiveRequests)
      return fail(TonErrorCode.notready, 'too many active queries');
    this.active++;
    try {
      let req: ReturnType<typeof decodeTl>;
      try {
        req = decodeTl(query);
      } catch {
        return fail(TonErrorCode.protoviolation, 'the query is not an http.request');
      }
      if (req._ !== 'http.request')
        return fail(TonErrorCode.protoviolation, 'the query is not an http.request');
      if (req.method !== 'POST') return fail(TonErrorCode.failure, `unsupported method ${req.method}`);
      let path: string;
      try {
        path = new URL(req.url, 'http://worker').pathname;
      } catch {
        return answerStatus(400, `the request target ${JSON.stringify(req.url.slice(0, 100))} is not a URL`);
      }
      let body: Record<string, unknown>;
      try {
        body = validateRequest(path, Buffer.from(req.payload).toString('utf8'));
      } catch (err) {
        // A request no worker would run is the app's mistake: an HTTP 400 it can read, not a worker failure.
        return answerStatus(400, err instanceof Error ? err.message : String(err));
      }
      if (String(body.model).split('@')[0] !== this.modelName) {
        return answerStatus(400, `this worker serves ${this.modelName}, not ${String(body.model)}`);
      }
      // Usage can never exceed what the client reserved for: the answer is capped at the max_tokens the
      // reservation assumed (the reference's default of 1000 when the request names none).
      if (body.max_tokens === undefined && body.max_completion_tokens === undefined) {
        body.max_tokens = DEFAULT_MAX_TOKENS;
      }
      if (sealedMaxTokens !== undefined) {
        // The proxy cannot read a sealed body, so it reserved for the header's max_tokens: never answer more.
        for (const k of ['max_tokens', 'max_completion_tokens'] as const) {
          const v = body[k];
          if (v === undefined) continue;
          body[k] = typeof v === 'number' ? Math.min(v, sealedMaxTokens) : sealedMaxTokens;
        }
      }
      let res: Awaited<ReturnType<InferenceEngine['request']>>;
      try {
        const r: Parameters<InferenceEngine['request']>[0] = {
          path: path as '/v1/chat/completions',
          body,
          timeoutMs: Math.max(1, Math.floor(q.timeout * 950)),
        };
        if (signal) r.signal = signal;
        const pending = this.opts.engine.request(r);
        // The answer cipher (an HMAC and a random nonce) is made while the engine computes, not after.
        if (writer) setImmediate(() => writer?.prepare());
        res = await pending;
      } catch (err) {
        const timeout = err instanceof CocoonError && err.code === 'ENGINE_TIMEOUT';
        return fail(
          timeout ? TonErrorCode.timeout : TonErrorCode.failure,
          engineError(err, sealedMaxTokens !== undefined),
        );
      }
      const head: TlConstructors['http.response'] = {
        _: 'http.response',
        http_version: 'HTTP/1.1',
        status_code: res.status,
        reason: res.status === 200 ? 'OK' : 'Error',
        headers: [
          { _: 'http.header', name: 'Content-Type', value: res.contentType },
          { _: 'http.header', name: 'Transfer-Encoding', value: 'chunked' },
          { _: 'http.header', name: 'X-Cocoon-Worker-Start', value: start.toFixed(6) },
        ],
        payload: new Uint8Array(0),
      };
      status = head.status_code;
      const stream = res.body[Symbol.asyncIterator]();
      try {
        // The head waits for the engine's first bytes and carries them: one message (and, sealed, one cipher) less
        // for every answer; the app sees nothing sooner either way. An engine failing before them is retried.
        let next = await stream.next();
        while (!next.done && next.value.length === 0) next = await stream.next();
        if (!next.done) {
          head.payload = next.value;
          chain.push(next.value);
        }
        await send({ _: 'proxy.queryAnswerEx', request_id: q.request_id, answer: encodeTl(head), flags: 0 });
        for (next = await stream.next(); !next.done; next = await stream.next()) {
          const chunk = next.value;
          if (chunk.length === 0) continue;
          chain.push(chunk);
          await send({ _: 'proxy.queryAnswerPartEx', request_id: q.request_id, answer: chunk, flags: 0 });
        }
        const f = await res.final;
        const u = f.usage;
        const tokens = adjustTokens(
          {
            prompt: BigInt(u.prompt_tokens),
            cached: BigInt(u.prompt_tokens_details?.cached_tokens ?? 0),
            completion: BigInt(u.completion_tokens),
            reasoning: BigInt(u.completion_tokens_details?.reasoning_tokens ?? 0),
          },
          coefficient,
          this.opts.multipliers,
        );
        await sendReceipt(tokens);
        await send({
          _: 'proxy.queryAnswerPartEx',
          request_id: q.request_id,
          answer: enc.encode(''),
          flags: 1,
          final_info: finalInfo(tokens),
        });
        return tokens;
      } catch (err) {
        // The error message ends the answer (before its head, the proxy may retry it elsewhere); nothing was counted
        // for an unfinished answer.
        return fail(TonErrorCode.failure, engineError(err, sealedMaxTokens !== undefined));
      } finally {
        // Stopped early (an error, the client gone): the engine's answer is cancelled.
        void stream.return?.(undefined);
      }
    } finally {
      this.active--;
    }
  }
}
