// Helpers for tests that start nodes as processes: a free loopback port, and a JSON root config listing one proxy,
// the fake-TDX image, one model, and (optionally) the contract codes and a root address so payments are signed.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { compileContract } from '../../src/chain/compile.ts';
import { FAKE_TDX_IMAGE_HASH } from '../../src/tee/fake-tdx.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function writeRootConfig(
  file: string,
  o: { workers: string; clients: string; model: string; rootAddress?: string },
): Promise<void> {
  const root: Record<string, unknown> = {
    proxies: [{ workers: o.workers, clients: o.clients }],
    proxy_hashes: [FAKE_TDX_IMAGE_HASH],
    worker_hashes: [FAKE_TDX_IMAGE_HASH],
    model_hashes: [createHash('sha256').update(o.model).digest('hex')],
  };
  if (o.rootAddress) {
    const [proxy, worker, client] = await Promise.all([
      compileContract('proxy'),
      compileContract('worker'),
      compileContract('client'),
    ]);
    Object.assign(root, {
      proxy_sc_code: proxy.toBoc().toString('hex'),
      worker_sc_code: worker.toBoc().toString('hex'),
      client_sc_code: client.toBoc().toString('hex'),
      root_address: o.rootAddress,
    });
  }
  writeFileSync(file, JSON.stringify(root));
}
