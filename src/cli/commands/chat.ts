import { parseArgs } from 'node:util';
import { openEngine } from '../../inference/load.ts';
import { ResponseStreamParser } from '../../openai/stream.ts';
import type { Command } from '../main.ts';

const usage = [
  'Usage: cocoon chat [--backend URL | --model M] [--temperature T] [--max-tokens N] [--system TEXT] "prompt"',
  '',
  'One prompt to the embedded model (default) or an OpenAI-compatible engine; the answer streams to stdout.',
  'Use - as the prompt to read it from standard input. --usage prints the token counts to stderr.',
].join('\n');

export const chat: Command = {
  summary: 'ask one question of the embedded model or an engine URL, streamed',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        backend: { type: 'string' },
        model: { type: 'string' },
        temperature: { type: 'string' },
        'max-tokens': { type: 'string' },
        seed: { type: 'string' },
        system: { type: 'string' },
        usage: { type: 'boolean' },
        threads: { type: 'string' },
      },
    });
    let prompt = positionals.join(' ');
    if (prompt === '-') prompt = await new Response(process.stdin as unknown as ReadableStream).text();
    if (!prompt) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    const engine = await openEngine(
      values.backend
        ? { backend: values.backend }
        : {
            model: values.model ?? 'embedded',
            ...(values.threads ? { threads: Number(values.threads) } : {}),
          },
    );
    try {
      const messages: { role: string; content: string }[] = [];
      if (values.system) messages.push({ role: 'system', content: values.system });
      messages.push({ role: 'user', content: prompt });
      const body: Record<string, unknown> = {
        model: values.backend ? (values.model ?? 'default') : 'embedded',
        messages,
        stream: true,
      };
      if (values.temperature !== undefined) body.temperature = Number(values.temperature);
      if (values['max-tokens'] !== undefined) body.max_tokens = Number(values['max-tokens']);
      if (values.seed !== undefined) body.seed = Number(values.seed);
      const ctl = new AbortController();
      process.once('SIGINT', () => ctl.abort());
      const res = await engine.request({ path: '/v1/chat/completions', body, signal: ctl.signal });
      if (res.status !== 200) {
        let text = '';
        for await (const c of res.body) text += Buffer.from(c).toString();
        process.stderr.write(`cocoon chat: the engine answered ${res.status}: ${text}\n`);
        return 1;
      }
      const parser = new ResponseStreamParser();
      const print = (items: ReturnType<ResponseStreamParser['push']>) => {
        for (const it of items) {
          if (it.kind !== 'json') continue;
          const choices = (it.value as { choices?: { delta?: { content?: unknown } }[] }).choices ?? [];
          for (const c of choices)
            if (typeof c.delta?.content === 'string') process.stdout.write(c.delta.content);
        }
      };
      for await (const chunk of res.body) print(parser.push(chunk));
      print(parser.end());
      process.stdout.write('\n');
      const f = await res.final;
      if (values.usage) {
        process.stderr.write(
          `usage: ${f.usage.prompt_tokens} prompt + ${f.usage.completion_tokens} completion tokens (${f.usageSource}), finish ${f.finishReason ?? '?'}\n`,
        );
      }
      return 0;
    } finally {
      await engine.close();
    }
  },
};
