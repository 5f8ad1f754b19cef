import fc from 'fast-check';
import type { TlObject } from '../../src/tl/codec.ts';
import { isBoxedTypeName, type TlCombinator, type TlSchema, type TlTypeExpr } from '../../src/tl/schema.ts';

export interface TlArbitraryOptions {
  /** Leave out -0, NaN and ±Infinity (JSON cannot carry them all). */
  jsonSafeDoubles?: boolean;
  /** Longest bytes/string generated (default 300, past the 254-byte header switch). */
  maxBytes?: number;
}

/** fast-check arbitraries for values of every type of a schema, built from the schema itself. */
export function tlArbitraries(schema: TlSchema, opts: TlArbitraryOptions = {}) {
  const maxBytes = opts.maxBytes ?? 300;
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 8 }),
    fc.uint8Array({ minLength: 250, maxLength: maxBytes }),
    fc.uint8Array({ maxLength: maxBytes }),
  );
  const doubleArb = opts.jsonSafeDoubles
    ? fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0))
    : fc.double();

  function typeArb(t: TlTypeExpr): fc.Arbitrary<unknown> {
    switch (t.name) {
      case 'int':
        return fc.integer({ min: -0x80000000, max: 0x7fffffff });
      case '#':
        return fc.integer({ min: 0, max: 0xffffffff });
      case 'long':
        return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
      case 'double':
        return doubleArb;
      case 'string':
        return fc.string({ unit: 'grapheme', maxLength: 40 });
      case 'bytes':
        return bytesArb;
      case 'int128':
        return fc.uint8Array({ minLength: 16, maxLength: 16 });
      case 'int256':
        return fc.uint8Array({ minLength: 32, maxLength: 32 });
      case 'Bool':
        return fc.boolean();
      case 'true':
        return fc.constant(true);
      case 'vector':
      case 'Vector':
        return fc.array(typeArb(t.args[0]!), { maxLength: 4 });
    }
    if (isBoxedTypeName(t.name)) {
      const ctors = schema.constructorsOf.get(t.name) ?? [];
      return fc.oneof(...ctors.map((c) => combinatorArb(c)));
    }
    return combinatorArb(schema.byName.get(t.name)!);
  }

  function combinatorArb(c: TlCombinator): fc.Arbitrary<TlObject> {
    const flagFields = new Set(c.params.filter((p) => p.condition).map((p) => p.condition!.field));
    const plain: Record<string, fc.Arbitrary<unknown>> = {};
    const conditional: Record<string, fc.Arbitrary<unknown>> = {};
    for (const p of c.params) {
      if (p.condition) conditional[p.name] = typeArb(p.type);
      else if (flagFields.has(p.name)) plain[p.name] = fc.integer({ min: 0, max: 0xffffffff });
      else plain[p.name] = typeArb(p.type);
    }
    return fc
      .record({ plain: fc.record(plain), conditional: fc.record(conditional) })
      .map(({ plain, conditional }) => {
        const out: TlObject = { _: c.name };
        for (const p of c.params) {
          if (p.condition) {
            const flags = plain[p.condition.field] as number;
            if ((flags & (1 << p.condition.bit)) !== 0) out[p.name] = conditional[p.name];
          } else {
            out[p.name] = plain[p.name];
          }
        }
        return out;
      });
  }

  return { typeArb, combinatorArb };
}
