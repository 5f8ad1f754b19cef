// What a worker accepts from the network (cocoon-reference.md §6.3, plus tools, tool_choice, response_format,
// stream_options, chat_template_kwargs and seed): a JSON object without duplicate keys, only known fields, each
// of the right type; then the rewrites that make usage always come back.

import { CocoonError } from '../errors.ts';

/** A request body the worker refuses; the message says which field and why. */
export class RequestValidationError extends CocoonError {}

const bad = (detail: string) => new RequestValidationError('BAD_REQUEST', detail);

/**
 * JSON.parse, refusing duplicate keys in any object (JSON.parse silently keeps the last one, so two parties could
 * read the same body differently).
 */
export function parseJsonStrict(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('the body is not JSON');
  }
  // The text is valid JSON: a light scan finds the keys of every object.
  const stack: { keys: Set<string>; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) throw bad(`duplicate key ${JSON.stringify(key)}`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: new Set(), expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack.at(-1);
      if (top && top.keys.size > 0) top.expectKey = true;
    }
  }
  return value;
}

type Check = (v: unknown, name: string) => void;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const num =
  (min: number, max: number): Check =>
  (v, n) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      throw bad(`${n} must be a number in [${min}, ${max}]`);
  };
const uint =
  (min = 0): Check =>
  (v, n) => {
    if (!isInt(v) || v < min) throw bad(`${n} must be an integer ≥ ${min}`);
  };
const bool: Check = (v, n) => {
  if (typeof v !== 'boolean') throw bad(`${n} must be true or false`);
};
const str: Check = (v, n) => {
  if (typeof v !== 'string') throw bad(`${n} must be a string`);
};
const obj: Check = (v, n) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${n} must be an object`);
};
const arr: Check = (v, n) => {
  if (!Array.isArray(v)) throw bad(`${n} must be an array`);
};
const stop: Check = (v, n) => {
  if (v === null || typeof v === 'string') return;
  if (!Array.isArray(v) || v.length > 4 || v.some((s) => typeof s !== 'string'))
    throw bad(`${n} must be a string or up to 4 strings`);
};
const streamOptions: Check = (v, n) => {
  obj(v, n);
  for (const [k, x] of Object.entries(v as object)) {
    if (k !== 'include_usage' && k !== 'include_obfuscation') throw bad(`${n}.${k} is not allowed`);
    bool(x, `${n}.${k}`);
  }
};
const toolChoice: Check = (v, n) => {
  if (typeof v === 'string') return;
  obj(v, n);
};
const prompt: Check = (v, n) => {
  if (typeof v === 'string') return;
  if (!Array.isArray(v) || v.length === 0) throw bad(`${n} must be a string or a non-empty array`);
};
const messages: Check = (v, n) => {
  if (!Array.isArray(v) || v.length === 0) throw bad(`${n} must be a non-empty array`);
  v.forEach((m, i) => {
    obj(m, `${n}[${i}]`);
    if (typeof (m as { role?: unknown }).role !== 'string') throw bad(`${n}[${i}].role must be a string`);
  });
};

const COMMON: Record<string, Check> = {
  model: str,
  frequency_penalty: num(-2, 2),
  presence_penalty: num(-2, 2),
  max_tokens: uint(),
  n: uint(1),
  seed: (v, n) => {
    if (!isInt(v)) throw bad(`${n} must be an integer`);
  },
  stop,
  stream: bool,
  stream_options: streamOptions,
  temperature: num(0, 2),
  top_p: num(0, 1),
};

const CHAT: Record<string, Check> = {
  ...COMMON,
  messages,
  max_completion_tokens: uint(),
  parallel_tool_calls: bool,
  prediction: obj,
  reasoning_effort: str,
  response_format: obj,
  top_logprobs: uint(),
  verbosity: str,
  chat_template_kwargs: obj,
  tools: arr,
  tool_choice: toolChoice,
};

const COMPLETIONS: Record<string, Check> = {
  ...COMMON,
  prompt,
  best_of: uint(1),
  echo: bool,
  suffix: str,
  skip_special_tokens: bool,
};

export type ApiPath = '/v1/chat/completions' | '/v1/completions';

/**
 * Validates a request body for the engine and applies the worker's rewrites: `stream_options` without `stream`
 * means streaming, and a stream always asks for usage. Throws RequestValidationError.
 *
 * @example
 * const body = validateRequest('/v1/chat/completions', rawText);
 */
export function validateRequest(path: string, text: string): Record<string, unknown> {
  const rules = path === '/v1/chat/completions' ? CHAT : path === '/v1/completions' ? COMPLETIONS : undefined;
  if (!rules) throw new RequestValidationError('UNSUPPORTED_METHOD', `unsupported method ${path}`);
  const body = parseJsonStrict(text);
  obj(body, 'the body');
  const o = { ...(body as Record<string, unknown>) };
  if (typeof o.model !== 'string' || o.model === '') throw bad('model is required');
  const required = path === '/v1/chat/completions' ? 'messages' : 'prompt';
  if (o[required] === undefined) throw bad(`${required} is required`);
  for (const [k, v] of Object.entries(o)) {
    const check = rules[k];
    if (!check) throw bad(`${k} is not allowed`);
    if (v === null && k !== 'stop') throw bad(`${k} must not be null`);
    check(v, k);
  }
  if (o.max_completion_tokens !== undefined) delete o.max_tokens;
  if (o.stream_options !== undefined && o.stream === undefined) o.stream = true;
  if (o.stream === true)
    o.stream_options = { ...((o.stream_options as object | undefined) ?? {}), include_usage: true };
  return o;
}
