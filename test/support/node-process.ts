// Starting `cocoon …` nodes as child processes in tests: wait for a line on stdout that says the node is ready,
// keep the last of its stderr for the failure message, and kill everything a test started when it ends.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const COCOON_BIN = new URL('../../bin/cocoon.js', import.meta.url).pathname;

export interface NodeProcess {
  child: ChildProcess;
  /** The first capture group of the ready pattern (or the whole match). */
  match: string;
  /** The last 8 KiB of stderr. */
  stderr(): string;
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
   */
  start(args: string[], ready: RegExp, opts: StartOptions = {}): Promise<NodeProcess> {
    return this.launch(args, ready, opts).ready;
  }

  /** {@link start}, with the process and its stderr available before (or without) it ever gets ready. */
  launch(
    args: string[],
    ready: RegExp,
    opts: StartOptions = {},
  ): { child: ChildProcess; stderr: () => string; ready: Promise<NodeProcess> } {
    const child = spawn(process.execPath, [...(opts.execArgv ?? []), COCOON_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    this.all.push(child);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-8192);
    });
    const stderr = () => err;
    const promise = new Promise<NodeProcess>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${args[0]} not ready: ${err}`)),
        opts.timeoutMs ?? 60_000,
      );
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
        const m = ready.exec(l);
        if (m) {
          clearTimeout(timer);
          resolve({ child, match: m[1] ?? m[0], stderr });
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${args[0]} exited with ${code}: ${err}`));
      });
    });
    promise.catch(() => {}); // a caller of launch() may only ever look at stderr
    return { child, stderr, ready: promise };
  }

  killAll(): void {
    for (const c of this.all) c.kill('SIGKILL');
  }
}
