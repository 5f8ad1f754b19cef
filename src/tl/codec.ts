import { TlError } from '../errors.ts';
import {
  BUILTIN_TYPES,
  isBoxedTypeName,
  type TlCombinator,
  type TlSchema,
  type TlTypeExpr,
} from './schema.ts';

/** A decoded TL object: `_` names its constructor (or function), the other keys are its fields. */
export interface TlObject {
  _: string;
  [field: string]: unknown;
}

/** Largest string/bytes the TON encoding can carry with its 0xFE + 3-byte length header. */
export const TL_MAX_BYTES = 0xffffff;
/** Nesting limit on decode and encode; Cocoon's schema nests at most 5 deep. */
export const TL_MAX_DEPTH = 64;

const ID_BOOL_TRUE = 0x997275b5;
const ID_BOOL_FALSE = 0xbc799737;
const ID_VECTOR = 0x1cb5c415;

/** Bounds-checked little-endian reader over a view; it never reads past `end`. */
export class TlReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): number {
    const p = this.pos;
    if (n > this.end - p) {
      throw new TlError('TL_TRUNCATED', `need ${n} bytes at offset ${p}, have ${this.end - p}`);
    }
    this.pos = p + n;
    return p;
  }

  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }

  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  i64(): bigint {
    return this.view.getBigInt64(this.need(8), true);
  }

  f64(): number {
    return this.view.getFloat64(this.need(8), true);
  }

  /** `n` raw bytes as a view (no copy). */
  raw(n: number): Uint8Array {
    const p = this.need(n);
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + p, n);
  }

  /** TL `bytes`: 1- or 4-byte length header, data, zero padding to 4. Returns a view (no copy). */
  bytes(): Uint8Array {
    const start = this.pos;
    const first = this.buf[this.need(1)]!;
    let len: number;
    if (first < 254) {
      len = first;
    } else if (first === 254) {
      const p = this.need(3);
      len = this.buf[p]! | (this.buf[p + 1]! << 8) | (this.buf[p + 2]! << 16);
    } else {
      // 0xFF: td's long form, 7-byte length; anything above 2^32 can never fit a frame.
      const lo = this.u32();
      const p = this.need(3);
      if (this.buf[p] !== 0 || this.buf[p + 1] !== 0 || this.buf[p + 2] !== 0) {
        throw new TlError('TL_BAD_LENGTH', `string length over 2^32 at offset ${start}`);
      }
      len = lo;
    }
    const data = this.raw(len);
    const pad = (4 - ((this.pos - start) & 3)) & 3;
    this.need(pad);
    return data;
  }

  string(): string {
    const b = this.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }
}

/** Writer into a buffer sized exactly by a first `size` pass, so payloads are copied once. */
export class TlWriter {
  readonly buf: Buffer;
  pos: number;

  constructor(size: number, offset = 0) {
    this.buf = Buffer.allocUnsafe(size);
    this.buf.fill(0, 0, offset);
    this.pos = offset;
  }

  i32(v: number): void {
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  i64(v: bigint): void {
    this.buf.writeBigInt64LE(v, this.pos);
    this.pos += 8;
  }

  f64(v: number): void {
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  raw(v: Uint8Array): void {
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  private header(len: number): number {
    if (len < 254) {
      this.buf[this.pos++] = len;
      return 1;
    }
    this.buf[this.pos] = 254;
    this.buf[this.pos + 1] = len & 0xff;
    this.buf[this.pos + 2] = (len >>> 8) & 0xff;
    this.buf[this.pos + 3] = (len >>> 16) & 0xff;
    this.pos += 4;
    return 4;
  }

  private pad(used: number): void {
    const pad = (4 - (used & 3)) & 3;
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0;
  }

  bytes(v: Uint8Array): void {
    const h = this.header(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    this.pad(h + v.length);
  }

  string(v: string, byteLength: number): void {
    const h = this.header(byteLength);
    this.pos += this.buf.write(v, this.pos, 'utf8');
    this.pad(h + byteLength);
  }
}

/** Encoded size of a TL `bytes`/`string` of `len` bytes, header and padding included. */
export function tlBytesSize(len: number): number {
  return (len < 254 ? len + 1 + 3 : len + 4 + 3) & ~3;
}

/** How one type's values are measured, written and read. */
interface TypeCodec {
  /** Smallest encoding of a value (for checking vector counts against the input before allocating). */
  minSize: number;
  size(v: unknown, depth: number): number;
  write(w: TlWriter, v: unknown, depth: number): void;
  read(r: TlReader, depth: number): unknown;
}

function bad(what: string, v: unknown): TlError {
  let shown: string;
  try {
    shown = typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
  } catch {
    shown = String(v);
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return new TlError('TL_BAD_VALUE', `expected ${what}, got ${shown}`);
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function tooDeep(): TlError {
  return new TlError('TL_TOO_DEEP', `nesting deeper than ${TL_MAX_DEPTH}`);
}

const intCodec: TypeCodec = {
  minSize: 4,
  size(v) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)
      throw bad('int', v);
    return 4;
  },
  write: (w, v) => w.i32(v as number),
  read: (r) => r.i32(),
};

const natCodec: TypeCodec = {
  minSize: 4,
  size(v) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad('# (u32)', v);
    return 4;
  },
  write: (w, v) => w.u32(v as number),
  read: (r) => r.u32(),
};

const longCodec: TypeCodec = {
  minSize: 8,
  size(v) {
    if (typeof v !== 'bigint' || v < -(1n << 63n) || v >= 1n << 63n) throw bad('long (bigint)', v);
    return 8;
  },
  write: (w, v) => w.i64(v as bigint),
  read: (r) => r.i64(),
};

const doubleCodec: TypeCodec = {
  minSize: 8,
  size(v) {
    if (typeof v !== 'number') throw bad('double', v);
    return 8;
  },
  write: (w, v) => w.f64(v as number),
  read: (r) => r.f64(),
};

const bytesCodec: TypeCodec = {
  minSize: 4,
  size(v) {
    if (!isBytes(v)) throw bad('bytes (Uint8Array)', v);
    if (v.length > TL_MAX_BYTES) throw new TlError('TL_TOO_LONG', `bytes of ${v.length} > ${TL_MAX_BYTES}`);
    return tlBytesSize(v.length);
  },
  write: (w, v) => w.bytes(v as Uint8Array),
  read: (r) => r.bytes(),
};

const stringCodec: TypeCodec = {
  minSize: 4,
  size(v) {
    if (typeof v !== 'string') throw bad('string', v);
    const n = Buffer.byteLength(v, 'utf8');
    if (n > TL_MAX_BYTES) throw new TlError('TL_TOO_LONG', `string of ${n} bytes > ${TL_MAX_BYTES}`);
    return tlBytesSize(n);
  },
  write: (w, v) => w.string(v as string, Buffer.byteLength(v as string, 'utf8')),
  read: (r) => r.string(),
};

function fixedBytesCodec(n: number, name: string): TypeCodec {
  return {
    minSize: n,
    size(v) {
      if (!isBytes(v) || v.length !== n) throw bad(`${name} (${n} bytes)`, v);
      return n;
    },
    write: (w, v) => w.raw(v as Uint8Array),
    read: (r) => r.raw(n),
  };
}

const boolCodec: TypeCodec = {
  minSize: 4,
  size(v) {
    if (typeof v !== 'boolean') throw bad('Bool', v);
    return 4;
  },
  write: (w, v) => w.u32(v ? ID_BOOL_TRUE : ID_BOOL_FALSE),
  read(r) {
    const id = r.u32();
    if (id === ID_BOOL_TRUE) return true;
    if (id === ID_BOOL_FALSE) return false;
    throw new TlError('TL_BAD_BOOL', `expected boolTrue/boolFalse, got ${hexId(id)}`);
  },
};

const trueCodec: TypeCodec = {
  minSize: 0,
  size(v) {
    if (v !== true) throw bad('true', v);
    return 0;
  },
  write() {},
  read: () => true,
};

function vectorCodec(elem: TypeCodec, boxed: boolean): TypeCodec {
  const head = boxed ? 8 : 4;
  // A zero-size element would let a huge count spin without consuming input; count such elements as 1 byte.
  const elemMin = Math.max(elem.minSize, 1);
  return {
    minSize: head,
    size(v, depth) {
      if (!Array.isArray(v)) throw bad('vector (array)', v);
      let n = head;
      for (let i = 0; i < v.length; i++) n += elem.size(v[i], depth);
      return n;
    },
    write(w, v, depth) {
      const a = v as unknown[];
      if (boxed) w.u32(ID_VECTOR);
      w.i32(a.length);
      for (let i = 0; i < a.length; i++) elem.write(w, a[i], depth);
    },
    read(r, depth) {
      if (boxed) {
        const id = r.u32();
        if (id !== ID_VECTOR)
          throw new TlError('TL_UNEXPECTED_CONSTRUCTOR', `expected vector, got ${hexId(id)}`);
      }
      const count = r.i32();
      if (count < 0 || count > r.remaining / elemMin) {
        throw new TlError('TL_BAD_LENGTH', `vector of ${count} elements cannot fit in ${r.remaining} bytes`);
      }
      const out = new Array<unknown>(count);
      for (let i = 0; i < count; i++) out[i] = elem.read(r, depth);
      return out;
    },
  };
}

function hexId(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

function typeKey(t: TlTypeExpr): string {
  return t.args.length === 0 ? t.name : `${t.name}<${t.args.map(typeKey).join(',')}>`;
}

/** Encoder/decoder of one combinator's fields (without its id). */
interface CombinatorCodec {
  combinator: TlCombinator;
  minSize: number;
  size(obj: TlObject, depth: number): number;
  write(w: TlWriter, obj: TlObject, depth: number): void;
  read(r: TlReader, depth: number): TlObject;
}

interface FieldPlan {
  name: string;
  codec: TypeCodec;
  flagField?: string;
  mask?: number;
}

function fieldError(c: TlCombinator, field: string, err: unknown): unknown {
  if (err instanceof TlError && !err.message.startsWith(`${c.name}.`)) {
    const e = new TlError(err.code, `${c.name}.${field}: ${err.message}`, { cause: err.cause });
    return e;
  }
  return err;
}

/**
 * The TL binary codec (TON flavour) for one schema: boxed and bare values, `flags.N?T`, vectors, int128/int256,
 * Bool boxed. Decoding checks every length against the input and fails with a {@link TlError} only.
 *
 * @example
 * const codec = new TlCodec(cocoonSchema());
 * const bytes = codec.encode({ _: 'tcp.ping', id: 5n });
 * codec.decode(bytes) // { _: 'tcp.ping', id: 5n }
 */
export class TlCodec {
  readonly schema: TlSchema;
  private readonly types = new Map<string, TypeCodec>();
  private readonly combinatorCodecs = new Map<string, CombinatorCodec>();

  constructor(schema: TlSchema) {
    this.schema = schema;
  }

  /** Encodes a boxed object (constructor id + fields). `prefix` leaves that many zero bytes in front. */
  encode(obj: TlObject, opts?: { prefix?: number }): Buffer {
    const c = this.combinatorFor(obj);
    const prefix = opts?.prefix ?? 0;
    const size = 4 + c.size(obj, 0);
    const w = new TlWriter(prefix + size, prefix);
    w.u32(c.combinator.id);
    c.write(w, obj, 0);
    return w.buf;
  }

  /** Encodes a value of any type expression, boxed or bare as its name says (`tokensUsed` is bare). */
  encodeType(type: string, value: unknown): Buffer {
    const codec = this.typeCodec({ name: type, args: [] });
    const w = new TlWriter(codec.size(value, 0));
    codec.write(w, value, 0);
    return w.buf;
  }

  /** Decodes one boxed object of any constructor or function in the schema; the whole input must be used. */
  decode(buf: Uint8Array): TlObject {
    const r = new TlReader(buf);
    const obj = this.readBoxedAny(r, 0);
    if (r.remaining !== 0) throw new TlError('TL_TRAILING_BYTES', `${r.remaining} bytes after ${obj._}`);
    return obj;
  }

  /** Decodes a value of the given type (boxed types check the constructor belongs to it); no trailing bytes. */
  decodeType(type: string, buf: Uint8Array): unknown {
    const codec = this.typeCodec({ name: type, args: [] });
    const r = new TlReader(buf);
    const v = codec.read(r, 0);
    if (r.remaining !== 0) throw new TlError('TL_TRAILING_BYTES', `${r.remaining} bytes after a ${type}`);
    return v;
  }

  /** Reads a boxed object of any combinator from a reader (for callers that frame TL themselves). */
  readBoxedAny(r: TlReader, depth: number): TlObject {
    const id = r.u32();
    const c = this.schema.byId.get(id);
    if (!c) throw new TlError('TL_UNKNOWN_CONSTRUCTOR', `unknown constructor ${hexId(id)}`);
    return this.combinatorCodec(c).read(r, depth);
  }

  private combinatorFor(obj: TlObject): CombinatorCodec {
    if (obj === null || typeof obj !== 'object' || typeof obj._ !== 'string') {
      throw bad('a TL object with "_"', obj);
    }
    const c = this.schema.byName.get(obj._);
    if (!c) throw new TlError('TL_UNKNOWN_CONSTRUCTOR', `unknown constructor '${obj._}'`);
    return this.combinatorCodec(c);
  }

  /** The field codec of a combinator, compiled on first use. */
  combinatorCodec(c: TlCombinator): CombinatorCodec {
    const cached = this.combinatorCodecs.get(c.name);
    if (cached) return cached;
    if (!c.codable || BUILTIN_TYPES.has(c.name)) {
      throw new TlError('TL_SCHEMA', `${c.name} is a built-in and has no generic encoding`);
    }
    const plan: FieldPlan[] = [];
    const codec: CombinatorCodec = {
      combinator: c,
      minSize: 0,
      size: (obj, depth) => {
        if (depth > TL_MAX_DEPTH) throw tooDeep();
        let n = 0;
        for (const f of plan) {
          const v = obj[f.name];
          if (f.flagField !== undefined && ((obj[f.flagField] as number) & f.mask!) === 0) {
            if (v !== undefined) throw fieldError(c, f.name, bad(`no value (flag bit clear)`, v));
            continue;
          }
          if (v === undefined) throw new TlError('TL_BAD_VALUE', `${c.name}: missing field '${f.name}'`);
          try {
            n += f.codec.size(v, depth + 1);
          } catch (err) {
            throw fieldError(c, f.name, err);
          }
        }
        return n;
      },
      write: (w, obj, depth) => {
        for (const f of plan) {
          const v = obj[f.name];
          if (v === undefined) continue;
          f.codec.write(w, v, depth + 1);
        }
      },
      read: (r, depth) => {
        if (depth > TL_MAX_DEPTH) throw tooDeep();
        const out: TlObject = { _: c.name };
        for (const f of plan) {
          if (f.flagField !== undefined && ((out[f.flagField] as number) & f.mask!) === 0) continue;
          out[f.name] = f.codec.read(r, depth + 1);
        }
        return out;
      },
    };
    // Registered before compiling fields so that recursive types resolve to this (still empty) plan.
    this.combinatorCodecs.set(c.name, codec);
    try {
      let min = 0;
      for (const p of c.params) {
        const fc = this.typeCodec(p.type);
        if (p.condition) {
          const flag = c.params.find((q) => q.name === p.condition!.field);
          if (flag?.type.name !== '#') {
            throw new TlError('TL_SCHEMA', `${c.name}.${p.name}: '${p.condition.field}' is not a # field`);
          }
          plan.push({
            name: p.name,
            codec: fc,
            flagField: p.condition.field,
            mask: (1 << p.condition.bit) >>> 0,
          });
        } else {
          plan.push({ name: p.name, codec: fc });
          min += fc.minSize;
        }
      }
      codec.minSize = min;
    } catch (err) {
      this.combinatorCodecs.delete(c.name);
      throw err;
    }
    return codec;
  }

  /** The codec of a type expression, compiled on first use. */
  typeCodec(t: TlTypeExpr): TypeCodec {
    const key = typeKey(t);
    const cached = this.types.get(key);
    if (cached) return cached;
    const codec = this.buildTypeCodec(t);
    this.types.set(key, codec);
    return codec;
  }

  private buildTypeCodec(t: TlTypeExpr): TypeCodec {
    switch (t.name) {
      case 'int':
        return intCodec;
      case '#':
        return natCodec;
      case 'long':
        return longCodec;
      case 'double':
        return doubleCodec;
      case 'string':
        return stringCodec;
      case 'bytes':
        return bytesCodec;
      case 'int128':
        return fixedBytesCodec(16, 'int128');
      case 'int256':
        return fixedBytesCodec(32, 'int256');
      case 'Bool':
        return boolCodec;
      case 'true':
        return trueCodec;
      case 'vector':
      case 'Vector': {
        const arg = t.args[0];
        if (!arg || t.args.length !== 1) throw new TlError('TL_SCHEMA', `${t.name} needs one type argument`);
        return vectorCodec(this.typeCodec(arg), t.name === 'Vector');
      }
      case 'Object':
        return this.anyBoxedCodec();
    }
    if (t.args.length > 0) throw new TlError('TL_SCHEMA', `unsupported type application ${typeKey(t)}`);
    if (isBoxedTypeName(t.name)) {
      const ctors = this.schema.constructorsOf.get(t.name);
      if (!ctors || ctors.length === 0) throw new TlError('TL_SCHEMA', `unknown type ${t.name}`);
      return this.boxedCodec(t.name, ctors);
    }
    const c = this.schema.byName.get(t.name);
    if (c?.kind !== 'constructor') throw new TlError('TL_SCHEMA', `unknown bare type ${t.name}`);
    return this.bareCodec(c);
  }

  private bareCodec(c: TlCombinator): TypeCodec {
    // Resolved lazily: a bare field may refer to a constructor whose own fields are not compiled yet.
    let cc: CombinatorCodec | undefined;
    const get = (): CombinatorCodec => {
      cc ??= this.combinatorCodec(c);
      return cc;
    };
    const codec: TypeCodec = {
      get minSize() {
        return get().minSize;
      },
      size(v, depth) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(c.name, v);
        const o = v as TlObject;
        if (o._ !== undefined && o._ !== c.name) throw bad(c.name, o._);
        return get().size(o, depth);
      },
      write: (w, v, depth) => get().write(w, v as TlObject, depth),
      read: (r, depth) => get().read(r, depth),
    };
    return codec;
  }

  private boxedCodec(typeName: string, ctors: readonly TlCombinator[]): TypeCodec {
    const byId = new Map<number, TlCombinator>();
    const byName = new Map<string, TlCombinator>();
    for (const c of ctors) {
      byId.set(c.id, c);
      byName.set(c.name, c);
    }
    return {
      minSize: 4,
      size: (v, depth) => {
        if (v === null || typeof v !== 'object' || typeof (v as TlObject)._ !== 'string') {
          throw bad(`a ${typeName} object with "_"`, v);
        }
        const c = byName.get((v as TlObject)._);
        if (!c) {
          throw new TlError('TL_UNEXPECTED_CONSTRUCTOR', `'${(v as TlObject)._}' is not a ${typeName}`);
        }
        return 4 + this.combinatorCodec(c).size(v as TlObject, depth);
      },
      write: (w, v, depth) => {
        const c = byName.get((v as TlObject)._)!;
        w.u32(c.id);
        this.combinatorCodec(c).write(w, v as TlObject, depth);
      },
      read: (r, depth) => {
        const id = r.u32();
        const c = byId.get(id);
        if (!c) {
          if (this.schema.byId.has(id)) {
            throw new TlError(
              'TL_UNEXPECTED_CONSTRUCTOR',
              `${this.schema.byId.get(id)!.name} is not a ${typeName}`,
            );
          }
          throw new TlError('TL_UNKNOWN_CONSTRUCTOR', `unknown constructor ${hexId(id)} for ${typeName}`);
        }
        return this.combinatorCodec(c).read(r, depth);
      },
    };
  }

  private anyBoxedCodec(): TypeCodec {
    return {
      minSize: 4,
      size: (v, depth) => 4 + this.combinatorFor(v as TlObject).size(v as TlObject, depth),
      write: (w, v, depth) => {
        const c = this.combinatorFor(v as TlObject);
        w.u32(c.combinator.id);
        c.write(w, v as TlObject, depth);
      },
      read: (r, depth) => this.readBoxedAny(r, depth),
    };
  }
}
