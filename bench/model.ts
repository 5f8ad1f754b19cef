import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from '../src/cli/commands/bench.ts';
import { EmbeddedEngine } from '../src/inference/embedded.ts';
import { EMBEDDED_MODEL_PATH } from '../src/inference/models.ts';
import { ResponseStreamParser } from '../src/openai/stream.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const r1 = (x: number) => Math.round(x * 10) / 10;

// Plain text with no special tokens, so node-llama-cpp's CLI and the engine see the same tokens; on the demo
// model this raw prompt runs to the token limit at temperature 0 instead of stopping early, so both measure
// the same long generation.
const GEN_PROMPT = 'Hello';

/** A prompt of about 50 tokens, for time-to-first-token. */
function prompt50(engine: EmbeddedEngine): string {
  const words = 'Which city is the capital of Kenya and which currency does Kenya use'.split(' ');
  let text = '';
  for (let i = 0; engine.tokenize(text).length < 50; i++) text += `${i ? ' ' : ''}${words[i % words.length]}`;
  return text;
}

interface Run {
  ttftMs: number;
  promptTokens: number;
  genTokens: number;
  genMs: number;
}

async function run(engine: EmbeddedEngine, prompt: string, maxTokens: number): Promise<Run> {
  const t0 = performance.now();
  const res = await engine.request({
    path: '/v1/completions',
    body: { model: 'm', prompt, max_tokens: maxTokens, temperature: 0, stream: true },
  });
  const parser = new ResponseStreamParser();
  let first = -1;
  for await (const chunk of res.body) {
    if (first >= 0) continue; // only the first token's time is read from the stream
    for (const item of parser.push(chunk)) {
      if (item.kind !== 'json' || first >= 0) continue;
      const c = (item.value as { choices?: { text?: string }[] }).choices?.[0];
      if (c?.text) first = performance.now() - t0;
    }
  }
  const end = performance.now() - t0;
  const f = await res.final;
  return {
    ttftMs: first < 0 ? end : first,
    promptTokens: f.usage.prompt_tokens,
    genTokens: f.usage.completion_tokens,
    genMs: end - (first < 0 ? end : first),
  };
}

/**
 * The library's own completion path (LlamaCompletion, what `node-llama-cpp complete` runs) on the same model,
 * prompt and settings, in-process: wall-clock generation speed, measured as for the engine.
 */
async function libraryBaseline(engine: EmbeddedEngine, maxTokens: number, runs: number): Promise<number> {
  const { LlamaCompletion } = await import('node-llama-cpp');
  const context = await engine.model.createContext({ contextSize: 256, threads: 1 });
  try {
    const rates: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const seq = context.getSequence();
      const completion = new LlamaCompletion({ contextSequence: seq });
      let n = 0;
      let first = 0;
      await completion.generateCompletion(GEN_PROMPT, {
        maxTokens,
        temperature: 0,
        onToken: (t) => {
          if (n === 0) first = performance.now();
          n += t.length;
        },
      });
      const end = performance.now();
      if (i > 0) rates.push((n - 1) / ((end - first) / 1000));
      completion.dispose();
      seq.dispose();
    }
    return median(rates);
  } finally {
    await context.dispose();
  }
}

/** node-llama-cpp's own CLI on the same model and text: llama.cpp's internal eval timings (model time only). */
function cliBaseline(modelPath: string, maxTokens: number): { gen_tps: number } | { error: string } {
  const cli = join(dirname(fileURLToPath(import.meta.resolve('node-llama-cpp'))), 'cli', 'cli.js');
  const r = spawnSync(
    process.execPath,
    [
      cli,
      'complete',
      '--model',
      modelPath,
      '--gpu',
      'false',
      '--threads',
      '1',
      '--text',
      GEN_PROMPT,
      '--maxTokens',
      String(maxTokens),
      '--temperature',
      '0',
      '--repeatPenalty',
      '1',
      '--printTimings',
    ],
    { input: '', encoding: 'utf8', timeout: 120_000 },
  );
  const out = `${r.stdout}${r.stderr}`;
  const gen = /\beval time =\s*[\d.]+ ms \/\s*(\d+) runs.*?([\d.]+) tokens per second/.exec(out);
  if (!gen) return { error: `no timings in the CLI output (exit ${r.status})` };
  return { gen_tps: Number(gen[2]) };
}

/** The embedded model: load time, prompt and generation speed, first-token latency, memory; with a baseline. */
export const modelBench: Benchmark = {
  summary: 'the embedded model: load, prompt and generation speed, first token, memory (vs the library CLI)',
  async run({ quick }) {
    const modelPath = process.env.COCOON_BENCH_MODEL ?? EMBEDDED_MODEL_PATH;
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const engine = await EmbeddedEngine.load({ modelPath });
    const loadMs = performance.now() - t0;
    try {
      const runs = quick ? 3 : 10;
      const maxTokens = 200;
      await run(engine, GEN_PROMPT, 8); // warm-up
      const gen: Run[] = [];
      for (let i = 0; i < runs; i++) gen.push(await run(engine, GEN_PROMPT, maxTokens));
      const p50 = prompt50(engine);
      const first: Run[] = [];
      for (let i = 0; i < runs; i++) first.push(await run(engine, p50, 1));
      const rssMb = (process.memoryUsage().rss - rss0) / 1048576;
      const library = await libraryBaseline(engine, maxTokens, runs);
      const cli = cliBaseline(modelPath, maxTokens);
      const genTps = median(gen.map((g) => (g.genTokens - 1) / (g.genMs / 1000)));
      const out: Record<string, unknown> = {
        model: modelPath.replace(/^.*\//, ''),
        load_ms: r1(loadMs),
        prompt_tps: r1(median(first.map((f) => f.promptTokens / (f.ttftMs / 1000)))),
        gen_tps: r1(genTps),
        gen_tokens_per_run: median(gen.map((g) => g.genTokens)),
        ttft_ms: r1(median(first.map((f) => f.ttftMs))),
        ttft_prompt_tokens: first[0]?.promptTokens,
        rss_mb: r1(rssMb),
        runs,
      };
      out.baseline_gen_tps = r1(library);
      out.gen_vs_baseline = Math.round((genTps / library) * 100) / 100;
      if ('error' in cli) out.baseline_cli_error = cli.error;
      else {
        out.baseline_cli_llamacpp_eval_tps = r1(cli.gen_tps);
        out.gen_vs_cli_llamacpp_eval = Math.round((genTps / cli.gen_tps) * 100) / 100;
      }
      out.note =
        'gen_tps: wall clock through the engine (OpenAI SSE, detokenized, streamed); baseline_gen_tps: the library ' +
        'completion path that `node-llama-cpp complete` runs, same model/prompt/settings, wall clock; ' +
        "baseline_cli_llamacpp_eval_tps: the CLI's printed llama.cpp eval timing, model time only (no sampling or JS)";
      return out;
    } finally {
      await engine.close();
    }
  },
};
