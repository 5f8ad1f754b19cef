// Preloaded with `node --import` to run a node whose clock is COCOON_TEST_CLOCK_SKEW_MS off: every read of the
// wall clock in JavaScript (Date.now, new Date()) is shifted. The system clock is shared by all processes and
// cannot be moved for one of them without privileges; all of Cocoon's time checks read the clock this way
// (OpenSSL is not asked to check certificate dates: RA-TLS does that itself).
const skew = Number(process.env.COCOON_TEST_CLOCK_SKEW_MS ?? 0);
const RealDate = Date;
class SkewedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + skew);
    else super(...args);
  }
  static now() {
    return RealDate.now() + skew;
  }
}
globalThis.Date = SkewedDate;
