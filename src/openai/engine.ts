// What a worker runs requests on: any OpenAI-compatible engine over HTTP (vLLM, SGLang, llama.cpp server,
// Ollama's /v1), or the embedded model (src/inference). Both answer with the bytes an OpenAI server sends
// (SSE when streaming, one JSON body otherwise), forwarded as they come, plus the final token counts.

import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { EngineError } from '../errors.ts';
import { ResponseStreamParser, type Usage, UsageTracker } from './stream.ts';

export type EnginePath = '/v1/chat/completions' | '/v1/completions';

export interface EngineRequest {
  path: EnginePath;
  /** The OpenAI request body. */
  body: Record<string, unknown>;
  /** Aborting it (the client went away) aborts the engine's work. */
  signal?: AbortSignal;
  /** Limit for the whole request, ms (default 120 000, the reference's default request timeout). */
  timeoutMs?: number;
}

/** How the token counts of a finished request were obtained. */
export type UsageSource = 'engine' | 'tokenizer' | 'estimate';

export interface EngineFinal {
  usage: Usage;
  /**
   * `engine`: the engine's own usage; `tokenizer`: counted with the model's tokenizer because the engine sent
   * none; `estimate`: no usage and no tokenizer, ~4 characters per token.
   */
  usageSource: UsageSource;
  finishReason?: string;
  /** Milliseconds from sending the request to the first body byte. */
  firstByteMs: number;
}

export interface EngineResponse {
  status: number;
  contentType: string;
  stream: boolean;
  /** The body, chunk by chunk as the engine sends it. Stopping early cancels the engine request. */
  body: AsyncIterable<Uint8Array>;
  /** Settles once the body has been read to its end (or failed, or was cancelled). */
  final: Promise<EngineFinal>;
}

export interface ModelInfo {
  id: string;
  ownedBy?: string;
}

export interface EngineHealth {
  ok: boolean;
  models: string[];
  latencyMs: number;
  error?: string;
}

/** The interface both engine kinds implement. */
export interface InferenceEngine {
  readonly kind: 'http' | 'embedded';
  models(): Promise<ModelInfo[]>;
  health(): Promise<EngineHealth>;
  request(req: EngineRequest): Promise<EngineResponse>;
  close(): Promise<void>;
}

/** Counts tokens with a model's tokenizer, for engines that report no usage. */
export interface TokenCounter {
  count(text: string): number | Promise<number>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

/** The `final` of an EngineResponse, settled by the code that produces its body. */
export function pendingFinal(): {
  promise: Promise<EngineFinal>;
  resolve: (f: EngineFinal) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (f: EngineFinal) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<EngineFinal>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // the caller may only read the body; the error also surfaces there
  return { promise, resolve, reject };
}

/**
 * The body as it is sent: `stream_options.include_usage` forced when streaming (so usage always arrives), and
 * `stream_options` without `stream` turned into a streaming request, as the reference worker does. Everything
 * else, `tools`, `tool_choice`, `response_format`, `chat_template_kwargs` included, passes through.
 */
export function engineBody(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  if (out.stream_options !== undefined && out.stream === undefined) out.stream = true;
  if (out.stream === true) {
    const opts =
      typeof out.stream_options === 'object' && out.stream_options !== null ? out.stream_options : {};
    out.stream_options = { ...opts, include_usage: true };
  }
  return out;
}

/** Text of the prompt, for counting: chat messages' contents or the completion prompt. */
export function promptText(path: EnginePath, body: Record<string, unknown>): string {
  if (path === '/v1/completions') {
    const p = body.prompt;
    return Array.isArray(p) ? p.map(String).join('\n') : String(p ?? '');
  }
  const msgs = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  return msgs
    .map((m) => {
      const o = (m ?? {}) as { role?: unknown; content?: unknown };
      const content = Array.isArray(o.content)
        ? o.content.map((part) => String((part as { text?: unknown })?.text ?? '')).join('')
        : String(o.content ?? '');
      return `${String(o.role ?? '')}\n${content}`;
    })
    .join('\n');
}

const FINISHED = /"finish_reason"\s*:\s*"/;

/** Collects the generated text and finish reason from chunks or a whole response, for counting. */
class CompletionText {
  text = '';
  finishReason: string | undefined;

  observe(value: unknown): void {
    const choices = (value as { choices?: unknown })?.choices;
    if (!Array.isArray(choices)) return;
    for (const c of choices as Record<string, unknown>[]) {
      const piece = (o: unknown) => {
        if (typeof o !== 'object' || o === null) return;
        const m = o as Record<string, unknown>;
        for (const k of ['content', 'reasoning_content']) if (typeof m[k] === 'string') this.text += m[k];
        if (Array.isArray(m.tool_calls)) {
          for (const t of m.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
            if (typeof t.function?.name === 'string') this.text += t.function.name;
            if (typeof t.function?.arguments === 'string') this.text += t.function.arguments;
          }
        }
      };
      piece(c.delta);
      piece(c.message);
      if (typeof c.text === 'string') this.text += c.text;
      if (typeof c.finish_reason === 'string') this.finishReason = c.finish_reason;
    }
  }
}

async function counted(
  tracker: UsageTracker,
  counter: TokenCounter | undefined,
  prompt: string,
  completion: string,
): Promise<{ usage: Usage; usageSource: UsageSource }> {
  if (tracker.seen) return { usage: tracker.usage(), usageSource: 'engine' };
  const count = counter ? (t: string) => counter.count(t) : (t: string) => Math.ceil(t.length / 4);
  const p = await count(prompt);
  const c = await count(completion);
  return {
    usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c },
    usageSource: counter ? 'tokenizer' : 'estimate',
  };
}

export interface HttpEngineOptions {
  /** Base URL of the engine, e.g. `http://127.0.0.1:8000` (a trailing `/v1` is accepted). */
  url: string;
  apiKey?: string;
  /** The model's tokenizer, used only when the engine reports no usage. */
  tokenizer?: TokenCounter;
  healthTimeoutMs?: number;
}

/**
 * An OpenAI-compatible engine over HTTP.
 *
 * @example
 * const engine = new HttpEngine({ url: 'http://127.0.0.1:8000' });
 * const res = await engine.request({ path: '/v1/chat/completions', body, signal });
 * for await (const chunk of res.body) client.write(chunk);
 * const { usage, usageSource } = await res.final;
 */
export class HttpEngine implements InferenceEngine {
  readonly kind = 'http' as const;
  private readonly base: string;
  private readonly agent: Agent;
  private readonly https: boolean;

  constructor(private readonly opts: HttpEngineOptions) {
    this.base = opts.url.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.https = this.base.startsWith('https:');
    const pool = { keepAlive: true, maxSockets: 1024 };
    this.agent = this.https ? new HttpsAgent(pool) : new Agent(pool);
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream, application/json',
    };
    if (this.opts.apiKey) h.authorization = `Bearer ${this.opts.apiKey}`;
    return h;
  }

  async models(): Promise<ModelInfo[]> {
    const signal = AbortSignal.timeout(this.opts.healthTimeoutMs ?? 10_000);
    let res: HttpAnswer;
    try {
      res = await this.send('GET', '/v1/models', undefined, signal);
    } catch (err) {
      throw new EngineError('ENGINE_UNREACHABLE', `GET ${this.base}/v1/models: ${errText(err)}`, {
        cause: err,
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new EngineError('ENGINE_UNREACHABLE', `GET ${this.base}/v1/models: ${errText(err)}`, {
        cause: err,
      });
    }
    if (res.status < 200 || res.status > 299) {
      throw new EngineError('ENGINE_HTTP_ERROR', `GET /v1/models: HTTP ${res.status}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new EngineError('ENGINE_BAD_RESPONSE', 'GET /v1/models: not JSON', { cause: err });
    }
    const data = (body as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new EngineError('ENGINE_BAD_RESPONSE', 'GET /v1/models: no data list');
    return data
      .filter((m): m is { id: string; owned_by?: unknown } => typeof (m as { id?: unknown })?.id === 'string')
      .map((m) => (typeof m.owned_by === 'string' ? { id: m.id, ownedBy: m.owned_by } : { id: m.id }));
  }

  /**
   * One HTTP exchange over the engine's keep-alive pool (node:http: a worker makes one request per inference, and
   * fetch costs more per request than the whole relay).
   */
  private send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = this.headers();
      if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
      const send = this.https ? httpsRequest : httpRequest;
      const req = send(`${this.base}${path}`, { method, headers, agent: this.agent, signal }, (res) => {
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: res,
          text: async () => {
            let t = '';
            for await (const c of res as AsyncIterable<Buffer>) t += c.toString('utf8');
            return t;
          },
        });
      });
      req.once('error', reject);
      req.end(body);
    });
  }

  async health(): Promise<EngineHealth> {
    const t0 = performance.now();
    try {
      const models = (await this.models()).map((m) => m.id);
      return { ok: true, models, latencyMs: performance.now() - t0 };
    } catch (err) {
      return { ok: false, models: [], latencyMs: performance.now() - t0, error: errText(err) };
    }
  }

  async request(req: EngineRequest): Promise<EngineResponse> {
    const body = engineBody(req.body);
    const stream = body.stream === true;
    const ctl = new AbortController();
    const timeoutMs = req.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let why: 'timeout' | 'cancelled' | undefined;
    const timer = setTimeout(() => {
      why = 'timeout';
      ctl.abort();
    }, timeoutMs);
    timer.unref();
    const onAbort = () => {
      why ??= 'cancelled';
      ctl.abort();
    };
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    const failure = (err: unknown, phase: string): EngineError => {
      if (err instanceof EngineError) return err;
      if (why === 'timeout')
        return new EngineError('ENGINE_TIMEOUT', `no complete answer in ${timeoutMs} ms`);
      if (why === 'cancelled') return new EngineError('CANCELLED', 'the request was cancelled');
      return new EngineError(
        phase === 'connect' ? 'ENGINE_UNREACHABLE' : 'ENGINE_DISCONNECTED',
        `${phase}: ${errText(err)}`,
        { cause: err },
      );
    };
    const t0 = performance.now();
    let res: HttpAnswer;
    try {
      res = await this.send('POST', req.path, JSON.stringify(body), ctl.signal);
    } catch (err) {
      cleanup();
      throw failure(err, 'connect');
    }
    const contentType = res.contentType || 'application/json';
    const { promise: final, resolve: resolveFinal, reject: rejectFinal } = pendingFinal();
    const ok = res.status >= 200 && res.status <= 299;
    const counter = this.opts.tokenizer;
    const path = req.path;
    const src = res.body;
    async function* read(): AsyncGenerator<Uint8Array> {
      // Only events that may carry usage or a finish reason are parsed as they pass; the others are parsed at
      // the end, and only if the engine sent no usage and the text must be counted.
      const parser = new ResponseStreamParser({ parseIf: (d) => d.includes('"usage"') || FINISHED.test(d) });
      const tracker = new UsageTracker();
      const text = new CompletionText();
      const unparsed: string[] = [];
      let firstByteMs = -1;
      let finished = false;
      const observe = (items: ReturnType<ResponseStreamParser['push']>) => {
        for (const item of items) {
          if (item.kind === 'raw') unparsed.push(item.data);
          if (item.kind !== 'json') continue;
          tracker.observe(item.value);
          text.observe(item.value);
        }
      };
      const see = (chunk: Uint8Array) => {
        if (ok) observe(parser.push(chunk));
      };
      try {
        if (src) {
          for await (const chunk of src as AsyncIterable<Uint8Array>) {
            if (firstByteMs < 0) firstByteMs = performance.now() - t0;
            see(chunk);
            yield chunk;
          }
        }
        if (ok) {
          observe(parser.end());
          if (!tracker.seen) {
            for (const data of unparsed) {
              try {
                text.observe(JSON.parse(data));
              } catch (err) {
                throw new EngineError('ENGINE_BAD_RESPONSE', 'an SSE event is not JSON', { cause: err });
              }
            }
          }
        }
        const u = ok
          ? await counted(tracker, counter, promptText(path, body), text.text)
          : {
              usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
              usageSource: 'engine' as const,
            };
        const f: EngineFinal = { ...u, firstByteMs: Math.max(0, firstByteMs) };
        if (text.finishReason !== undefined) f.finishReason = text.finishReason;
        finished = true;
        resolveFinal(f);
      } catch (err) {
        const e = failure(err, 'reading the answer');
        finished = true;
        rejectFinal(e);
        throw e;
      } finally {
        cleanup();
        if (!finished) {
          // The consumer stopped reading: the client is gone, so the engine's work is cancelled.
          why ??= 'cancelled';
          ctl.abort();
          rejectFinal(new EngineError('CANCELLED', 'the answer was not read to its end'));
        }
      }
    }
    return { status: res.status, contentType, stream, body: read(), final };
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

interface HttpAnswer {
  status: number;
  contentType: string;
  body: AsyncIterable<Uint8Array> & NodeJS.ReadableStream;
  text(): Promise<string>;
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
