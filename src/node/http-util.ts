// Small HTTP pieces the three runners share: JSON with exact bigints, access tokens, the /stats and /jsonstats
// pages (cocoon-reference.md §6.4), and reading a bounded request body.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const BIG = '\u0000big:';

/**
 * JSON where bigints (nanoTON, token counts) are written as exact integer literals, never through a float.
 *
 * @example
 * toJson({ total_cost: 12345678901234567890n }) // '{"total_cost":12345678901234567890}'
 */
export function toJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${BIG}${v}` : v), indent);
  return text.replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = toJson(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    // The dashboard on one node's port reads the other nodes' /jsonstats (guarded by the access token).
    'access-control-allow-origin': '*',
    ...headers,
  });
  res.end(text);
}

/** Whether a request carries `token` as `?access_token=` or `Authorization: Bearer`; no token configured: yes. */
export function hasToken(req: IncomingMessage, url: URL, token: string | undefined): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  const given = url.searchParams.get('access_token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : '');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads a body of at most `limit` bytes within `timeoutMs`; undefined when too large, throws on timeout. Neither
 * destroys the request, so the caller can still answer (413, 408) on the same connection; it should answer with
 * `connection: close`, since the rest of the body is left unread.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs = 60_000,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      req.pause();
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        done();
        resolve(undefined);
      } else parts.push(c);
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(parts));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => onError(new Error('the request was closed before its body ended'));
    const timer = setTimeout(() => onError(new Error('request body not received in time')), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The URL of a request, or undefined when its target is not a URL (e.g. `//[`): `new URL` would throw. */
export function requestUrl(req: IncomingMessage, base: string): URL | undefined {
  try {
    return new URL(req.url ?? '/', base);
  } catch {
    return undefined;
  }
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string,
  );
}

function htmlOf(v: unknown): string {
  if (v === null || v === undefined) return '<i>—</i>';
  if (Array.isArray(v)) {
    if (v.length === 0) return '<i>none</i>';
    return `<ol>${v.map((x) => `<li>${htmlOf(x)}</li>`).join('')}</ol>`;
  }
  if (typeof v === 'object') {
    const rows = Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `<tr><th>${escapeHtml(k)}</th><td>${htmlOf(x)}</td></tr>`)
      .join('');
    return `<table>${rows}</table>`;
  }
  return escapeHtml(String(v));
}

/**
 * Serves `/stats` (HTML) and `/jsonstats` (JSON) of a node behind its access token; returns false for other
 * paths so the caller can go on.
 */
export function serveStats(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opts: { title: string; accessToken: string | undefined; stats: () => unknown },
): boolean {
  if (url.pathname !== '/stats' && url.pathname !== '/jsonstats') return false;
  if (!hasToken(req, url, opts.accessToken)) {
    sendJson(res, 401, {
      error: { message: 'this page needs the access token (?access_token= or Bearer)', type: 'auth_error' },
    });
    return true;
  }
  const stats = opts.stats();
  if (url.pathname === '/jsonstats') {
    sendJson(res, 200, stats);
    return true;
  }
  const plain = JSON.parse(toJson(stats)) as unknown;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(opts.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}</style>
</head><body><h1>${escapeHtml(opts.title)}</h1>${htmlOf(plain)}</body></html>`;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
  return true;
}

/** Serves `/metrics` (Prometheus text format) behind the node's access token; false for other paths. */
export function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opts: { accessToken: string | undefined; metrics: { text(): Promise<string>; contentType: string } },
): boolean {
  if (url.pathname !== '/metrics') return false;
  if (!hasToken(req, url, opts.accessToken)) {
    sendJson(res, 401, {
      error: { message: 'metrics need the access token (Bearer or ?access_token=)', type: 'auth_error' },
    });
    return true;
  }
  opts.metrics.text().then(
    (text) => {
      res.writeHead(200, {
        'content-type': opts.metrics.contentType,
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    },
    (err: Error) => sendJson(res, 500, { error: { message: err.message, type: 'internal_error' } }),
  );
  return true;
}
