// The long fuzz run: the same fuzz tests `npm test` runs briefly (test/fuzz/*.test.ts), each for its share of
// the time, plus the TL decoder and frame/connection fuzzers rerun with fresh seeds. Failing inputs are saved
// into test/fuzz/corpus/<target>/, where every short run replays them. Prints one JSON line per target and a
// summary; exits 1 if anything failed.
//
//   npx tsx scripts/fuzz.ts [--minutes N] [--target pow|cert|quote|http|tl|frame] [--seed S]

import { spawn } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = join(REPO, 'test/fuzz/corpus');

/** Targets whose tests read FUZZ_SECONDS and save their own failures. */
const BUDGETED = {
  pow: 'test/fuzz/pow.test.ts',
  cert: 'test/fuzz/cert.test.ts',
  quote: 'test/fuzz/quote.test.ts',
  http: 'test/fuzz/http.test.ts',
} as const;
/** The older fuzzers: a fixed 100,000 inputs a run, reproduced by seed; rerun with new seeds. */
const SEEDED = {
  tl: 'src/tl/codec.fuzz.test.ts',
  frame: 'src/net/connection.fuzz.test.ts',
} as const;
const PER_SEEDED_RUN = 100_000;
/** Seconds of each budgeted file that are not fuzz loops, roughly. */
const OVERHEAD_S: Record<keyof typeof BUDGETED, number> = { pow: 2, cert: 1.5, quote: 1.5, http: 7 };

type Target = keyof typeof BUDGETED | keyof typeof SEEDED;
const TARGETS = [...Object.keys(BUDGETED), ...Object.keys(SEEDED)] as Target[];

interface Summary {
  target: Target;
  iterations: number;
  seconds: number;
  failures: number;
  runs: number;
  seeds: number[];
  saved: string[];
  /** Iterations of each fuzz loop of the file, when it has several. */
  loops?: Record<string, number>;
}

function usage(msg?: string): never {
  if (msg) console.error(msg);
  console.error(`usage: npx tsx scripts/fuzz.ts [--minutes N] [--target ${TARGETS.join('|')}] [--seed S]`);
  process.exit(2);
}

function options() {
  try {
    return parseArgs({
      options: {
        minutes: { type: 'string' },
        target: { type: 'string', multiple: true },
        seed: { type: 'string' },
      },
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
}
const args = options();
const minutes = Number(args.minutes ?? 5);
if (!(minutes > 0)) usage(`--minutes must be a positive number, got ${args.minutes}`);
const targets = (args.target ?? TARGETS).flatMap((t) => t.split(',')) as Target[];
for (const t of targets) if (!TARGETS.includes(t)) usage(`unknown target ${t}`);
const fixedSeed = args.seed;

function corpusFiles(target: string): Set<string> {
  const dir = join(CORPUS, target);
  return new Set(existsSync(dir) ? readdirSync(dir) : []);
}

/** Runs one test file under node:test; resolves with its exit status and output. */
function runTest(file: string, env: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('close', (code) => done({ ok: code === 0, output }));
  });
}

const tail = (s: string, n = 40) => s.trimEnd().split('\n').slice(-n).join('\n');

async function budgeted(target: keyof typeof BUDGETED, seconds: number): Promise<Summary> {
  const before = corpusFiles(target);
  const beforeDer = corpusFiles('der');
  const dir = mkdtempSync(join(tmpdir(), 'cocoon-fuzz-'));
  const reportFile = join(dir, 'report.jsonl');
  const seed = fixedSeed ?? String(randomInt(1, 0x7fffffff));
  const started = performance.now();
  // The file's fixed part (startup, a local network for http, its one-off tests) comes out of the target's time.
  const env = {
    FUZZ_SECONDS: String(Math.max(1, Math.round(seconds - OVERHEAD_S[target]))),
    FUZZ_SAVE: '1',
    FUZZ_REPORT: reportFile,
    FUZZ_SEED: seed,
  };
  const { ok, output } = await runTest(BUDGETED[target], env);
  const lines = existsSync(reportFile)
    ? readFileSync(reportFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { target: string; iterations: number; failures: number })
    : [];
  rmSync(dir, { recursive: true, force: true });
  const saved = [
    ...[...corpusFiles(target)].filter((f) => !before.has(f)).map((f) => `test/fuzz/corpus/${target}/${f}`),
    ...(target === 'cert'
      ? [...corpusFiles('der')].filter((f) => !beforeDer.has(f)).map((f) => `test/fuzz/corpus/der/${f}`)
      : []),
  ];
  const failures =
    lines.reduce((n, l) => n + l.failures, 0) + (ok ? 0 : lines.some((l) => l.failures) ? 0 : 1);
  if (!ok) console.error(`--- ${target} failed (FUZZ_SEED=${seed}):\n${tail(output)}\n---`);
  return {
    target,
    iterations: lines.reduce((n, l) => n + l.iterations, 0),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    failures,
    runs: 1,
    seeds: [Number(seed)],
    saved,
    loops: Object.fromEntries(lines.map((l) => [l.target, l.iterations])),
  };
}

/** Keeps what reproduces a failed run of an older fuzzer: its seed, and for TL the input it names. */
function saveSeeded(target: keyof typeof SEEDED, seed: number, output: string): string[] {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  const seedFile = join(dir, `crash-${seed}.seed`);
  writeFileSync(seedFile, `${seed}\n`);
  out.push(`test/fuzz/corpus/${target}/crash-${seed}.seed`);
  const input = target === 'tl' ? /input ([0-9a-f]*):/.exec(output)?.[1] : undefined;
  if (input !== undefined) {
    const bytes = Buffer.from(input, 'hex');
    const name = `crash-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`;
    writeFileSync(join(dir, name), bytes);
    out.push(`test/fuzz/corpus/${target}/${name}`);
  }
  return out;
}

async function seeded(target: keyof typeof SEEDED, seconds: number): Promise<Summary> {
  const started = performance.now();
  const s: Summary = { target, iterations: 0, seconds: 0, failures: 0, runs: 0, seeds: [], saved: [] };
  let last = 0;
  do {
    const runStarted = performance.now();
    const seed = fixedSeed ? Number(fixedSeed) : randomInt(1, 0x7fffffff);
    const { ok, output } = await runTest(SEEDED[target], { FUZZ_SEED: String(seed) });
    s.runs++;
    s.seeds.push(seed);
    s.iterations += PER_SEEDED_RUN;
    if (!ok) {
      s.failures++;
      s.saved.push(...saveSeeded(target, seed, output));
      console.error(`--- ${target} failed (FUZZ_SEED=${seed}):\n${tail(output)}\n---`);
    }
    last = performance.now() - runStarted;
    // Another run only if it fits (a fixed seed would only repeat itself).
  } while (!fixedSeed && performance.now() - started + last <= seconds * 1000);
  s.seconds = Math.round((performance.now() - started) / 100) / 10;
  return s;
}

const perTarget = (minutes * 60) / targets.length;
console.error(`fuzzing ${targets.join(', ')} for ${minutes} min (${Math.round(perTarget)} s each)`);
const results: Summary[] = [];
for (const t of targets) {
  const r =
    t in BUDGETED
      ? await budgeted(t as keyof typeof BUDGETED, perTarget)
      : await seeded(t as keyof typeof SEEDED, perTarget);
  // Seeds are many for the older fuzzers: the summary keeps the failing ones' files and the count.
  const line = { ...r, seeds: r.seeds.length <= 3 ? r.seeds : `${r.seeds.length} seeds` };
  console.log(JSON.stringify(line));
  results.push(r);
}
const failures = results.reduce((n, r) => n + r.failures, 0);
console.log(
  JSON.stringify({
    summary: true,
    minutes,
    targets: results.length,
    iterations: results.reduce((n, r) => n + r.iterations, 0),
    failures,
    saved: results.flatMap((r) => r.saved),
  }),
);
process.exit(failures > 0 ? 1 : 0);
