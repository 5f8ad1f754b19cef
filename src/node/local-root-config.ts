// A JSON root config file (what `--root-config` reads, see rootConfigFromJson) for a local network on fake TDX, as
// tests and benchmarks start one: one proxy, the fake-TDX image, the models, and (optionally) the contract codes and
// a root address so that nodes sign payments without a chain.

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { compileContract } from '../chain/compile.ts';
import { FAKE_TDX_IMAGE_HASH } from '../tee/fake-tdx.ts';

export interface LocalRootConfigOptions {
  /** The proxy's address for workers, `host:port`. */
  workers: string;
  /** The proxy's address for clients, `host:port`. */
  clients: string;
  /** The model allowed, or the models (their SHA-256 go in `model_hashes`). */
  model: string | readonly string[];
  /** With a root address, the proxy, worker and client contract codes are written too. */
  rootAddress?: string;
}

/**
 * Writes a root config listing one proxy, the fake-TDX image hash for proxies and workers, and the models.
 *
 * @example
 * await writeLocalRootConfig('root.json', { workers: '127.0.0.1:11001', clients: '127.0.0.1:11002', model: 'm' });
 */
export async function writeLocalRootConfig(file: string, o: LocalRootConfigOptions): Promise<void> {
  const root: Record<string, unknown> = {
    proxies: [{ workers: o.workers, clients: o.clients }],
    proxy_hashes: [FAKE_TDX_IMAGE_HASH],
    worker_hashes: [FAKE_TDX_IMAGE_HASH],
    model_hashes: (typeof o.model === 'string' ? [o.model] : o.model).map((m) =>
      createHash('sha256').update(m).digest('hex'),
    ),
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
