// The dashboard every node serves at `/` of its stats port (the client: of its API port). The page (web/) is
// bundled in-process with esbuild on first request — the bundler Vite itself builds on — so there is no build
// step and nothing is fetched from a CDN. `/dashboard/nodes` tells the page where the other nodes answer.

import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { hasToken, sendJson } from './http-util.ts';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

interface Assets {
  html: string;
  js: string;
  css: string;
}

let assets: Promise<Assets> | undefined;

/** The page, its script (TypeScript and uPlot bundled into one module) and its styles, built once. */
export function dashboardAssets(): Promise<Assets> {
  assets ??= (async () => {
    const out = await build({
      entryPoints: [`${WEB}main.ts`],
      bundle: true,
      format: 'esm',
      minify: true,
      write: false,
      target: 'es2022',
      logLevel: 'silent',
    });
    const js = out.outputFiles[0]?.text ?? '';
    const uplotCss = await readFile(
      fileURLToPath(new URL('../../node_modules/uplot/dist/uPlot.min.css', import.meta.url)),
      'utf8',
    );
    const [html, css] = await Promise.all([
      readFile(`${WEB}index.html`, 'utf8'),
      readFile(`${WEB}style.css`, 'utf8'),
    ]);
    return { html, js, css: `${uplotCss}\n${css}` };
  })();
  assets.catch(() => {
    assets = undefined;
  });
  return assets;
}

/** Node base URLs (`http://host:port`) the page polls; the serving node's own is ''. */
export type DashboardNodes = () => { client?: string; proxy?: string; worker?: string };

/**
 * Serves `/`, `/dashboard.js`, `/dashboard.css` and `/dashboard/nodes`; false for other paths. The page holds no
 * data: everything it shows comes from /jsonstats behind the access token it was opened with.
 */
export function serveDashboard(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opts: { accessToken: string | undefined; nodes: DashboardNodes },
): boolean {
  const p = url.pathname;
  if (p === '/dashboard/nodes') {
    if (!hasToken(req, url, opts.accessToken)) {
      sendJson(res, 401, {
        error: { message: 'open the dashboard with ?access_token=', type: 'auth_error' },
      });
    } else sendJson(res, 200, opts.nodes());
    return true;
  }
  const kind = p === '/' ? 'html' : p === '/dashboard.js' ? 'js' : p === '/dashboard.css' ? 'css' : undefined;
  if (!kind || req.method !== 'GET') return false;
  dashboardAssets().then(
    (a) => {
      const type = { html: 'text/html; charset=utf-8', js: 'text/javascript', css: 'text/css' }[kind];
      const text = kind === 'html' ? a.html : kind === 'js' ? a.js : a.css;
      res.writeHead(200, {
        'content-type': type,
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-cache',
      });
      res.end(text);
    },
    (err: Error) =>
      sendJson(res, 500, {
        error: { message: `the dashboard did not build: ${err.message}`, type: 'internal_error' },
      }),
  );
  return true;
}
