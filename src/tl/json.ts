import { TlError } from '../errors.ts';
import type { TlObject } from './codec.ts';
import { isBoxedTypeName, type TlCombinator, type TlSchema, type TlTypeExpr } from './schema.ts';

/**
 * The JSON form of a decoded TL value: objects name their constructor in `_`, 64-bit integers are decimal strings,
 * `bytes`/`int128`/`int256` are base64, `Bool` is true/false, `string` is text, a non-finite double is "NaN",
 * "Infinity" or "-Infinity".
 *
 * @example
 * tlToJson({ _: 'tcp.ping', id: 5n }) // { _: 'tcp.ping', id: '5' }
 */
export function tlToJson(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  // JSON has no NaN or Infinity; a double carries them as the strings "NaN", "Infinity", "-Infinity".
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(tlToJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = tlToJson(x);
    return out;
  }
  return v;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fail(path: string, msg: string): TlError {
  return new TlError('TL_BAD_JSON', `${path || '(top)'}: ${msg}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Turns the JSON form back into a TL value, guided by the schema; `_` may be left out where the type is bare.
 * Unknown fields, missing fields and values of the wrong kind are {@link TlError}s with the path of the value.
 *
 * @example
 * tlFromJson(cocoonSchema(), { _: 'tcp.ping', id: '5' }) // { _: 'tcp.ping', id: 5n }
 */
export function tlFromJson(schema: TlSchema, json: unknown, type?: string): unknown {
  if (type === undefined) {
    if (!isPlainObject(json) || typeof json._ !== 'string') throw fail('', 'expected an object with "_"');
    const c = schema.byName.get(json._);
    if (!c) throw fail('', `unknown constructor '${json._}'`);
    return objectFromJson(schema, c, json, '');
  }
  return valueFromJson(schema, { name: type, args: [] }, json, '');
}

function objectFromJson(
  schema: TlSchema,
  c: TlCombinator,
  json: Record<string, unknown>,
  path: string,
): TlObject {
  if (json._ !== undefined && json._ !== c.name)
    throw fail(path, `expected ${c.name}, got '${String(json._)}'`);
  const out: TlObject = { _: c.name };
  const known = new Set(['_']);
  for (const p of c.params) {
    known.add(p.name);
    const v = json[p.name];
    const at = path ? `${path}.${p.name}` : p.name;
    if (p.condition) {
      const flags = out[p.condition.field];
      const set = typeof flags === 'number' && (flags & (1 << p.condition.bit)) !== 0;
      if (!set) {
        if (v !== undefined)
          throw fail(at, `present but ${p.condition.field} bit ${p.condition.bit} is clear`);
        continue;
      }
    }
    if (v === undefined) throw fail(at, 'missing');
    out[p.name] = valueFromJson(schema, p.type, v, at);
  }
  for (const k of Object.keys(json)) {
    if (!known.has(k)) throw fail(path ? `${path}.${k}` : k, `not a field of ${c.name}`);
  }
  return out;
}

function intFromJson(v: unknown, path: string, min: number, max: number, what: string): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw fail(path, `expected ${what}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function base64FromJson(v: unknown, path: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !BASE64_RE.test(v)) throw fail(path, 'expected base64');
  const b = Buffer.from(v, 'base64');
  if (len !== undefined && b.length !== len) throw fail(path, `expected ${len} bytes, got ${b.length}`);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function valueFromJson(schema: TlSchema, t: TlTypeExpr, v: unknown, path: string): unknown {
  switch (t.name) {
    case 'int':
      return intFromJson(v, path, -0x80000000, 0x7fffffff, 'int');
    case '#':
      return intFromJson(v, path, 0, 0xffffffff, '# (u32)');
    case 'long': {
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v !== 'string' || !/^-?\d{1,20}$/.test(v)) throw fail(path, 'expected a decimal string');
      const b = BigInt(v);
      if (b < -(1n << 63n) || b >= 1n << 63n) throw fail(path, 'out of 64-bit range');
      return b;
    }
    case 'double':
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
      if (typeof v !== 'number') throw fail(path, 'expected a number');
      return v;
    case 'string':
      if (typeof v !== 'string') throw fail(path, 'expected a string');
      return v;
    case 'bytes':
      return base64FromJson(v, path);
    case 'int128':
      return base64FromJson(v, path, 16);
    case 'int256':
      return base64FromJson(v, path, 32);
    case 'Bool':
      if (typeof v !== 'boolean') throw fail(path, 'expected true or false');
      return v;
    case 'true':
      if (v !== true) throw fail(path, 'expected true');
      return v;
    case 'vector':
    case 'Vector': {
      if (!Array.isArray(v)) throw fail(path, 'expected an array');
      const elem = t.args[0];
      if (!elem) throw fail(path, 'vector without element type');
      return v.map((x, i) => valueFromJson(schema, elem, x, `${path}[${i}]`));
    }
  }
  if (!isPlainObject(v)) throw fail(path, `expected an object (${t.name})`);
  if (t.name === 'Object' || isBoxedTypeName(t.name)) {
    if (typeof v._ !== 'string') throw fail(path, `expected "_" naming a ${t.name} constructor`);
    const c = schema.byName.get(v._);
    if (!c) throw fail(path, `unknown constructor '${v._}'`);
    if (t.name !== 'Object' && (c.kind !== 'constructor' || c.result.name !== t.name)) {
      throw fail(path, `'${v._}' is not a ${t.name}`);
    }
    return objectFromJson(schema, c, v, path);
  }
  const c = schema.byName.get(t.name);
  if (!c) throw fail(path, `unknown type ${t.name}`);
  return objectFromJson(schema, c, v, path);
}
