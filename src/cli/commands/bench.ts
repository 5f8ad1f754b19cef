import { parseArgs } from 'node:util';
import { toJson } from '../../node/http-util.ts';
import type { Command } from '../main.ts';

/** A benchmark: does real work and returns the figures it measured. */
export interface Benchmark {
  summary: string;
  /** `detail`: also the raw material for charts (distributions, sweeps), as `npm run bench` wants. */
  run(opts: { quick: boolean; detail?: boolean }): Promise<Record<string, unknown>>;
}

export const benchmarks: Record<string, () => Promise<Benchmark>> = {
  pow: async () => (await import('../../../bench/pow.ts')).powBench,
  tl: async () => (await import('../../../bench/tl.ts')).tlBench,
  attest: async () => (await import('../../../bench/attest.ts')).attestBench,
  model: async () => (await import('../../../bench/model.ts')).modelBench,
  contracts: async () => (await import('../../../bench/contracts.ts')).contractsBench,
  e2e: async () => (await import('../../../bench/e2e.ts')).e2eBench,
  money: async () => (await import('../../../bench/money.ts')).moneyBench,
};

export const bench: Command = {
  summary: 'run a benchmark and print its figures (pow, tl, attest, model, contracts, e2e, money)',
  usage: [
    'Usage: cocoon bench <name> [--json] [--quick]',
    '',
    `Benchmarks: ${Object.keys(benchmarks).join(', ')}`,
    '  --json    print one JSON object (the default prints it indented)',
    '  --quick   fewer runs, for a smoke check',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, quick: { type: 'boolean' } },
    });
    const name = positionals[0];
    const load = name === undefined ? undefined : benchmarks[name];
    if (!load) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    const b = await load();
    const result = await b.run({ quick: values.quick ?? false });
    process.stdout.write(`${values.json ? toJson(result) : toJson(result, 2)}\n`);
    return 0;
  },
};
