import type { Command } from '../main.ts';
import { packageVersion } from '../main.ts';

export const version: Command = {
  summary: 'print the version',
  usage: 'Usage: cocoon version [--json]',
  async run(argv) {
    const v = packageVersion();
    if (argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify({ version: v, node: process.versions.node })}\n`);
    } else {
      process.stdout.write(`cocoon ${v} (node ${process.versions.node})\n`);
    }
    return 0;
  },
};
