// The runners' configuration, in one schema: every setting has a config-file key (the reference's name where it has
// one), a command-line flag and a COCOON_* environment variable. Precedence: flag > environment > config file.
// `cocoon init ROLE` writes a commented config file from this schema, and the README's configuration reference is
// generated from it (`npm run docs:config`; a test keeps the two equal).

import { readFileSync } from 'node:fs';
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { CocoonError } from '../errors.ts';

export type Role = 'proxy' | 'worker' | 'client';
const ALL: Role[] = ['proxy', 'worker', 'client'];

export interface Field {
  /** Config-file key. */
  key: string;
  /** Flag without its dashes. */
  flag: string;
  type: 'string' | 'boolean';
  doc: string;
  /** Shown in `cocoon init` files and the reference; the runner's own default applies when unset. */
  example?: string | boolean;
  roles: Role[];
}

export const FIELDS: Field[] = [
  {
    key: 'root_contract_address',
    flag: 'root',
    type: 'string',
    roles: ALL,
    doc: 'the root contract (registry, prices, allowlists, contract codes)',
    example: 'EQ…',
  },
  {
    key: 'ton_endpoint',
    flag: 'endpoint',
    type: 'string',
    roles: ALL,
    doc: 'toncenter-v2 JSON-RPC endpoint',
    example: 'https://toncenter.com/api/v2/jsonRPC',
  },
  { key: 'ton_api_key', flag: 'api-key', type: 'string', roles: ALL, doc: 'toncenter API key' },
  {
    key: 'root_config_file',
    flag: 'root-config',
    type: 'string',
    roles: ALL,
    doc: 'a JSON root config instead of the chain (an offline test network)',
  },
  {
    key: 'node_wallet',
    flag: 'wallet',
    type: 'string',
    roles: ALL,
    doc: "wallet file paying for this node's contracts, stakes and settlements",
    example: '/var/lib/cocoon/wallet.json',
  },
  {
    key: 'owner_address',
    flag: 'owner',
    type: 'string',
    roles: ALL,
    doc: "TON address owning this node (default: the wallet's)",
  },
  {
    key: 'db_path',
    flag: 'dir',
    type: 'string',
    roles: ALL,
    doc: 'state directory: keys, stores, signed payments',
    example: '/var/lib/cocoon',
  },
  {
    key: 'tee',
    flag: 'tee',
    type: 'string',
    roles: ALL,
    doc: "where this node's quote comes from: tdx (configfs-tsm) or fake_tdx (tests)",
    example: 'tdx',
  },
  {
    key: 'peer_policy',
    flag: 'peer-policy',
    type: 'string',
    roles: ALL,
    doc: 'what peers must present: tdx (DCAP-verified) or fake_tdx (tests)',
    example: 'tdx',
  },
  {
    key: 'pccs_url',
    flag: 'pccs',
    type: 'string',
    roles: ALL,
    doc: 'PCCS to fetch DCAP collateral from (peer policy tdx)',
  },
  {
    key: 'no_hash_check',
    flag: 'no-hash-check',
    type: 'boolean',
    roles: ALL,
    doc: "don't check peer image and model hashes against the root (test networks only)",
    example: false,
  },
  { key: 'host', flag: 'host', type: 'string', roles: ALL, doc: 'address to bind', example: '127.0.0.1' },
  {
    key: 'http_access_token',
    flag: 'access-token',
    type: 'string',
    roles: ALL,
    doc: 'token for /stats, /jsonstats, /metrics, /request/* and the dashboard',
  },
  {
    key: 'log_level',
    flag: 'log-level',
    type: 'string',
    roles: ALL,
    doc: 'JSON log level: fatal, error, warn, info, debug, trace, silent',
    example: 'info',
  },
  {
    key: 'workers_rpc_port',
    flag: 'workers-port',
    type: 'string',
    roles: ['proxy'],
    doc: 'port for workers (RA-TLS)',
    example: '11001',
  },
  {
    key: 'client_rpc_port',
    flag: 'clients-port',
    type: 'string',
    roles: ['proxy'],
    doc: 'port for clients (RA-TLS)',
    example: '11002',
  },
  {
    key: 'http_port',
    flag: 'stats-port',
    type: 'string',
    roles: ['proxy', 'worker'],
    doc: 'stats, metrics, dashboard and control port',
    example: '11000 (proxy), 12000 (worker)',
  },
  {
    key: 'pow_difficulty',
    flag: 'pow-difficulty',
    type: 'string',
    roles: ['proxy'],
    doc: 'proof-of-work bits demanded before TLS',
    example: '20',
  },
  {
    key: 'charge_threshold',
    flag: 'charge-threshold',
    type: 'string',
    roles: ['proxy'],
    doc: 'charge a client on-chain once this many nanoTON of its usage are unsettled',
    example: '1000000000',
  },
  {
    key: 'forward_requests_to',
    flag: 'backend',
    type: 'string',
    roles: ['worker'],
    doc: 'the OpenAI-compatible engine to serve requests with',
    example: 'http://127.0.0.1:8000',
  },
  {
    key: 'backend_api_key',
    flag: 'backend-key',
    type: 'string',
    roles: ['worker'],
    doc: 'bearer token for the engine',
  },
  {
    key: 'model',
    flag: 'model',
    type: 'string',
    roles: ['worker'],
    doc: 'a GGUF run in-process instead of an engine: embedded, PATH.gguf or hf:OWNER/REPO/FILE',
  },
  {
    key: 'model_name',
    flag: 'model-name',
    type: 'string',
    roles: ['worker'],
    doc: 'the model as the root knows it: NAME@COMMIT:VERITY',
    example: 'Qwen/Qwen3-8B@…:…',
  },
  {
    key: 'coefficient',
    flag: 'coefficient',
    type: 'string',
    roles: ['worker'],
    doc: 'price multiplier (1.0 = the base price)',
    example: '1.0',
  },
  {
    key: 'max_active_requests',
    flag: 'max-active',
    type: 'string',
    roles: ['worker'],
    doc: 'requests at once',
    example: '200',
  },
  {
    key: 'proxy_connections',
    flag: 'proxies',
    type: 'string',
    roles: ['worker', 'client'],
    doc: 'distinct proxies to hold connections to',
    example: '1',
  },
  {
    key: 'payout_threshold',
    flag: 'payout-threshold',
    type: 'string',
    roles: ['worker'],
    doc: 'cash out once a proxy owes this many nanoTON more than it paid',
    example: '1000000000',
  },
  {
    key: 'http_port',
    flag: 'port',
    type: 'string',
    roles: ['client'],
    doc: 'OpenAI API port (also stats, metrics and the dashboard)',
    example: '10000',
  },
  {
    key: 'api_key',
    flag: 'key',
    type: 'string',
    roles: ['client'],
    doc: 'bearer key apps must send to the OpenAI API',
  },
  {
    key: 'secret_string',
    flag: 'secret',
    type: 'string',
    roles: ['client'],
    doc: 'short-auth secret (its hash is set on the client contract)',
  },
  {
    key: 'seal',
    flag: 'seal',
    type: 'string',
    roles: ['client'],
    doc: 'seal requests to the worker enclave: auto (when the proxy and a worker can), require, or off (plain, as the reference)',
    example: 'auto',
  },
  {
    key: 'keep_receipts',
    flag: 'keep-receipts',
    type: 'string',
    roles: ['client'],
    doc: 'signed receipts kept in the store, the newest (older ones are removed as new ones come)',
    example: '100000',
  },
];

export const envName = (f: Field) => `COCOON_${f.key.toUpperCase()}`;

export function fieldsOf(role: Role): Field[] {
  return FIELDS.filter((f) => f.roles.includes(role));
}

function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CocoonError('BAD_CONFIG', `cannot read ${file}`);
  }
  const errors: ParseError[] = [];
  const v = parse(text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length > 0) {
    const e = errors[0] as ParseError;
    throw new CocoonError('BAD_CONFIG', `${file}: ${printParseErrorCode(e.error)} at offset ${e.offset}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CocoonError('BAD_CONFIG', `${file}: not an object`);
  return v as Record<string, unknown>;
}

/**
 * The runner's argv with the settings of `--config FILE` (or COCOON_CONFIG) and COCOON_* variables added as flags,
 * where the command line does not give them. Unknown config keys are refused (a typo would be silently ignored).
 */
export function withConfig(role: Role, argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const args = [...argv];
  let file = env.COCOON_CONFIG;
  const i = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (i >= 0) {
    const a = args[i] as string;
    if (a.includes('=')) {
      file = a.slice('--config='.length);
      args.splice(i, 1);
    } else {
      file = args[i + 1];
      args.splice(i, 2);
    }
  }
  const fields = fieldsOf(role);
  const config = file ? readConfig(file) : {};
  const known = new Set(fields.map((f) => f.key));
  for (const k of Object.keys(config)) {
    if (!known.has(k)) throw new CocoonError('BAD_CONFIG', `${file}: unknown key ${k} for a ${role}`);
  }
  const given = (flag: string) => args.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  for (const f of fields) {
    if (given(f.flag)) continue;
    const raw = env[envName(f)] ?? config[f.key];
    if (raw === undefined || raw === null || raw === '') continue;
    if (f.type === 'boolean') {
      if (raw === true || raw === 'true' || raw === '1') args.push(`--${f.flag}`);
      else if (!(raw === false || raw === 'false' || raw === '0')) {
        throw new CocoonError('BAD_CONFIG', `${f.key} must be true or false`);
      }
    } else {
      if (typeof raw === 'object')
        throw new CocoonError('BAD_CONFIG', `${f.key} must be a string or a number`);
      args.push(`--${f.flag}`, String(raw));
    }
  }
  return args;
}

/** A commented config file for a role, every setting with its flag and variable. */
export function configTemplate(role: Role): string {
  const lines = [
    `// Cocoon ${role} configuration (JSON with comments). Run: cocoon ${role} --config FILE`,
    '// Every setting can also be given as a flag or a COCOON_* variable; a flag wins over a variable, which wins over this file.',
    '{',
  ];
  const fields = fieldsOf(role);
  fields.forEach((f, i) => {
    lines.push(`  // ${f.doc} (--${f.flag}, ${envName(f)})`);
    const value = f.example === undefined ? (f.type === 'boolean' ? false : '') : f.example;
    const entry = `"${f.key}": ${JSON.stringify(value)}${i < fields.length - 1 ? ',' : ''}`;
    // Settings without a usable example stay commented out.
    lines.push(
      f.example === undefined || String(f.example).includes('…') || String(f.example).includes('(')
        ? `  // ${entry}`
        : `  ${entry}`,
    );
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The README's configuration reference (a table per role). */
export function configReference(): string {
  const out: string[] = [];
  for (const role of ALL) {
    out.push(`**${role}**`, '', '| key | flag | environment | meaning |', '|---|---|---|---|');
    for (const f of fieldsOf(role))
      out.push(`| \`${f.key}\` | \`--${f.flag}\` | \`${envName(f)}\` | ${f.doc} |`);
    out.push('');
  }
  return out.join('\n');
}
