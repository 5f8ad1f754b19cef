// Prometheus metrics of a node (`GET /metrics` on its stats port, behind its access token): requests by outcome,
// adjusted tokens, request latency, errors by cause, connections and money state. Each node has its own registry,
// so several nodes in one process (a local network) do not mix their figures.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Role = 'proxy' | 'worker' | 'client';

/** Latency buckets in seconds: from sub-millisecond relay overhead to two-minute answers. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'outcome'>;
  readonly tokens: Counter;
  readonly duration: Histogram;
  readonly errors: Counter<'cause'>;

  constructor(readonly role: Role) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `cocoon_${role}_requests_total`,
      help: `Requests this ${role} ended, by outcome (success, failed, rejected)`,
      labelNames: ['outcome'],
      registers,
    });
    this.tokens = new Counter({
      name: `cocoon_${role}_tokens_total`,
      help: 'Adjusted tokens of the requests that ended (what is billed)',
      registers,
    });
    this.duration = new Histogram({
      name: `cocoon_${role}_request_duration_seconds`,
      help: `Time from a request reaching this ${role} to its end (answered or failed; refusals not counted)`,
      buckets: BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: `cocoon_${role}_errors_total`,
      help: 'Failed or refused requests by cause (error code)',
      labelNames: ['cause'],
      registers,
    });
  }

  /** A gauge read when scraped. */
  gauge(name: string, help: string, read: () => number | bigint, labelNames: string[] = []): Gauge {
    return new Gauge({
      name: `cocoon_${this.role}_${name}`,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.set(Number(read()));
      },
    });
  }

  /** A gauge with one value per label set, read when scraped. */
  gauges(name: string, help: string, label: string, read: () => [string, number | bigint][]): Gauge {
    return new Gauge({
      name: `cocoon_${this.role}_${name}`,
      help,
      labelNames: [label],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [l, v] of read()) this.set({ [label]: l }, Number(v));
      },
    });
  }

  /** Records one ended request. */
  ended(
    outcome: 'success' | 'failed' | 'rejected',
    seconds: number,
    tokens: bigint,
    cause?: string | number,
  ): void {
    this.requests.inc({ outcome });
    if (outcome !== 'rejected') this.duration.observe(seconds);
    if (tokens > 0n) this.tokens.inc(Number(tokens));
    if (cause !== undefined) this.errors.inc({ cause: String(cause) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
