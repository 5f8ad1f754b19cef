// An OpenAI-compatible HTTP surface over any InferenceEngine: GET /v1/models, POST /v1/chat/completions and
// /v1/completions, GET /healthz. Answers are written as the engine produces them (no buffering); a client that
// disconnects cancels its request in the engine.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CocoonError } from '../errors.ts';
import type { EngineFinal, EnginePath, InferenceEngine } from './engine.ts';

export interface OpenAiServerOptions {
  engine: InferenceEngine;
  /** Largest request body accepted (default 4 MiB). */
  maxBodyBytes?: number;
  /** Called when each request ends, with its token counts (or its error). */
  onFinished?: (info: { path: string; final?: EngineFinal; error?: unknown }) => void;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Authorization',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...CORS,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type = 'invalid_request_error',
): void {
  sendJson(res, status, { error: { message, type } });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) return undefined;
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/**
 * @example
 * const server = openAiServer({ engine });
 * const url = await listen(server, 8080);
 */
export function openAiServer(opts: OpenAiServerOptions): Server {
  const { engine } = opts;
  const limit = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  return createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendError(res, 500, err instanceof Error ? err.message : String(err), 'server_error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      const models = await engine.models();
      sendJson(res, 200, {
        object: 'list',
        data: models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.ownedBy ?? 'cocoon' })),
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const h = await engine.health();
      sendJson(res, h.ok ? 200 : 503, h);
      return;
    }
    const path = url.pathname as EnginePath;
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/completions')) {
      sendError(res, 404, `unsupported: ${req.method} ${url.pathname}`);
      return;
    }
    const raw = await readBody(req, limit);
    if (raw === undefined) {
      sendError(res, 413, `the request body exceeds ${limit} bytes`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, 400, 'the request body is not JSON');
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendError(res, 400, 'the request body must be a JSON object');
      return;
    }
    const ctl = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ctl.abort();
    });
    let answer: Awaited<ReturnType<InferenceEngine['request']>>;
    try {
      answer = await engine.request({ path, body: body as Record<string, unknown>, signal: ctl.signal });
    } catch (err) {
      opts.onFinished?.({ path, error: err });
      const code = err instanceof CocoonError ? err.code : 'ENGINE_ERROR';
      sendError(
        res,
        code === 'ENGINE_TIMEOUT' ? 504 : 502,
        err instanceof Error ? err.message : String(err),
        'engine_error',
      );
      return;
    }
    const headers: Record<string, string> = { 'content-type': answer.contentType, ...CORS };
    if (answer.stream) headers['cache-control'] = 'no-cache';
    res.writeHead(answer.status, headers);
    res.flushHeaders();
    try {
      for await (const chunk of answer.body) {
        if (ctl.signal.aborted) break;
        res.write(chunk);
      }
      res.end();
      opts.onFinished?.({ path, final: await answer.final });
    } catch (err) {
      opts.onFinished?.({ path, error: err });
      // Headers are out: the only honest signal left is to cut the connection.
      res.destroy();
    }
  }
}

/** Starts listening; resolves with the base URL. */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}
