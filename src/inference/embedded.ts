// The embedded engine: a GGUF model run in-process on CPU through node-llama-cpp (llama.cpp), answering
// OpenAI chat and legacy completion requests with the same bytes an OpenAI server sends. Evaluation runs on
// llama.cpp's native threads, so the event loop stays free; requests wait in a FIFO queue for a free sequence.

import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { Template } from '@huggingface/jinja';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { EngineError } from '../errors.ts';
import {
  type EngineHealth,
  type EngineRequest,
  type EngineResponse,
  type InferenceEngine,
  type ModelInfo,
  pendingFinal,
} from '../openai/engine.ts';
import type { Usage } from '../openai/stream.ts';
import { FifoSemaphore } from './queue.ts';

export interface EmbeddedEngineOptions {
  /** Path of a GGUF file. */
  modelPath: string;
  /** Name served in `/v1/models` and answers (default: the file name without `.gguf`). */
  modelName?: string;
  /** Threads for evaluation (default 1: on small models more threads are slower on these 2-core machines). */
  threads?: number;
  /** Context window in tokens (default: the model's training context, at most 4096). */
  contextSize?: number;
  /** Requests evaluated at once; the rest wait in a FIFO queue (default 1). */
  parallel?: number;
}

/** An OpenAI error answer, as engines send them. */
class BadRequest extends Error {}

interface Sampling {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop: string[];
}

function num(v: unknown, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new BadRequest(`${name} must be a number between ${min} and ${max}`);
  }
  return v;
}

function int(v: unknown, name: string, min: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new BadRequest(`${name} must be an integer ≥ ${min}`);
  }
  return v;
}

function sampling(body: Record<string, unknown>, maxAvailable: number): Sampling {
  const stopRaw = body.stop;
  let stop: string[] = [];
  if (typeof stopRaw === 'string') stop = [stopRaw];
  else if (Array.isArray(stopRaw) && stopRaw.every((s) => typeof s === 'string') && stopRaw.length <= 4) {
    stop = stopRaw as string[];
  } else if (stopRaw !== undefined && stopRaw !== null)
    throw new BadRequest('stop must be a string or up to 4 strings');
  if (int(body.n, 'n', 1, 1) !== 1) throw new BadRequest('n > 1 is not supported by the embedded engine');
  const requested = int(body.max_completion_tokens ?? body.max_tokens, 'max_tokens', 0, maxAvailable);
  return {
    maxTokens: Math.min(requested, maxAvailable),
    temperature: num(body.temperature, 'temperature', 0, 2, 1),
    topP: num(body.top_p, 'top_p', 0, 1, 1),
    seed: int(body.seed, 'seed', 0, Math.floor(Math.random() * 2 ** 31)),
    stop: stop.filter((s) => s.length > 0),
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => {
        const part = p as { type?: unknown; text?: unknown };
        if (part.type === 'text' && typeof part.text === 'string') return part.text;
        throw new BadRequest('only text content parts are supported by the embedded engine');
      })
      .join('');
  }
  if (content === null || content === undefined) return '';
  throw new BadRequest('message content must be a string or text parts');
}

/** Where generated text must stop: the earliest stop string, if any. */
function stopAt(text: string, stops: string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** Characters that might still become a stop string once more text arrives: held back from the stream. */
function heldBack(text: string, stops: string[]): number {
  let hold = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > 0; k--) {
      if (text.endsWith(s.slice(0, k))) {
        hold = Math.max(hold, k);
        break;
      }
    }
  }
  return hold;
}

const enc = (s: string) => Buffer.from(s);

/**
 * @example
 * const engine = await EmbeddedEngine.load({ modelPath: 'model/cocoon-demo.gguf' });
 * const res = await engine.request({ path: '/v1/chat/completions', body: { model: 'x', messages, stream: true } });
 * for await (const chunk of res.body) process.stdout.write(chunk);
 */
export class EmbeddedEngine implements InferenceEngine {
  readonly kind = 'embedded' as const;
  readonly name: string;
  private readonly free: LlamaContextSequence[];
  private readonly queue: FifoSemaphore;
  private readonly template: Template | undefined;
  private closed = false;

  private constructor(
    private readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    opts: EmbeddedEngineOptions,
    readonly loadMs: number,
  ) {
    this.name = opts.modelName ?? basename(opts.modelPath).replace(/\.gguf$/i, '');
    const n = opts.parallel ?? 1;
    this.free = Array.from({ length: n }, () => context.getSequence());
    this.queue = new FifoSemaphore(n);
    const tpl = model.fileInfo.metadata.tokenizer?.chat_template;
    this.template = typeof tpl === 'string' ? new Template(tpl) : undefined;
  }

  /** Loads a GGUF model on CPU. Never downloads or compiles: the prebuilt binaries ship in the npm package. */
  static async load(opts: EmbeddedEngineOptions): Promise<EmbeddedEngine> {
    const t0 = performance.now();
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: opts.modelPath });
    const contextSize = opts.contextSize ?? Math.min(model.trainContextSize, 4096);
    const context = await model.createContext({
      contextSize,
      sequences: opts.parallel ?? 1,
      threads: opts.threads ?? 1,
    });
    return new EmbeddedEngine(llama, model, context, opts, performance.now() - t0);
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Tokens of a text as the model's tokenizer splits it (special tokens parsed). */
  tokenize(text: string): Token[] {
    return this.model.tokenize(text, true);
  }

  /** The prompt a chat request becomes: the model's own chat template applied to the messages. */
  renderChat(body: Record<string, unknown>): string {
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      throw new BadRequest('messages must be a non-empty array');
    const messages = (body.messages as unknown[]).map((m) => {
      const o = (m ?? {}) as { role?: unknown; content?: unknown };
      if (typeof o.role !== 'string') throw new BadRequest('every message needs a role');
      return { role: o.role, content: textOf(o.content) };
    });
    if (!this.template) throw new BadRequest('this model has no chat template: use /v1/completions');
    const kwargs =
      typeof body.chat_template_kwargs === 'object' && body.chat_template_kwargs !== null
        ? body.chat_template_kwargs
        : {};
    const vars: Record<string, unknown> = {
      ...kwargs,
      messages,
      add_generation_prompt: true,
      bos_token: this.tokenText(this.model.tokens.bos),
      eos_token: this.tokenText(this.model.tokens.eos),
    };
    if (Array.isArray(body.tools)) vars.tools = body.tools;
    return this.template.render(vars);
  }

  private tokenText(t: Token | null): string {
    return t === null ? '' : this.model.detokenize([t], true);
  }

  async models(): Promise<ModelInfo[]> {
    return [{ id: this.name, ownedBy: 'cocoon' }];
  }

  async health(): Promise<EngineHealth> {
    return this.closed
      ? { ok: false, models: [], latencyMs: 0, error: 'closed' }
      : { ok: true, models: [this.name], latencyMs: 0 };
  }

  async request(req: EngineRequest): Promise<EngineResponse> {
    const body = req.body;
    const stream = body.stream === true || (body.stream_options !== undefined && body.stream === undefined);
    const chatApi = req.path === '/v1/chat/completions';
    let promptTokens: Token[];
    let s: Sampling;
    try {
      if (this.closed) throw new BadRequest('the engine is closed');
      let prompt: string;
      if (chatApi) prompt = this.renderChat(body);
      else {
        const p = body.prompt;
        if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') prompt = p[0];
        else if (typeof p === 'string') prompt = p;
        else throw new BadRequest('prompt must be a string (or an array of one string)');
      }
      promptTokens = this.tokenize(prompt);
      if (promptTokens.length === 0) throw new BadRequest('the prompt is empty');
      const room = this.contextSize - promptTokens.length;
      if (room <= 0)
        throw new BadRequest(
          `the prompt has ${promptTokens.length} tokens; the context holds ${this.contextSize}`,
        );
      s = sampling(body, room);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      const error = JSON.stringify({ error: { message: err.message, type: 'invalid_request_error' } });
      return {
        status: 400,
        contentType: 'application/json',
        stream: false,
        body: (async function* () {
          yield enc(error);
        })(),
        final: Promise.resolve({
          usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
          usageSource: 'engine',
          firstByteMs: 0,
        }),
      };
    }
    const id = `${chatApi ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.name;
    const includeUsage = stream;
    const t0 = performance.now();
    const { promise: final, resolve: resolveFinal, reject: rejectFinal } = pendingFinal();
    const self = this;
    const sse = (o: unknown) => enc(`data: ${JSON.stringify(o)}\n\n`);
    const chunk = (delta: Record<string, unknown> | string, finish: string | null) =>
      chatApi
        ? {
            id,
            object: 'chat.completion.chunk',
            created,
            model,
            choices: [{ index: 0, delta, finish_reason: finish }],
          }
        : {
            id,
            object: 'text_completion',
            created,
            model,
            choices: [{ index: 0, text: delta, finish_reason: finish }],
          };

    async function* run(): AsyncGenerator<Uint8Array> {
      let firstByteMs = -1;
      let done = false;
      const mark = () => {
        if (firstByteMs < 0) firstByteMs = performance.now() - t0;
      };
      const release = await self.queue.acquire(req.signal);
      const seq = self.free.pop() as LlamaContextSequence;
      try {
        await seq.clearHistory();
        if (stream && chatApi) {
          mark();
          yield sse(chunk({ role: 'assistant', content: '' }, null));
        }
        const generated: Token[] = [];
        let pendingTokens: Token[] = [];
        let text = '';
        let sent = 0;
        let finish: 'stop' | 'length' = 'length';
        if (s.maxTokens > 0) {
          const opts = { temperature: s.temperature, topP: s.topP, seed: s.seed, yieldEogToken: true };
          for await (const token of seq.evaluate(promptTokens, opts)) {
            if (req.signal?.aborted) break;
            if (self.model.isEogToken(token)) {
              finish = 'stop';
              break;
            }
            generated.push(token);
            // Text of the new tokens only (O(1) per token), with the previous ones as context for spacing;
            // tokens that end inside a UTF-8 character wait for the rest of it.
            pendingTokens.push(token);
            const before = generated.slice(
              Math.max(0, generated.length - pendingTokens.length - 8),
              -pendingTokens.length,
            );
            const piece = self.model.detokenize(pendingTokens, false, before);
            if (piece.endsWith('\ufffd') && pendingTokens.length < 4 && generated.length < s.maxTokens)
              continue;
            pendingTokens = [];
            text += piece;
            const cut = stopAt(text, s.stop);
            if (cut >= 0) {
              text = text.slice(0, cut);
              finish = 'stop';
            }
            // Hold back what may still become a stop string.
            const ready = text.length - (cut >= 0 ? 0 : heldBack(text, s.stop));
            if (stream && ready > sent) {
              mark();
              yield sse(
                chunk(chatApi ? { content: text.slice(sent, ready) } : text.slice(sent, ready), null),
              );
              sent = ready;
            }
            if (cut >= 0 || generated.length >= s.maxTokens) break;
          }
        }
        if (req.signal?.aborted) throw new EngineError('CANCELLED', 'the request was cancelled');
        const usage: Usage = {
          prompt_tokens: promptTokens.length,
          completion_tokens: generated.length,
          total_tokens: promptTokens.length + generated.length,
        };
        mark();
        if (stream) {
          if (text.length > sent)
            yield sse(chunk(chatApi ? { content: text.slice(sent) } : text.slice(sent), null));
          yield sse(chunk(chatApi ? {} : '', finish));
          if (includeUsage)
            yield sse({ id, object: chunk('', null).object, created, model, choices: [], usage });
          yield enc('data: [DONE]\n\n');
        } else {
          const choice = chatApi
            ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }
            : { index: 0, text, finish_reason: finish };
          yield enc(
            JSON.stringify({
              id,
              object: chatApi ? 'chat.completion' : 'text_completion',
              created,
              model,
              choices: [choice],
              usage,
            }),
          );
        }
        done = true;
        resolveFinal({ usage, usageSource: 'engine', finishReason: finish, firstByteMs });
      } catch (err) {
        done = true;
        rejectFinal(err);
        throw err;
      } finally {
        if (!done) rejectFinal(new EngineError('CANCELLED', 'the answer was not read to its end'));
        self.free.push(seq);
        release();
      }
    }
    return {
      status: 200,
      contentType: stream ? 'text/event-stream' : 'application/json',
      stream,
      body: run(),
      final,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
