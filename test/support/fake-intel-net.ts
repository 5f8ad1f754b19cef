// The attestation of a local network on a test Intel PKI: every node quotes through `fake` (TDX-format quotes under
// the test root), every node checks its peers under policy 'tdx' pinned to that root, and the root allows the image
// those quotes measure.

import type { LocalNetworkOptions } from '../../src/node/network.ts';
import { toHex } from '../../src/tee/bytes.ts';
import { imageHash } from '../../src/tee/dcap.ts';
import type { FakeIntel } from '../../src/tee/fake-intel.ts';
import { parseTdxQuote } from '../../src/tee/quote.ts';
import type { TcbStatus } from '../../src/tee/types.ts';

export function fakeIntelAttestation(
  fake: FakeIntel,
  opts: {
    /** The TEE TCB SVN of a node's quotes (its TCB level); default the PKI's UpToDate one. */
    teeTcbSvn?: (role: 'proxy' | 'client' | 'worker', index: number) => Uint8Array | undefined;
    acceptedStatuses?: TcbStatus[];
  } = {},
): NonNullable<LocalNetworkOptions['attestation']> {
  const image = toHex(imageHash(parseTdxQuote(fake.issueQuote({ reportData: new Uint8Array(64) })).body));
  return {
    source: (role, i) => ({
      kind: 'fake_intel',
      getQuote: async (reportData) => {
        const teeTcbSvn = opts.teeTcbSvn?.(role, i);
        return fake.issueQuote(teeTcbSvn ? { reportData, teeTcbSvn } : { reportData });
      },
    }),
    policy: {
      kind: 'tdx',
      collateral: () => fake.collateral,
      trustedRootDer: fake.rootDer,
      ...(opts.acceptedStatuses ? { acceptedStatuses: opts.acceptedStatuses } : {}),
    },
    images: [image],
  };
}
