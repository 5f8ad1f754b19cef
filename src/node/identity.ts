// A node's RA-TLS identity and the verifier it applies to peers. `fake_tdx` (the reference's forgeable test
// quotes) is only ever chosen explicitly, for local networks; `tdx` is real hardware with DCAP.

import type { KeyObject } from 'node:crypto';
import { IdentityHolder, IdentityRefresher } from '../net/ratls.ts';
import { createRatlsIdentity, type QuoteSource } from '../tee/cert.ts';
import { type AttestationPolicy, AttestationVerifier, type PeerAttestation } from '../tee/policy.ts';
import { fakeTdxSource, hardwareTdxSource } from '../tee/quote-source.ts';

export type TeeMode = 'fake_tdx' | 'tdx';

export interface NodeIdentity {
  holder: IdentityHolder;
  refresher: IdentityRefresher;
  /** Raw 32-byte Ed25519 public key of the TLS identity. */
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

/** Issues this node's certificate (with a quote from `tee`) and keeps it fresh. */
export async function createNodeIdentity(opts: {
  tee: TeeMode | QuoteSource;
  privateKey?: KeyObject;
}): Promise<NodeIdentity> {
  const quoteSource =
    typeof opts.tee === 'string' ? (opts.tee === 'tdx' ? hardwareTdxSource() : fakeTdxSource()) : opts.tee;
  const issue = () =>
    createRatlsIdentity(opts.privateKey ? { quoteSource, privateKey: opts.privateKey } : { quoteSource });
  const first = await issue();
  const holder = new IdentityHolder(first);
  // Later certificates keep the same key: the proxy's signing identity must not change under its peers.
  const refresher = new IdentityRefresher(holder, () =>
    createRatlsIdentity({ quoteSource, privateKey: first.privateKey }),
  );
  refresher.start();
  return { holder, refresher, publicKey: first.publicKey, privateKey: first.privateKey };
}

/** A verifier for a policy kind, or a full policy (tdx needs collateral). */
export function verifierFor(policy: AttestationPolicy['kind'] | AttestationPolicy): AttestationVerifier {
  return new AttestationVerifier(typeof policy === 'string' ? { kind: policy } : policy);
}

/** Whether a peer's image hash is allowed by a root allowlist (an empty list allows nothing when checking). */
export function imageAllowed(peer: PeerAttestation, allowed: string[]): boolean {
  return allowed.includes(peer.imageHash.toLowerCase());
}
