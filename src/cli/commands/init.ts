import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configTemplate, type Role } from '../config.ts';
import type { Command } from '../main.ts';

export const init: Command = {
  summary: 'write a commented config file for a proxy, worker or client',
  usage: [
    'Usage: cocoon init proxy|worker|client [--out FILE] [--force]',
    '',
    'Writes cocoon-ROLE.jsonc (or FILE): every setting of that role with what it means, its flag and its COCOON_*',
    'variable. Edit it, then run: cocoon ROLE --config FILE.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, force: { type: 'boolean' } },
    });
    const role = positionals[0] as Role | undefined;
    if (role !== 'proxy' && role !== 'worker' && role !== 'client') {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    const out = values.out ?? `cocoon-${role}.jsonc`;
    if (existsSync(out) && !values.force) {
      process.stderr.write(`cocoon init: ${out} exists (--force to overwrite)\n`);
      return 1;
    }
    writeFileSync(out, configTemplate(role));
    process.stdout.write(`wrote ${out}: edit it, then run cocoon ${role} --config ${out}\n`);
    return 0;
  },
};
