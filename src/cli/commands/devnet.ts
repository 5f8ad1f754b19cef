import { parseArgs } from 'node:util';
import { Devnet } from '../../chain/devnet.ts';
import type { Command } from '../main.ts';

const usage = [
  'Usage: cocoon devnet [--port 8081] [--dir DIR | --memory] [--block-delay MS]',
  '',
  'Runs a local TON chain (the @ton/sandbox emulator) behind a toncenter-v2 compatible JSON-RPC on',
  '127.0.0.1, so any TonClient works against it: new TonClient({ endpoint: "http://127.0.0.1:8081/jsonRPC" }).',
  'Extra methods: devnet_fund {address, amount} (nanoTON from a faucet), devnet_advanceTime {seconds},',
  'devnet_info. State is kept in DIR (default .cocoon/devnet) and survives restarts and kill -9.',
  '',
  '  --block-delay MS   sends take effect MS after they are accepted, as on a real chain (default 0)',
  '  --memory           keep nothing on disk',
].join('\n');

export const devnet: Command = {
  summary: 'run the local TON devnet (toncenter-compatible JSON-RPC on 127.0.0.1)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        dir: { type: 'string' },
        memory: { type: 'boolean' },
        'block-delay': { type: 'string' },
      },
    });
    const port = Number(values.port ?? 8081);
    const delay = Number(values['block-delay'] ?? 0);
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
      throw new TypeError('--port must be a port number');
    if (!Number.isSafeInteger(delay) || delay < 0)
      throw new TypeError('--block-delay must be a non-negative integer');
    const opts: Parameters<typeof Devnet.open>[0] & {} = {};
    if (!values.memory) opts.dir = values.dir ?? '.cocoon/devnet';
    if (delay > 0) opts.blockDelayMs = delay;
    const chain = await Devnet.open(opts);
    const endpoint = await chain.listen(port);
    process.stdout.write(`devnet: ${endpoint}${opts.dir ? ` (state in ${opts.dir})` : ' (in memory)'}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await chain.close();
    return 0;
  },
};
