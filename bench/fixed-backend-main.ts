// `node --import tsx bench/fixed-backend-main.ts PORT TOKENS`: the fixed backend in its own process.
import type { AddressInfo } from 'node:net';
import { fixedBackend } from './fixed-backend.ts';

const server = fixedBackend(Number(process.argv[3] ?? 200));
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
