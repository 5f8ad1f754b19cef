// Helpers for tests that start nodes as processes: a free loopback port, and a JSON root config listing one proxy,
// the fake-TDX image, one model, and (optionally) the contract codes and a root address so payments are signed.

import { createServer } from 'node:net';

export { writeLocalRootConfig as writeRootConfig } from '../../src/node/local-root-config.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
