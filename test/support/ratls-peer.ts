// A separate process for the RA-TLS interop test: an RA-TLS server under policy `tdx`, pinned to a fake Intel
// PKI loaded from disk, that allows one client image hash. It prints one JSON line per event on stdout.
import { Connection } from '../../src/net/connection.ts';
import { IdentityHolder, RatlsServer } from '../../src/net/ratls.ts';
import { createRatlsIdentity } from '../../src/tee/cert.ts';
import { loadFakeIntel } from '../../src/tee/fake-intel.ts';
import { AttestationVerifier } from '../../src/tee/policy.ts';
import { fakeIntelSource } from '../../src/tee/quote-source.ts';

const [pkiDir, allowedImage, mrTdHex] = process.argv.slice(2) as [string, string, string];
const fake = await loadFakeIntel(pkiDir);
const identity = new IdentityHolder(
  await createRatlsIdentity({
    quoteSource: fakeIntelSource(fake, { mrTd: new Uint8Array(Buffer.from(mrTdHex, 'hex')) }),
  }),
);
const verifier = new AttestationVerifier({
  kind: 'tdx',
  trustedRootDer: fake.rootDer,
  collateral: () => fake.collateral,
  allowedImageHashes: [allowedImage],
});
const server = new RatlsServer({ identity, verifier, powDifficulty: 8 });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
server.on('connection', (sock, peer) => {
  say({ event: 'accepted', image: peer.imageHash, status: peer.status });
  new Connection(sock, { role: 'acceptor', onQuery: async (q) => Buffer.concat([Buffer.from('echo:'), q]) });
});
server.on('reject', (err) => say({ event: 'rejected', code: err.code }));
say({ event: 'listening', port: await server.listen(0) });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
