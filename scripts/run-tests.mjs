#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (TS through tsx).
// Node 20's `--test` does not expand globs itself, so the file list is built here.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) find(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...find('src', []), ...find('test', [])].sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A test file that hangs fails after ten minutes (its process is killed and named) instead of holding up the
// run; the longest file takes about a minute here. A file whose tests are over exits even when something it
// started still holds the event loop.
const child = spawn(
  process.execPath,
  [
    ...['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2'],
    ...['--test-timeout=600000', '--test-force-exit', ...files],
  ],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
