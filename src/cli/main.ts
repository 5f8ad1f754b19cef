import { readFileSync } from 'node:fs';
import { CocoonError } from '../errors.ts';

/** A `cocoon` sub-command: parses its own argv, writes to stdout/stderr, returns the exit code. */
export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  up: async () => (await import('./commands/up.ts')).up,
  version: async () => (await import('./commands/version.ts')).version,
  tl: async () => (await import('./commands/tl.ts')).tl,
  proxy: async () => (await import('./commands/proxy.ts')).proxy,
  worker: async () => (await import('./commands/worker.ts')).worker,
  client: async () => (await import('./commands/client.ts')).client,
  engine: async () => (await import('./commands/engine.ts')).engine,
  chat: async () => (await import('./commands/chat.ts')).chat,
  devnet: async () => (await import('./commands/devnet.ts')).devnet,
  wallet: async () => (await import('./commands/wallet.ts')).wallet,
  root: async () => (await import('./commands/root.ts')).root,
  attest: async () => (await import('./commands/attest.ts')).attest,
  receipt: async () => (await import('./commands/receipt.ts')).receipt,
  bench: async () => (await import('./commands/bench.ts')).bench,
  doctor: async () => (await import('./commands/doctor.ts')).doctor,
  init: async () => (await import('./commands/init.ts')).init,
};

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function help(): Promise<string> {
  const lines = [
    `cocoon ${packageVersion()} — Confidential Compute Open Network`,
    '',
    'Usage: cocoon <command> [options]',
    '',
    'Commands:',
  ];
  for (const [name, load] of Object.entries(commands)) {
    const cmd = await load();
    lines.push(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
  lines.push('', 'Run `cocoon <command> --help` for the options of one command.');
  return lines.join('\n');
}

/** Entry point of the `cocoon` binary; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await help()}\n`);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-V') return (await commands.version!()).run([]);
  const load = commands[name];
  if (!load) {
    process.stderr.write(`cocoon: unknown command '${name}'\n\n${await help()}\n`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof CocoonError) {
      process.stderr.write(`cocoon ${name}: ${err.code}: ${err.message}\n`);
    } else if (err instanceof Error && (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`cocoon ${name}: ${err.message}\n\n${cmd.usage}\n`);
    } else {
      process.stderr.write(
        `cocoon ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    return 1;
  }
}
