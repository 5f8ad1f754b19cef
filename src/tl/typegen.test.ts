import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { COCOON_SCHEMA_SOURCE, COCOON_TYPES_FILE } from './cocoon.ts';
import { cocoonSchema, parseSchema } from './schema.ts';
import { generateTypes, pascalName } from './typegen.ts';

test('the checked-in generated types match the schema (run `npm run tl:gen` when this fails)', () => {
  const expected = generateTypes(cocoonSchema(), COCOON_SCHEMA_SOURCE);
  assert.equal(readFileSync(COCOON_TYPES_FILE, 'utf8'), expected);
});

test('generates one alias per combinator with optional conditional fields', () => {
  const out = generateTypes(parseSchema('a.b flags:# x:flags.0?int y:(vector long) = a.T;'), 'inline');
  assert.match(out, /'a\.b': \{ _: 'a\.b'; flags: number; x\?: number; y: Array<bigint> \};/);
  assert.match(out, /export type AB = TlConstructors\['a\.b'\];/);
  assert.match(out, /'a\.T': TlConstructors\['a\.b'\];/);
  assert.equal(pascalName('client.queryAnswerEx'), 'ClientQueryAnswerEx');
});

test('refuses to generate two types with one name', () => {
  assert.throws(() => generateTypes(parseSchema('a.b_c = X; a_b.c = Y;'), 'inline'), /would name both/);
});
