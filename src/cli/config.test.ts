import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'jsonc-parser';
import { configReference, configTemplate, FIELDS, fieldsOf, withConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'cocoon-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a config file and COCOON_* variables become flags; the command line wins, then the environment', () => {
  const file = join(dir, 'w.jsonc');
  writeFileSync(
    file,
    '// a worker\n{ "forward_requests_to": "http://10.0.0.1:8000", "coefficient": 1.5, "no_hash_check": true, "db_path": "/d", }\n',
  );
  const args = withConfig('worker', ['--config', file, '--dir', '/cli'], { COCOON_COEFFICIENT: '2' });
  assert.deepEqual(args.slice(0, 2), ['--dir', '/cli'], '--config FILE itself is taken out');
  const flag = (f: string) => args[args.indexOf(`--${f}`) + 1];
  assert.equal(flag('backend'), 'http://10.0.0.1:8000');
  assert.equal(flag('coefficient'), '2', 'the environment wins over the file');
  assert.equal(flag('dir'), '/cli', 'the command line wins');
  assert.ok(args.includes('--no-hash-check'));
  assert.equal(args.filter((a) => a === '--dir').length, 1);
});

test('unknown keys, bad JSON and bad booleans are refused with the file named', () => {
  const bad = join(dir, 'bad.jsonc');
  writeFileSync(bad, '{ "forward_request_to": "x" }');
  assert.throws(
    () => withConfig('worker', ['--config', bad], {}),
    /unknown key forward_request_to for a worker/,
  );
  writeFileSync(bad, '{ "host": ');
  assert.throws(() => withConfig('worker', ['--config', bad], {}), /bad\.jsonc/);
  assert.throws(() => withConfig('proxy', [], { COCOON_NO_HASH_CHECK: 'maybe' }), /true or false/);
});

test('cocoon init templates parse, name every setting of the role, and round-trip through withConfig', () => {
  for (const role of ['proxy', 'worker', 'client'] as const) {
    const text = configTemplate(role);
    const errors: unknown[] = [];
    const v = parse(text, errors as never, { allowTrailingComma: true }) as Record<string, unknown>;
    assert.deepEqual(errors, [], role);
    for (const f of fieldsOf(role))
      assert.ok(text.includes(`"${f.key}"`) && text.includes(`--${f.flag}`), `${role} ${f.key}`);
    const file = join(dir, `${role}.jsonc`);
    writeFileSync(file, text);
    const args = withConfig(role, ['--config', file], {});
    for (const k of Object.keys(v)) {
      const f = fieldsOf(role).find((x) => x.key === k);
      assert.ok(f, k);
      if (f.type === 'string') assert.equal(args[args.indexOf(`--${f.flag}`) + 1], String(v[k]));
    }
  }
});

test('every flag of the schema is one its runner knows, and the README reference is generated from the schema', async () => {
  for (const role of ['proxy', 'worker', 'client'] as const) {
    const cmd = (await import(`./commands/${role}.ts`))[role] as { usage: string };
    for (const f of fieldsOf(role))
      assert.ok(cmd.usage.includes(`--${f.flag}`), `${role} --${f.flag} is not in its usage`);
  }
  assert.ok(FIELDS.length > 20);
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.slice(
    readme.indexOf('<!-- config:start -->') + '<!-- config:start -->'.length,
    readme.indexOf('<!-- config:end -->'),
  );
  assert.equal(block, `\n${configReference()}`, 'README is stale: npm run docs:config');
});
