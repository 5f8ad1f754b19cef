// The contract addresses both ends of a handshake derive on their own (cocoon-reference.md §9.3): the proxy's
// contract from its key, owner and the root; each client's and worker's contract from that. A handshake that
// names another address than the derived one is refused. Derivation needs the root address and the contract
// codes in the root params; a JSON root config without them derives nothing (and checks nothing).

import { Address } from '@ton/core';
import { ClientContract } from '../chain/client-contract.ts';
import { ProxyContract } from '../chain/proxy.ts';
import { WorkerContract } from '../chain/worker.ts';
import type { RootConfig } from './root-config.ts';

function parse(a: string): Address | undefined {
  try {
    return Address.parse(a);
  } catch {
    return undefined;
  }
}

/** The proxy contract of a proxy key and owner, or '' when the root config cannot derive it. */
export function proxyScAddress(root: RootConfig, owner: string, proxyPublicKey: Uint8Array): string {
  const code = root.params.proxyScCode;
  const rootAddr = root.rootAddress && parse(root.rootAddress);
  const ownerAddr = parse(owner);
  if (!code || !rootAddr || !ownerAddr) return '';
  return ProxyContract.createFromConfig(
    { owner: ownerAddr, proxyPublicKey: Buffer.from(proxyPublicKey), root: rootAddr, params: root.params },
    code,
  ).address.toString();
}

/** The contract of a client or worker `owner` with the proxy contract `proxySc`, or ''. */
export function childScAddress(
  kind: 'client' | 'worker',
  root: RootConfig,
  proxySc: string,
  owner: string,
  proxyPublicKey: Uint8Array,
): string {
  const code = kind === 'client' ? root.params.clientScCode : root.params.workerScCode;
  const proxy = parse(proxySc);
  const ownerAddr = parse(owner);
  if (!code || !proxy || !ownerAddr) return '';
  const config = {
    owner: ownerAddr,
    proxy,
    proxyPublicKey: Buffer.from(proxyPublicKey),
    params: root.params,
  };
  return (
    kind === 'client'
      ? ClientContract.createFromConfig(config, code)
      : WorkerContract.createFromConfig(config, code)
  ).address.toString();
}

/** Whether `a` is a TON address (any form). */
export function isAddress(a: string): boolean {
  return parse(a) !== undefined;
}

/** Two address strings naming the same account (forms may differ). */
export function sameAddress(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  return x !== undefined && y !== undefined && x.equals(y);
}
