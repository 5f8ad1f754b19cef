import { parseArgs } from 'node:util';
import { openEngine } from '../../inference/load.ts';
import { listen, openAiServer } from '../../openai/serve.ts';
import type { Command } from '../main.ts';
import { step } from '../progress.ts';

const usage = [
  'Usage: cocoon engine [--model embedded|PATH.gguf|hf:OWNER/REPO/FILE.gguf | --backend URL] [options]',
  '',
  'Runs an inference engine on its own and serves it as a local OpenAI-compatible API, without the network',
  '(what a worker forwards to; useful to try a model or a backend before joining the network)',
  '(GET /v1/models, POST /v1/chat/completions and /v1/completions, GET /healthz).',
  '',
  '  --model M        a GGUF model run in-process on CPU (default: embedded, the demo model)',
  '  --backend URL    an OpenAI-compatible engine instead (vLLM, SGLang, llama.cpp server, Ollama /v1)',
  '  --api-key KEY    bearer token for --backend',
  '  --tokenizer M    a GGUF whose tokenizer counts tokens when --backend reports no usage',
  '  --host H         listen address (default 127.0.0.1)',
  '  --port P         listen port (default 8000, where a worker expects its engine)',
  '  --threads N      evaluation threads for --model (default 1)',
  '  --parallel N     requests evaluated at once for --model; the rest queue in order (default 1)',
  '  --context N      context size in tokens for --model',
].join('\n');

function intOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`--${name} must be a non-negative integer`);
  return n;
}

export const engine: Command = {
  summary: 'run an inference engine alone (embedded model or engine URL) on a local OpenAI API',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' },
        backend: { type: 'string' },
        'api-key': { type: 'string' },
        tokenizer: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        threads: { type: 'string' },
        parallel: { type: 'string' },
        context: { type: 'string' },
      },
    });
    if (values.model && values.backend) throw new TypeError('--model and --backend exclude each other');
    const choice: Parameters<typeof openEngine>[0] = {};
    if (values.backend) choice.backend = values.backend;
    else choice.model = values.model ?? 'embedded';
    if (values['api-key']) choice.apiKey = values['api-key'];
    if (values.tokenizer) choice.tokenizer = values.tokenizer;
    const threads = intOpt(values.threads, 'threads');
    const parallel = intOpt(values.parallel, 'parallel');
    const context = intOpt(values.context, 'context');
    if (threads !== undefined) choice.threads = threads;
    if (parallel !== undefined) choice.parallel = parallel;
    if (context !== undefined) choice.contextSize = context;
    const engine = await step('loading the engine', openEngine(choice));
    const health = await engine.health();
    if (!health.ok) process.stderr.write(`warning: the engine is not healthy yet: ${health.error ?? ''}\n`);
    const server = openAiServer({ engine });
    const url = await listen(server, intOpt(values.port, 'port') ?? 8000, values.host ?? '127.0.0.1');
    process.stdout.write(`engine: ${engine.kind} engine, model ${health.models.join(', ') || '?'}\n`);
    process.stdout.write(`engine: OpenAI API on ${url}/v1\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
    await engine.close();
    return 0;
  },
};
