import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { TlError } from '../errors.ts';

/** A type expression as written in a field: `int`, `(vector int256)` → `{ name: 'vector', args: [int256] }`. */
export interface TlTypeExpr {
  name: string;
  args: TlTypeExpr[];
}

/** One field of a combinator; `condition` is set for `flags.N?T` fields. */
export interface TlParam {
  name: string;
  type: TlTypeExpr;
  condition?: { field: string; bit: number };
}

/** A constructor or function declaration of a TL schema. */
export interface TlCombinator {
  kind: 'constructor' | 'function';
  name: string;
  /** Constructor id as an unsigned 32-bit number (explicit `#id` or CRC32 of {@link normalized}). */
  id: number;
  /** Whether the id came from an explicit `name#xxxxxxxx`. */
  explicitId: boolean;
  /** The normalised declaration that is hashed, e.g. `tcp.ping id:long = tcp.Packet`. */
  normalized: string;
  params: TlParam[];
  /** Result type (for constructors: the type they build; for functions: what they return). */
  result: TlTypeExpr;
  /**
   * False for declarations the generic codec cannot encode (built-ins such as `vector {t:Type} # [ t ]`,
   * `int128 4*[ int ]`): they still have ids, but values of those types are handled natively.
   */
  codable: boolean;
}

/** A parsed TL schema: every constructor and function, indexed by name and by id. */
export interface TlSchema {
  readonly combinators: readonly TlCombinator[];
  readonly byName: ReadonlyMap<string, TlCombinator>;
  readonly byId: ReadonlyMap<number, TlCombinator>;
  /** Constructors of each boxed type, by type name (`tcp.Packet` → [tcp.ping, tcp.pong, …]). */
  readonly constructorsOf: ReadonlyMap<string, readonly TlCombinator[]>;
}

/** Types whose values the codec reads and writes natively, never through a combinator. */
export const BUILTIN_TYPES = new Set([
  'int',
  'long',
  'double',
  'string',
  'bytes',
  'int128',
  'int256',
  '#',
  'Bool',
  'true',
  'vector',
  'Vector',
]);

/**
 * Normalises one declaration the way tl-parser hashes it (cocoon-reference.md §2.4): drop `( ) { }`, turn
 * `< >` into spaces, collapse whitespace; the explicit `#id` suffix of the name is not part of the line.
 *
 * @example
 * normalizeDeclaration('rootConfig.pseudo proxy_hashes:(vector int256) = rootConfig.Config')
 * // 'rootConfig.pseudo proxy_hashes:vector int256 = rootConfig.Config'
 */
export function normalizeDeclaration(decl: string): string {
  const noId = decl.trim().replace(/^([A-Za-z0-9_.]+)#[0-9a-fA-F]{1,8}/, '$1');
  return noId
    .replace(/[(){}]/g, '')
    .replace(/[<>]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The constructor id of a normalised declaration: CRC32 (IEEE) as an unsigned number.
 *
 * @example
 * tlId('tcp.ping id:long = tcp.Packet').toString(16) // 'bbe9627c'
 */
export function tlId(normalized: string): number {
  return crc32(Buffer.from(normalized, 'utf8')) >>> 0;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
}

const TOKEN_RE = /\s*([(){}<>[\]=,;]|[^\s(){}<>[\]=,;]+)/y;

function tokenize(decl: string): string[] {
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  for (;;) {
    const start = TOKEN_RE.lastIndex;
    const m = TOKEN_RE.exec(decl);
    if (!m || m[1] === undefined) {
      if (decl.slice(start).trim() !== '') throw new TlError('TL_SCHEMA', `cannot tokenize: ${decl}`);
      return tokens;
    }
    tokens.push(m[1]);
  }
}

class TypeParser {
  private i = 0;
  constructor(private readonly tokens: string[]) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  peek(): string | undefined {
    return this.tokens[this.i];
  }

  next(): string {
    const t = this.tokens[this.i++];
    if (t === undefined) throw new TlError('TL_SCHEMA', 'unexpected end of declaration');
    return t;
  }

  /** One type term: a word, `(expr)`, or `word<expr, …>`. */
  term(): TlTypeExpr {
    const t = this.next();
    if (t === '(') {
      const e = this.application(')');
      this.expect(')');
      return e;
    }
    if (!/^[A-Za-z#][A-Za-z0-9_.#]*$/.test(t)) throw new TlError('TL_SCHEMA', `unexpected '${t}' in a type`);
    if (this.peek() === '<') {
      this.next();
      const args: TlTypeExpr[] = [this.application('>')];
      while (this.peek() === ',') {
        this.next();
        args.push(this.application('>'));
      }
      this.expect('>');
      return { name: t, args };
    }
    return { name: t, args: [] };
  }

  /** `head arg arg …` up to (not including) `end`. */
  application(end: string): TlTypeExpr {
    const head = this.term();
    while (!this.done && this.peek() !== end && this.peek() !== ',') head.args.push(this.term());
    return head;
  }

  expect(t: string): void {
    const got = this.next();
    if (got !== t) throw new TlError('TL_SCHEMA', `expected '${t}', got '${got}'`);
  }
}

function parseParams(tokens: string[]): TlParam[] {
  const params: TlParam[] = [];
  const p = new TypeParser(tokens);
  while (!p.done) {
    const t = p.next();
    const colon = t.indexOf(':');
    if (colon <= 0) throw new TlError('TL_SCHEMA', `unsupported argument '${t}'`);
    const name = t.slice(0, colon);
    let rest = t.slice(colon + 1);
    let condition: TlParam['condition'];
    const cond = /^([A-Za-z_][A-Za-z0-9_]*)\.(\d+)\?(.*)$/.exec(rest);
    if (cond) {
      condition = { field: cond[1]!, bit: Number(cond[2]) };
      rest = cond[3]!;
      if (condition.bit > 31) throw new TlError('TL_SCHEMA', `flag bit out of range in '${t}'`);
    }
    let type: TlTypeExpr;
    if (rest === '') {
      type = p.term();
    } else {
      type = new TypeParser(tokenize(rest)).application('');
    }
    params.push(condition ? { name, type, condition } : { name, type });
  }
  return params;
}

function parseDeclaration(decl: string, kind: TlCombinator['kind']): TlCombinator {
  const normalized = normalizeDeclaration(decl);
  const head = /^([A-Za-z0-9_.]+)(?:#([0-9a-fA-F]{1,8}))?/.exec(decl.trim());
  if (!head) throw new TlError('TL_SCHEMA', `bad declaration: ${decl}`);
  const name = head[1]!;
  const explicitId = head[2] !== undefined;
  const id = explicitId ? Number.parseInt(head[2]!, 16) >>> 0 : tlId(normalized);
  const tokens = tokenize(decl.trim().slice(head[0].length));
  const eq = tokens.lastIndexOf('=');
  if (eq < 0) throw new TlError('TL_SCHEMA', `declaration without '=': ${decl}`);
  let params: TlParam[] = [];
  let codable = true;
  try {
    params = parseParams(tokens.slice(0, eq));
  } catch {
    codable = false;
  }
  const rp = new TypeParser(tokens.slice(eq + 1));
  const result = rp.application('');
  return { kind, name, id, explicitId, normalized, params, result, codable };
}

/**
 * Parses TL schema text (TON dialect) into combinators with their ids.
 *
 * @example
 * const s = parseSchema('tcp.ping id:long = tcp.Packet;');
 * s.byName.get('tcp.ping')?.id // 0xbbe9627c
 */
export function parseSchema(text: string): TlSchema {
  const combinators: TlCombinator[] = [];
  let kind: TlCombinator['kind'] = 'constructor';
  for (const raw of stripComments(text).split(';')) {
    let decl = raw;
    // Section markers may precede a declaration within the same `;`-separated chunk.
    for (;;) {
      const m = /^\s*---\s*(types|functions)\s*---/.exec(decl);
      if (!m) break;
      kind = m[1] === 'functions' ? 'function' : 'constructor';
      decl = decl.slice(m[0].length);
    }
    if (decl.trim() === '') continue;
    // Built-in type declarations such as `int ? = Int` have no id and no encoding.
    if (/^\s*[A-Za-z0-9_.]+\s+\?\s*=/.test(decl)) continue;
    combinators.push(parseDeclaration(decl, kind));
  }
  const byName = new Map<string, TlCombinator>();
  const byId = new Map<number, TlCombinator>();
  const constructorsOf = new Map<string, TlCombinator[]>();
  for (const c of combinators) {
    byName.set(c.name, c);
    byId.set(c.id, c);
    if (c.kind === 'constructor') {
      const list = constructorsOf.get(c.result.name) ?? [];
      list.push(c);
      constructorsOf.set(c.result.name, list);
    }
  }
  return { combinators, byName, byId, constructorsOf };
}

/** Whether a type name denotes a boxed type: its last dotted component starts with a capital letter. */
export function isBoxedTypeName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  const c = last.charCodeAt(0);
  return c >= 65 && c <= 90;
}

/** The text of Cocoon's schema: the reference's `cocoon_api.tl`, then this implementation's `cocoon_ext.tl`. */
export function cocoonSchemaText(): string {
  return [
    readFileSync(new URL('./schema/cocoon_api.tl', import.meta.url), 'utf8'),
    readFileSync(new URL('./schema/cocoon_ext.tl', import.meta.url), 'utf8'),
  ].join('\n');
}

let cocoon: TlSchema | undefined;

/** Cocoon's schema, parsed once. */
export function cocoonSchema(): TlSchema {
  cocoon ??= parseSchema(cocoonSchemaText());
  return cocoon;
}
