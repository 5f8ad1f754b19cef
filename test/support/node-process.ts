// Starting `cocoon …` nodes as child processes in tests: keep every line they print (stdout and stderr), wait for
// lines on stdout that say what the node has done, and kill everything a test started when it ends.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const COCOON_BIN = new URL('../../bin/cocoon.js', import.meta.url).pathname;

export interface NodeProcess {
  child: ChildProcess;
  /** Every line printed so far, stdout and stderr, in the order they arrived. */
  lines: string[];
  /** The last 8 KiB of stderr. */
  stderr(): string;
  /**
   * Resolves with the first capture group of `re` (or the whole match) in a stdout line, one printed before the
   * call included; rejects when the process exits first or after `timeoutMs` (default 60 s).
   */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has ended and all it printed is read (null after a signal). */
  exit: Promise<number | null>;
}

/** A process whose stdout said it is ready. */
export interface ReadyProcess extends NodeProcess {
  /** The first capture group of the ready pattern (or the whole match). */
  match: string;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  timeoutMs?: number;
}

export class NodeProcesses {
  readonly all: ChildProcess[] = [];

  /**
   * Runs `cocoon ARGS` (or `node EXEC_ARGV bin/cocoon.js ARGS`) and resolves once a stdout line matches `ready`.
   *
   * @example
   * const proxy = await nodes.start(['proxy', ...common], /proxy: workers on/);
   */
  start(args: string[], ready: RegExp, opts: StartOptions = {}): Promise<ReadyProcess> {
    return this.launch(args, ready, opts).ready;
  }

  /** {@link start}, with the process and its output available before (or without) it ever gets ready. */
  launch(
    args: string[],
    ready: RegExp,
    opts: StartOptions = {},
  ): NodeProcess & { ready: Promise<ReadyProcess> } {
    const p = this.run(args, opts);
    const promise = p.waitFor(ready, opts.timeoutMs).then((match) => ({ ...p, match }));
    promise.catch(() => {}); // a caller of launch() may only ever look at the output
    return { ...p, ready: promise };
  }

  /**
   * Runs `cocoon ARGS` and returns at once; wait for what it prints with `waitFor`.
   *
   * @example
   * const up = nodes.run(['up', '--dir', dir, '--port', '0']);
   * const api = await up.waitFor(/OpenAI API: (\S+)/, 120_000);
   */
  run(args: string[], opts: StartOptions = {}): NodeProcess {
    const child = spawn(process.execPath, [...(opts.execArgv ?? []), COCOON_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    this.all.push(child);
    const lines: string[] = [];
    const stdout: string[] = [];
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-8192);
    });
    const stderr = () => err;
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
    const waiters = new Set<{ re: RegExp; resolve: (s: string) => void }>();
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      lines.push(l);
      stdout.push(l);
      for (const w of waiters) {
        const m = w.re.exec(l);
        if (m) {
          waiters.delete(w);
          w.resolve(m[1] ?? m[0]);
        }
      }
    });
    // 'close', not 'exit': the last lines on stderr (why it exited) may still be in the pipe at 'exit'.
    const exit = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const waitFor = (re: RegExp, timeoutMs = 60_000) => {
      const seen = stdout.map((l) => re.exec(l)).find(Boolean);
      if (seen) return Promise.resolve(seen[1] ?? seen[0]);
      return new Promise<string>((resolve, reject) => {
        const waiter = {
          re,
          resolve: (s: string) => {
            clearTimeout(timer);
            resolve(s);
          },
        };
        const fail = (why: string) => {
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`${args[0]} ${why} waiting for ${re}:\n${lines.slice(-200).join('\n')}`));
        };
        const timer = setTimeout(() => fail(`printed nothing matching in ${timeoutMs} ms`), timeoutMs);
        waiters.add(waiter);
        void exit.then((code) => fail(`exited with ${code}`));
      });
    };
    return { child, lines, stderr, waitFor, exit };
  }

  /** Kills every process started here (SIGKILL). */
  killAll(): void {
    for (const c of this.all) c.kill('SIGKILL');
  }
}
