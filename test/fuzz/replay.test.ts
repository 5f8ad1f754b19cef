// Replays what scripts/fuzz.ts saved from the two older fuzzers, which are driven by a seed rather than a
// corpus: TL inputs that made the decoder throw something other than TlError (test/fuzz/corpus/tl/*.bin, decoded
// here directly), and the seeds of failed runs (corpus/tl/*.seed, corpus/frame/*.seed, each rerun as it failed).
// With nothing saved, as in a clean tree, this costs nothing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { TlError } from '../../src/errors.ts';
import { cocoonCodec } from '../../src/tl/cocoon.ts';
import { describeError, REPO, readCorpus } from './support.ts';

const FUZZERS = { tl: 'src/tl/codec.fuzz.test.ts', frame: 'src/net/connection.fuzz.test.ts' } as const;

test('saved TL inputs decode or fail with TlError', () => {
  const codec = cocoonCodec();
  for (const e of readCorpus('tl').filter((x) => x.name.endsWith('.bin'))) {
    try {
      codec.decode(e.data);
    } catch (err) {
      assert.ok(err instanceof TlError, `${e.name}: ${describeError(err)}`);
    }
  }
});

for (const [target, file] of Object.entries(FUZZERS)) {
  const seeds = readCorpus(target).filter((x) => x.name.endsWith('.seed'));
  test(`saved ${target} fuzz seeds pass again (${seeds.length})`, {
    timeout: 120_000 * (seeds.length + 1),
  }, () => {
    for (const e of seeds) {
      const seed = e.data.toString('utf8').trim();
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', file], {
        cwd: REPO,
        env: { ...process.env, FUZZ_SEED: seed },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, `${join(target, e.name)} (FUZZ_SEED=${seed}):\n${run.stdout}${run.stderr}`);
    }
  });
}
