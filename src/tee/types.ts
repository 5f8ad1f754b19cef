/**
 * The shapes shared by the attestation layer: a parsed TDX quote, DCAP collateral, and a verification result.
 * All byte fields are raw (as in the quote); hex is for display only.
 */

/** The 48-byte quote header (same in v4 and v5). */
export interface QuoteHeader {
  version: number;
  /** 2 = ECDSA-256 with P-256. */
  attestationKeyType: number;
  /** 0x81 = TDX, 0 = SGX. */
  teeType: number;
  /** 16 bytes; Intel's QE: 939a7233f79c4ca9940a0db3957f0607. */
  qeVendorId: Uint8Array;
  /** 20 bytes; the first 16 are the QE id. */
  userData: Uint8Array;
}

/** The TD report (TD quote body): 584 bytes (TDX 1.0) or 648 bytes (TDX 1.5). */
export interface TdReport {
  teeTcbSvn: Uint8Array; // 16
  mrSeam: Uint8Array; // 48
  mrSignerSeam: Uint8Array; // 48
  seamAttributes: Uint8Array; // 8
  tdAttributes: Uint8Array; // 8
  xfam: Uint8Array; // 8
  mrTd: Uint8Array; // 48
  mrConfigId: Uint8Array; // 48
  mrOwner: Uint8Array; // 48
  mrOwnerConfig: Uint8Array; // 48
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]; // 4 × 48
  reportData: Uint8Array; // 64
  /** TD report 1.5 only. */
  teeTcbSvn2?: Uint8Array; // 16
  /** TD report 1.5 only. */
  mrServiceTd?: Uint8Array; // 48
}

/** The SGX enclave report body of the Quoting Enclave (384 bytes). */
export interface QeReport {
  raw: Uint8Array; // 384
  cpuSvn: Uint8Array; // 16
  miscSelect: number; // u32
  attributes: Uint8Array; // 16
  mrEnclave: Uint8Array; // 32
  mrSigner: Uint8Array; // 32
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array; // 64
}

/** A parsed TDX quote (v4, or v5 with TD report 1.0 or 1.5). */
export interface TdxQuote {
  /** The declared quote: header through the end of the signature data (trailing padding dropped). */
  raw: Uint8Array;
  header: QuoteHeader;
  /** 2 = TD report 1.0, 3 = TD report 1.5 (v4 quotes are always 2). */
  bodyType: 2 | 3;
  /** Where the TD report starts in `raw` (48 in v4, 54 in v5). */
  bodyOffset: number;
  body: TdReport;
  /** Bytes covered by the quote signature: [0, end of body). */
  signedRegion: Uint8Array;
  /** ECDSA P-256 signature over SHA-256(signedRegion), raw r‖s (64 bytes). */
  signature: Uint8Array;
  /** Attestation public key, raw X‖Y (64 bytes). */
  attestationKey: Uint8Array;
  qeReport: QeReport;
  /** ECDSA P-256 signature of the QE report by the PCK key, raw r‖s. */
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Inner certification data type (5 = PEM PCK chain). */
  certDataType: number;
  /** The PEM PCK chain (leaf, PCK Platform/Processor CA, root) as carried by the quote, NUL padding removed. */
  pckChainPem: string;
}

/**
 * DCAP collateral for one quote, as Intel's PCS or a PCCS serves it. `tcbInfo` and `qeIdentity` are the exact
 * signed JSON text of the inner object (never re-serialised).
 */
export interface Collateral {
  /** Exact text of the `tcbInfo` JSON object that `tcbInfoSignature` covers. */
  tcbInfo: string;
  /** Raw r‖s (64 bytes). */
  tcbInfoSignature: Uint8Array;
  /** PEM: TCB signing certificate then root. */
  tcbInfoIssuerChain: string;
  /** Exact text of the `enclaveIdentity` JSON object that `qeIdentitySignature` covers. */
  qeIdentity: string;
  qeIdentitySignature: Uint8Array;
  qeIdentityIssuerChain: string;
  /**
   * DER PCK CRLs (Platform CA, Processor CA, or both); the verifier uses the one issued by the quote's PCK CA,
   * whose certificate comes from the quote's verified chain.
   */
  pckCrls: Uint8Array[];
  /** PEM: PCK CA then root, as served (informational: the CA is taken from the quote's verified chain). */
  pckCrlIssuerChain?: string;
  /** DER CRL of the Intel SGX Root CA. */
  rootCaCrl: Uint8Array;
}

/** Every TCB status Intel defines, best first (collateral naming any other is malformed). */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;

/** Whether a status is at least as good as a minimum (a peer without a TCB status, fake_tdx, never is). */
export function tcbAtLeast(status: TcbStatus | undefined, min: TcbStatus): boolean {
  return status !== undefined && TCB_STATUSES.indexOf(status) <= TCB_STATUSES.indexOf(min);
}

/** TCB statuses, as Intel names them. */
export type TcbStatus = (typeof TCB_STATUSES)[number];

/** What a successful DCAP verification establishes. */
export interface VerifiedQuote {
  quote: TdxQuote;
  status: TcbStatus;
  advisoryIds: string[];
  /** FMSPC from the PCK certificate, lower-case hex. */
  fmspc: string;
  /** SHA-384 of the trusted root's uncompressed public point (Intel's "root key id"), lower-case hex. */
  rootKeyId: string;
  /** Earliest nextUpdate / notAfter among the collateral and certificates used: re-verify after this. */
  collateralExpiresAt: Date;
  /** SHA-256(MRTD‖MRCONFIGID‖MROWNER‖MROWNERCONFIG‖RTMR0..3‖64 zero bytes), cocoon-reference.md §10.2. */
  imageHash: Uint8Array;
}
