import type { Benchmark } from '../src/cli/commands/bench.ts';
import { IdentityHolder, RatlsServer, ratlsConnect } from '../src/net/ratls.ts';
import { AttestationCache } from '../src/tee/attestation-cache.ts';
import { createRatlsIdentity } from '../src/tee/cert.ts';
import { createFakeIntel } from '../src/tee/fake-intel.ts';
import { type AttestationPolicy, AttestationVerifier } from '../src/tee/policy.ts';
import { fakeIntelSource } from '../src/tee/quote-source.ts';
import { benchVerify } from './attest-verify.ts';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]! * 100) / 100;
}

/** Times `runs` RA-TLS handshakes (PoW at 0 bits, so one round trip) between two identities under a policy. */
async function handshakes(
  runs: number,
  server: IdentityHolder,
  client: IdentityHolder,
  policy: () => AttestationPolicy,
  cache: () => AttestationCache,
): Promise<number[]> {
  const srv = new RatlsServer({
    identity: server,
    verifier: new AttestationVerifier(policy(), { cache: cache() }),
    powDifficulty: 0,
  });
  srv.on('connection', (sock) => sock.destroy());
  const port = await srv.listen(0);
  const verifier = new AttestationVerifier(policy(), { cache: cache() });
  const times: number[] = [];
  try {
    for (let i = 0; i < runs + 5; i++) {
      const t0 = performance.now();
      const { socket } = await ratlsConnect({ host: '127.0.0.1', port, identity: client, verifier });
      const t1 = performance.now();
      socket.destroy();
      if (i >= 5) times.push(t1 - t0);
    }
  } finally {
    await srv.close();
  }
  return times;
}

/** Quote verification against the Intel fixtures, and full RA-TLS handshakes with fake-Intel quotes. */
export const attestBench: Benchmark = {
  summary: 'DCAP quote verification and RA-TLS handshakes',
  async run({ quick }) {
    const verify = await benchVerify({ quick });
    const fake = await createFakeIntel();
    const serverId = new IdentityHolder(await createRatlsIdentity({ quoteSource: fakeIntelSource(fake) }));
    const clientId = new IdentityHolder(await createRatlsIdentity({ quoteSource: fakeIntelSource(fake) }));
    const tdx = (): AttestationPolicy => ({
      kind: 'tdx',
      trustedRootDer: fake.rootDer,
      collateral: () => fake.collateral,
    });
    const runs = quick ? 20 : 200;
    // Capacity 0: every handshake runs the full DCAP verification on both sides.
    const full = await handshakes(runs, serverId, clientId, tdx, () => new AttestationCache(0));
    const cached = await handshakes(runs, serverId, clientId, tdx, () => new AttestationCache());
    const bare = await handshakes(
      runs,
      serverId,
      clientId,
      () => ({ kind: 'any' }),
      () => new AttestationCache(),
    );
    return {
      verify_median_ms: verify.verify_median_ms,
      verify_p99_ms: verify.verify_p99_ms,
      verify_runs: verify.runs,
      baseline_phala_verify_median_ms: verify.phala_median_ms,
      handshake_runs: runs,
      handshake_p50_ms: pct(full, 50),
      handshake_p99_ms: pct(full, 99),
      handshake_cached_p50_ms: pct(cached, 50),
      baseline_tls_only_p50_ms: pct(bare, 50),
      note: 'handshakes: PoW at 0 bits, TLS 1.3 mutual Ed25519, fake-Intel quotes, DCAP on both sides unless cached',
    };
  },
};
