// A node's RA-TLS identity and the verifier it applies to peers. `fake_tdx` (the reference's forgeable test
// quotes) is only ever chosen explicitly, for local networks; `tdx` is real hardware with DCAP.

import { createHash, type KeyObject } from 'node:crypto';
import { IdentityHolder, IdentityRefresher } from '../net/ratls.ts';
import { generateX25519, type X25519KeyPair } from '../seal/hpke.ts';
import { createRatlsIdentity, type QuoteSource } from '../tee/cert.ts';
import { type AttestationPolicy, AttestationVerifier, type PeerAttestation } from '../tee/policy.ts';
import { fakeTdxSource, hardwareTdxSource } from '../tee/quote-source.ts';
import type { TlConstructors } from '../tl/cocoon-api.gen.ts';

export type TeeMode = 'fake_tdx' | 'tdx';

export interface NodeIdentity {
  holder: IdentityHolder;
  refresher: IdentityRefresher;
  /** Raw 32-byte Ed25519 public key of the TLS identity. */
  publicKey: Uint8Array;
  privateKey: KeyObject;
  /** The X25519 key pair requests are sealed to; its public half is in every certificate this node issues. */
  seal: X25519KeyPair;
  /** Evidence for an app's nonce: a fresh quote binding it to this node's key, and the current certificate. */
  evidence(nonce: Uint8Array): Promise<TlConstructors['ext.evidence']>;
}

const EVIDENCE_DOMAIN = Buffer.from('cocoon attestation v1\n');

/** The REPORTDATA of nonce-bound evidence: SHA-512("cocoon attestation v1\n" ‖ certificate key ‖ nonce). */
export function evidenceReportData(publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return createHash('sha512').update(EVIDENCE_DOMAIN).update(publicKey).update(nonce).digest();
}

/** Issues this node's certificate (with a quote from `tee`) and keeps it fresh. */
export async function createNodeIdentity(opts: {
  tee: TeeMode | QuoteSource;
  privateKey?: KeyObject;
}): Promise<NodeIdentity> {
  const quoteSource =
    typeof opts.tee === 'string' ? (opts.tee === 'tdx' ? hardwareTdxSource() : fakeTdxSource()) : opts.tee;
  // The sealing key lives as long as the process: it never leaves the TD, and a restart issues a new one.
  const seal = generateX25519();
  const first = await createRatlsIdentity(
    opts.privateKey
      ? { quoteSource, privateKey: opts.privateKey, sealKey: seal.publicKey }
      : { quoteSource, sealKey: seal.publicKey },
  );
  const holder = new IdentityHolder(first);
  // Later certificates keep the same keys: the proxy's signing identity must not change under its peers.
  const refresher = new IdentityRefresher(holder, () =>
    createRatlsIdentity({ quoteSource, privateKey: first.privateKey, sealKey: seal.publicKey }),
  );
  refresher.start();
  return {
    holder,
    refresher,
    publicKey: first.publicKey,
    privateKey: first.privateKey,
    seal,
    evidence: async (nonce) => ({
      _: 'ext.evidence',
      public_key: first.publicKey,
      quote: await quoteSource.getQuote(evidenceReportData(first.publicKey, nonce)),
      certificate: holder.identity.certDer,
    }),
  };
}

/** A verifier for a policy kind, or a full policy (tdx needs collateral). */
export function verifierFor(policy: AttestationPolicy['kind'] | AttestationPolicy): AttestationVerifier {
  return new AttestationVerifier(typeof policy === 'string' ? { kind: policy } : policy);
}

/** Whether a peer's image hash is allowed by a root allowlist (an empty list allows nothing when checking). */
export function imageAllowed(peer: PeerAttestation, allowed: string[]): boolean {
  return allowed.includes(peer.imageHash.toLowerCase());
}
