import type { QuoteSource } from './cert.ts';
import { tdxQuoteSource } from './configfs-tsm.ts';
import type { FakeIntel } from './fake-intel.ts';
import { fakeTdxQuote } from './fake-tdx.ts';

/**
 * The reference's fake TDX: the quote is the REPORTDATA itself. Anyone can forge it; tests only.
 *
 * @example
 * await createRatlsIdentity({ quoteSource: fakeTdxSource() });
 */
export function fakeTdxSource(): QuoteSource {
  return { kind: 'fake_tdx', getQuote: async (reportData) => fakeTdxQuote(reportData) };
}

/** Measurements a fake-Intel quote claims. */
export type FakeMeasurements = Omit<Parameters<FakeIntel['issueQuote']>[0], 'reportData'>;

/**
 * Real-format quotes from a fake Intel PKI: the whole DCAP verifier runs on them, and only a verifier that pins
 * the fake root accepts them.
 *
 * @example
 * const fake = await createFakeIntel();
 * await createRatlsIdentity({ quoteSource: fakeIntelSource(fake, { mrTd }) });
 */
export function fakeIntelSource(fake: FakeIntel, measurements: FakeMeasurements = {}): QuoteSource {
  return {
    kind: 'fake_intel',
    getQuote: async (reportData) => fake.issueQuote({ ...measurements, reportData }),
  };
}

/**
 * Quotes from this machine's TDX module through configfs-tsm; fails with `TDX_UNAVAILABLE` where there is none.
 *
 * @example
 * await createRatlsIdentity({ quoteSource: hardwareTdxSource() });
 */
export function hardwareTdxSource(root?: string): QuoteSource {
  const src = tdxQuoteSource(root === undefined ? {} : { root });
  return { kind: 'tdx', getQuote: (reportData) => src.getQuote(reportData) };
}
