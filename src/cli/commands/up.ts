import type { Command } from '../main.ts';
import { packageVersion } from '../main.ts';

/**
 * `cocoon up`: the whole local network (devnet, root contract, proxy, worker with the embedded model, client).
 * The network layers are not built yet, so it reports honestly what this build can run.
 */
export const up: Command = {
  summary: 'start a whole local network with the embedded defaults',
  usage: 'Usage: cocoon up',
  async run() {
    const lines = [
      `cocoon ${packageVersion()}`,
      '',
      'The local network (devnet, proxy, worker, client) is not part of this build yet.',
      'What runs so far:',
      '  cocoon tl encode|decode|schema          the Cocoon TL codec (binary wire format)',
      '  cocoon chat "question"                  ask the embedded demo model (or --backend URL), streamed',
      '  cocoon worker                           a worker engine on a local OpenAI API (embedded model)',
      '  cocoon devnet                           a local TON chain (toncenter JSON-RPC on 127.0.0.1:8081)',
      '  cocoon wallet | cocoon root             operator wallet; deploy and administer the root contract',
      '  cocoon attest verify|fake-cert|inspect  TDX quote verification (DCAP) and RA-TLS certificates',
      '  cocoon bench pow|tl|attest|model|contracts  codec, PoW, attestation, model and contract benchmarks',
      '',
      'Run `cocoon --help` for every command.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
