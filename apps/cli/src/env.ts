/**
 * The only place that reads environment variables (besides OTEL_* read by the SDK). Each
 * flag of `serve` has an environment twin, so containers are configured without flags.
 */
export const ENV = {
  host: 'CHAMELEON_HOST',
  port: 'CHAMELEON_PORT',
  backend: 'CHAMELEON_BACKEND',
  plugins: 'CHAMELEON_PLUGINS',
  taskSampler: 'CHAMELEON_TASK_SAMPLER',
  simulators: 'CHAMELEON_SIMULATORS',
  learner: 'CHAMELEON_LEARNER',
  evaluator: 'CHAMELEON_EVALUATOR',
  runsDir: 'CHAMELEON_RUNS_DIR',
  allowAnyOutputDir: 'CHAMELEON_ALLOW_ANY_OUTPUT_DIR',
  tasksPerPass: 'CHAMELEON_TASKS_PER_PASS',
  passMemoryMb: 'CHAMELEON_PASS_MEMORY_MB',
  traceFile: 'CHAMELEON_TRACE_FILE',
  maxMessageBytes: 'CHAMELEON_MAX_MESSAGE_BYTES',
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  agents: 'CHAMELEON_AGENTS',
  tokens: 'CHAMELEON_TOKENS',
  tlsCert: 'CHAMELEON_TLS_CERT',
  tlsKey: 'CHAMELEON_TLS_KEY',
  tlsCa: 'CHAMELEON_TLS_CA',
  peerToken: 'CHAMELEON_PEER_TOKEN',
  peerTlsCa: 'CHAMELEON_PEER_TLS_CA',
  peerTlsCert: 'CHAMELEON_PEER_TLS_CERT',
  peerTlsKey: 'CHAMELEON_PEER_TLS_KEY',
  /** Fault injection for resilience tests: a simulator dies after streaming this many chunks. */
  faultExitAfterChunks: 'CHAMELEON_FAULT_EXIT_AFTER_CHUNKS',
} as const;

export const env = (name: keyof typeof ENV): string | undefined => {
  const v = process.env[ENV[name]];
  return v === undefined || v === '' ? undefined : v;
};

export const list = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);
