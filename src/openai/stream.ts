// Incremental parsing of what an OpenAI-compatible engine sends back: Server-Sent Events (`data: {...}` events,
// `data: [DONE]`), newline-delimited JSON, or one JSON body. Bytes are parsed as they arrive so they can be
// forwarded unbuffered; the parser only looks, it never changes what is forwarded.

import { EngineError } from '../errors.ts';

/** One parsed value, the SSE end marker, or an SSE event left unparsed (see `parseIf`). */
export type StreamItem = { kind: 'json'; value: unknown } | { kind: 'done' } | { kind: 'raw'; data: string };

const MAX_PENDING = 8 * 1024 * 1024;

/**
 * Parses a response body fed in arbitrary pieces. The format is decided by the first non-blank byte: `{` or `[`
 * means JSON values (one body, or NDJSON, or values simply concatenated); anything else is SSE.
 *
 * @example
 * const p = new ResponseStreamParser();
 * for await (const chunk of body) for (const item of p.push(chunk)) handle(item);
 * for (const item of p.end()) handle(item);
 */
export class ResponseStreamParser {
  /**
   * @param opts.parseIf SSE events whose data fails this test come back as `raw` instead of parsed: a worker only
   * needs the events that carry usage, and parsing every token's event costs more than relaying it.
   */
  constructor(private readonly opts: { parseIf?: (data: string) => boolean } = {}) {}

  private mode: 'unknown' | 'sse' | 'json' = 'unknown';
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private sseData: string[] = [];

  push(chunk: Uint8Array): StreamItem[] {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch (err) {
      throw new EngineError('ENGINE_BAD_RESPONSE', 'the engine sent bytes that are not UTF-8', {
        cause: err,
      });
    }
    this.pending += text;
    if (this.pending.length > MAX_PENDING) {
      throw new EngineError('ENGINE_BAD_RESPONSE', `an unterminated value exceeds ${MAX_PENDING} bytes`);
    }
    return this.drain(false);
  }

  /** Call when the body ends; throws if what is left is incomplete. */
  end(): StreamItem[] {
    try {
      this.pending += this.decoder.decode();
    } catch (err) {
      throw new EngineError('ENGINE_BAD_RESPONSE', 'the engine sent bytes that are not UTF-8', {
        cause: err,
      });
    }
    const items = this.drain(true);
    if (this.mode === 'sse') {
      if (this.pending.trim() !== '') items.push(...this.sseLine(this.pending.replace(/\r$/, '')));
      this.pending = '';
      items.push(...this.sseDispatch());
    } else if (this.pending.trim() !== '') {
      throw new EngineError('ENGINE_BAD_RESPONSE', 'the response ends inside a JSON value');
    }
    return items;
  }

  private drain(final: boolean): StreamItem[] {
    if (this.mode === 'unknown') {
      const m = /\S/.exec(this.pending);
      if (!m) return [];
      this.mode = m[0] === '{' || m[0] === '[' ? 'json' : 'sse';
    }
    return this.mode === 'json' ? this.drainJson(final) : this.drainSse();
  }

  private drainSse(): StreamItem[] {
    const out: StreamItem[] = [];
    for (;;) {
      const nl = this.pending.indexOf('\n');
      if (nl < 0) break;
      const line = this.pending.slice(0, nl).replace(/\r$/, '');
      this.pending = this.pending.slice(nl + 1);
      out.push(...this.sseLine(line));
    }
    return out;
  }

  private sseLine(line: string): StreamItem[] {
    if (line === '') return this.sseDispatch();
    if (line.startsWith(':')) return []; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.sseData.push(value);
    else if (field !== 'event' && field !== 'id' && field !== 'retry') {
      throw new EngineError('ENGINE_BAD_RESPONSE', `not an SSE line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    return [];
  }

  private sseDispatch(): StreamItem[] {
    if (this.sseData.length === 0) return [];
    const data = this.sseData.join('\n');
    this.sseData = [];
    if (data.trim() === '[DONE]') return [{ kind: 'done' }];
    if (this.opts.parseIf && !this.opts.parseIf(data)) return [{ kind: 'raw', data }];
    try {
      return [{ kind: 'json', value: JSON.parse(data) as unknown }];
    } catch (err) {
      throw new EngineError(
        'ENGINE_BAD_RESPONSE',
        `an SSE event is not JSON: ${JSON.stringify(data.slice(0, 80))}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Splits complete top-level JSON values off the buffer with a string-aware depth scan. */
  private drainJson(final: boolean): StreamItem[] {
    const out: StreamItem[] = [];
    const s = this.pending;
    let start = 0;
    let i = 0;
    while (i < s.length) {
      while (i < s.length && /\s/.test(s[i] as string)) i++;
      start = i;
      if (i >= s.length) break;
      const c = s[i];
      if (c !== '{' && c !== '[') {
        throw new EngineError(
          'ENGINE_BAD_RESPONSE',
          `expected a JSON object, got ${JSON.stringify(s.slice(i, i + 40))}`,
        );
      }
      let depth = 0;
      let inString = false;
      let end = -1;
      for (let j = i; j < s.length; j++) {
        const ch = s[j];
        if (inString) {
          if (ch === '\\') j++;
          else if (ch === '"') inString = false;
          continue;
        }
        if (ch === '"') inString = true;
        else if (ch === '{' || ch === '[') depth++;
        else if (ch === '}' || ch === ']') {
          depth--;
          if (depth === 0) {
            end = j + 1;
            break;
          }
        }
      }
      if (end < 0) break;
      try {
        out.push({ kind: 'json', value: JSON.parse(s.slice(i, end)) as unknown });
      } catch (err) {
        throw new EngineError('ENGINE_BAD_RESPONSE', 'the engine sent malformed JSON', { cause: err });
      }
      i = end;
      start = i;
    }
    this.pending = s.slice(start);
    if (final && this.pending.trim() !== '') {
      throw new EngineError('ENGINE_BAD_RESPONSE', 'the response ends inside a JSON value');
    }
    return out;
  }
}

/** Token counts as OpenAI reports them. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

const uint = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;

/**
 * Keeps the largest token counts seen in any value's `usage` (as the reference's counter does): prompt, cached,
 * completion, reasoning. Only non-negative integers count.
 */
export class UsageTracker {
  prompt: number | undefined;
  cached: number | undefined;
  completion: number | undefined;
  reasoning: number | undefined;

  observe(value: unknown): void {
    if (typeof value !== 'object' || value === null) return;
    const u = (value as { usage?: unknown }).usage;
    if (typeof u !== 'object' || u === null) return;
    const o = u as Record<string, unknown>;
    const max = (a: number | undefined, b: number | undefined) => (b === undefined ? a : Math.max(a ?? 0, b));
    this.prompt = max(this.prompt, uint(o.prompt_tokens));
    this.completion = max(this.completion, uint(o.completion_tokens));
    const pd = o.prompt_tokens_details as Record<string, unknown> | undefined;
    this.cached = max(this.cached, uint(pd?.cached_tokens));
    const cd = o.completion_tokens_details as Record<string, unknown> | undefined;
    this.reasoning = max(this.reasoning, uint(cd?.reasoning_tokens) ?? uint(o.reasoning_tokens));
  }

  get seen(): boolean {
    return this.prompt !== undefined && this.completion !== undefined;
  }

  usage(): Usage {
    const u: Usage = {
      prompt_tokens: this.prompt ?? 0,
      completion_tokens: this.completion ?? 0,
      total_tokens: (this.prompt ?? 0) + (this.completion ?? 0),
    };
    if (this.cached !== undefined) u.prompt_tokens_details = { cached_tokens: this.cached };
    if (this.reasoning !== undefined) u.completion_tokens_details = { reasoning_tokens: this.reasoning };
    return u;
  }
}
