// Prometheus metrics of one verifier instance (own registry, so tests can build many apps). Node only.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface VerifierMetrics {
  registry: Registry;
  decisions: Counter<'code'>;
  verifySeconds: Histogram;
  eventsIngested: Counter;
}

export function createMetrics(options: { defaults?: boolean } = {}): VerifierMetrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    decisions: new Counter({ name: 'countersign_decisions_total', help: 'Verify decisions by code (allow or the refusal code).', labelNames: ['code'], registers: [registry] }),
    verifySeconds: new Histogram({
      name: 'countersign_verify_duration_seconds',
      help: 'Time to decide one approval token.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    eventsIngested: new Counter({ name: 'countersign_log_events_ingested_total', help: 'Log events accepted (duplicates not counted).', registers: [registry] }),
  };
}
