import { isBoxedTypeName, type TlCombinator, type TlSchema, type TlTypeExpr } from './schema.ts';

/** `client.queryAnswerEx` → `ClientQueryAnswerEx`. */
export function pascalName(name: string): string {
  return name
    .split(/[._]/)
    .filter((s) => s !== '')
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
}

function tsType(schema: TlSchema, t: TlTypeExpr): string {
  switch (t.name) {
    case 'int':
    case '#':
    case 'double':
      return 'number';
    case 'long':
      return 'bigint';
    case 'string':
      return 'string';
    case 'bytes':
    case 'int128':
    case 'int256':
      return 'Uint8Array';
    case 'Bool':
      return 'boolean';
    case 'true':
      return 'true';
    case 'Object':
      return 'TlAny';
    case 'vector':
    case 'Vector':
      return `Array<${tsType(schema, t.args[0]!)}>`;
  }
  if (isBoxedTypeName(t.name)) return `TlTypes['${t.name}']`;
  return `Bare<TlConstructors['${t.name}']>`;
}

function shape(schema: TlSchema, c: TlCombinator): string {
  const fields = [`_: '${c.name}'`];
  for (const p of c.params) {
    fields.push(`${p.name}${p.condition ? '?' : ''}: ${tsType(schema, p.type)}`);
  }
  return `{ ${fields.join('; ')} }`;
}

/**
 * Generates the TypeScript types of every codable constructor and function of a schema: maps by name
 * (`TlConstructors`, `TlFunctions`, `TlTypes`, `TlFunctionResults`), one alias per combinator and the id table.
 *
 * @example
 * writeFileSync('src/tl/cocoon-api.gen.ts', generateTypes(cocoonSchema(), 'src/tl/schema/cocoon_api.tl'));
 */
export function generateTypes(schema: TlSchema, source: string): string {
  const codable = schema.combinators.filter(
    (c) => c.codable && !['bytes', 'boolTrue', 'boolFalse', 'true'].includes(c.name),
  );
  const ctors = codable.filter((c) => c.kind === 'constructor');
  const fns = codable.filter((c) => c.kind === 'function');
  const out: string[] = [];
  out.push(
    `// Generated from ${source} by \`npm run tl:gen\`. Do not edit: a test fails when this file is stale.`,
  );
  out.push('');
  out.push(
    "/** A bare field's value: the constructor is implied by the type, so `_` may be left out on input. */",
  );
  out.push("export type Bare<T extends { _: string }> = Omit<T, '_'> & { _?: T['_'] };");
  out.push('');
  out.push('/** Every constructor of the schema, by name. */');
  out.push('export interface TlConstructors {');
  for (const c of ctors) out.push(`  '${c.name}': ${shape(schema, c)};`);
  out.push('}');
  out.push('');
  out.push('/** Every function (query) of the schema, by name. */');
  out.push('export interface TlFunctions {');
  for (const c of fns) out.push(`  '${c.name}': ${shape(schema, c)};`);
  out.push('}');
  out.push('');
  const types = new Map<string, string[]>();
  for (const c of ctors) {
    if (!isBoxedTypeName(c.result.name)) continue;
    const list = types.get(c.result.name) ?? [];
    list.push(`TlConstructors['${c.name}']`);
    types.set(c.result.name, list);
  }
  out.push('/** Every boxed type: the union of its constructors. */');
  out.push('export interface TlTypes {');
  for (const [name, list] of types) out.push(`  '${name}': ${list.join(' | ')};`);
  out.push('}');
  out.push('');
  out.push('/** What each function returns. */');
  out.push('export interface TlFunctionResults {');
  for (const c of fns) {
    const r = types.has(c.result.name) ? `TlTypes['${c.result.name}']` : 'TlAny';
    out.push(`  '${c.name}': ${r};`);
  }
  out.push('}');
  out.push('');
  out.push('/** Any constructor or function object. */');
  out.push('export type TlAny = TlConstructors[keyof TlConstructors] | TlFunctions[keyof TlFunctions];');
  out.push('');
  const seen = new Map<string, string>();
  for (const c of codable) {
    const alias = pascalName(c.name);
    const prev = seen.get(alias);
    if (prev !== undefined) throw new Error(`type alias ${alias} would name both ${prev} and ${c.name}`);
    seen.set(alias, c.name);
    const map = c.kind === 'constructor' ? 'TlConstructors' : 'TlFunctions';
    out.push(`export type ${alias} = ${map}['${c.name}'];`);
  }
  out.push('');
  out.push('/** Constructor ids (unsigned), by name. */');
  out.push('export const TL_IDS = {');
  for (const c of schema.combinators) out.push(`  '${c.name}': 0x${c.id.toString(16).padStart(8, '0')},`);
  out.push('} as const;');
  out.push('');
  return out.join('\n');
}
