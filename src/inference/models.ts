// Where a model comes from: the demo model committed with Cocoon (`embedded`), a local GGUF file, or a file on
// Hugging Face (`hf:OWNER/REPO/FILE.gguf`) downloaded once into a cache — resumable, with a progress bar, and
// checked against its SHA-256.

import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.ts';

/** The demo model trained for Cocoon (model/README.md says what it knows). */
export const EMBEDDED_MODEL_PATH = fileURLToPath(new URL('../../model/cocoon-demo.gguf', import.meta.url));
export const EMBEDDED_MODEL_NAME = 'cocoon-demo';

export function defaultModelCache(): string {
  return (
    process.env.COCOON_MODEL_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cocoon', 'models')
  );
}

export interface ResolveOptions {
  cacheDir?: string;
  /** Hugging Face endpoint (default `COCOON_HF_ENDPOINT` or https://huggingface.co). */
  endpoint?: string;
  /** Progress callback; by default a bar on stderr when it is a terminal. */
  onProgress?: (done: number, total: number | undefined) => void;
  token?: string;
}

export interface ResolvedModel {
  path: string;
  name: string;
  source: 'embedded' | 'file' | 'hf';
  /** SHA-256 of the file, when it was downloaded (and checked). */
  sha256?: string;
}

/** `hf:OWNER/REPO/PATH/FILE.gguf[@REVISION][#sha256=HEX]`. */
export function parseHfSpec(spec: string): { repo: string; file: string; revision: string; sha256?: string } {
  const m = /^hf:([^/\s]+\/[^/\s]+)\/([^@#\s]+\.gguf)(?:@([^#\s]+))?(?:#sha256=([0-9a-fA-F]{64}))?$/.exec(
    spec,
  );
  if (!m) throw new EngineError('MODEL_SPEC', `not a model spec: ${spec} (expected hf:OWNER/REPO/FILE.gguf)`);
  const out: { repo: string; file: string; revision: string; sha256?: string } = {
    repo: m[1] as string,
    file: m[2] as string,
    revision: m[3] ?? 'main',
  };
  if (m[4]) out.sha256 = m[4].toLowerCase();
  return out;
}

/**
 * Resolves `embedded`, a path, or an `hf:` spec to a local GGUF file, downloading it if needed.
 *
 * @example
 * const m = await resolveModel('hf:bartowski/SmolLM2-360M-Instruct-GGUF/SmolLM2-360M-Instruct-Q8_0.gguf');
 */
export async function resolveModel(spec: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  if (spec === 'embedded' || spec === EMBEDDED_MODEL_NAME) {
    if (!existsSync(EMBEDDED_MODEL_PATH))
      throw new EngineError('MODEL_MISSING', `the demo model is missing: ${EMBEDDED_MODEL_PATH}`);
    return { path: EMBEDDED_MODEL_PATH, name: EMBEDDED_MODEL_NAME, source: 'embedded' };
  }
  if (!spec.startsWith('hf:')) {
    const path = resolve(spec);
    if (!existsSync(path) || !statSync(path).isFile())
      throw new EngineError('MODEL_MISSING', `no model file at ${path}`);
    return { path, name: path.replace(/^.*\//, '').replace(/\.gguf$/i, ''), source: 'file' };
  }
  const hf = parseHfSpec(spec);
  const endpoint = (opts.endpoint ?? process.env.COCOON_HF_ENDPOINT ?? 'https://huggingface.co').replace(
    /\/+$/,
    '',
  );
  const dest = join(opts.cacheDir ?? defaultModelCache(), 'hf', hf.repo, hf.revision, hf.file);
  const name = hf.file.replace(/^.*\//, '').replace(/\.gguf$/i, '');
  const sidecar = `${dest}.sha256`;
  if (existsSync(dest) && existsSync(sidecar)) {
    const sha = readFileSync(sidecar, 'utf8').trim();
    if (!hf.sha256 || hf.sha256 === sha) return { path: dest, name, source: 'hf', sha256: sha };
  }
  const url = `${endpoint}/${hf.repo}/resolve/${encodeURIComponent(hf.revision)}/${hf.file.split('/').map(encodeURIComponent).join('/')}`;
  const sha = await download(url, dest, hf.sha256, opts);
  writeFileSync(sidecar, `${sha}\n`);
  return { path: dest, name, source: 'hf', sha256: sha };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

function progressBar(): (done: number, total: number | undefined) => void {
  if (!process.stderr.isTTY) return () => {};
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done !== total) return;
    last = now;
    const mb = (n: number) => (n / 1048576).toFixed(1);
    if (total) {
      const w = 30;
      const f = Math.round((done / total) * w);
      process.stderr.write(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${mb(done)}/${mb(total)} MiB`);
    } else process.stderr.write(`\r${mb(done)} MiB`);
    if (done === total) process.stderr.write('\n');
  };
}

/**
 * Downloads `url` to `dest` through `dest.part`, resuming a partial file with a Range request, and checks the
 * SHA-256 (given, or published by the server as an `X-Linked-Etag` / `ETag`). Returns the file's SHA-256.
 */
export async function download(
  url: string,
  dest: string,
  expected: string | undefined,
  opts: ResolveOptions = {},
): Promise<string> {
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  const progress = opts.onProgress ?? progressBar();
  const have = existsSync(part) ? statSync(part).size : 0;
  const headers: Record<string, string> = {};
  if (have > 0) headers.range = `bytes=${have}-`;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    throw new EngineError(
      'MODEL_DOWNLOAD',
      `GET ${url}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  if (res.status === 416 && have > 0) {
    // The partial file is already complete (or bigger than the file): start again.
    rmSync(part, { force: true });
    return download(url, dest, expected, opts);
  }
  if (!res.ok || !res.body) throw new EngineError('MODEL_DOWNLOAD', `GET ${url}: HTTP ${res.status}`);
  const resumed = res.status === 206;
  const etag = (res.headers.get('x-linked-etag') ?? res.headers.get('etag') ?? '')
    .replace(/^W\//, '')
    .replace(/"/g, '');
  const published = /^[0-9a-f]{64}$/i.test(etag) ? etag.toLowerCase() : undefined;
  const want = expected ?? published;
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
  const out = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
  let done = resumed ? have : 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      done += chunk.length;
      progress(done, total);
    }
  } catch (err) {
    await new Promise<void>((r) => out.end(() => r()));
    throw new EngineError(
      'MODEL_DOWNLOAD',
      `the download of ${url} broke off at ${done} bytes; run again to resume`,
      {
        cause: err,
      },
    );
  }
  await new Promise<void>((resolveEnd, reject) => {
    out.on('error', reject);
    out.end(() => resolveEnd());
  });
  if (total !== undefined && done !== total) {
    throw new EngineError('MODEL_DOWNLOAD', `got ${done} of ${total} bytes of ${url}; run again to resume`);
  }
  const sha = await sha256File(part);
  if (want && sha !== want) {
    rmSync(part, { force: true });
    throw new EngineError(
      'MODEL_CHECKSUM',
      `SHA-256 of ${url} is ${sha}, expected ${want}; the download was removed`,
    );
  }
  renameSync(part, dest);
  return sha;
}
