/**
 * `npm run bench`: meta-iterations per second of second-order MAML on sinusoid regression
 * (paper setting), in-process and through the embedded gRPC services. See BENCHMARKS.md.
 *
 *   npm run bench -- [--repeats 3] [--iterations 1000] [--services-iterations 1500] [--quick]
 *   npm run bench -- rl [...]   the meta-RL pipeline on HalfCheetahVel (tools/bench/rl-pipeline.ts)
 *   npm run bench -- few-shot [...]   conv-4 5-way 1-shot meta-iterations/s per algorithm (tools/bench/few-shot.ts)
 *   npm run bench -- agents [...]   agent-server load: 32 concurrent opponents on loopback (tools/bench/agents.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTelemetry } from '@chameleon/telemetry';

// Tracing as the CLI sets it up for `train` (spans to a JSON Lines file), and before
// anything loads @grpc/grpc-js: the other modules are required below, in order.
// OTEL_EXPORTER_OTLP_ENDPOINT, when set, is honoured as by the CLI.
// --no-telemetry (a diagnosis, not the protocol) measures what tracing costs.
const traceDir = mkdtempSync(join(tmpdir(), 'chameleon-bench-traces-'));
const traced = !process.argv.includes('--no-telemetry');
const telemetry = traced ? initTelemetry({ serviceName: 'chameleon', traceFile: join(traceDir, 'traces.jsonl') }) : undefined;

const { run } = require('./run') as typeof import('./run');
const { runRl } = require('./rl-pipeline') as typeof import('./rl-pipeline');
const { runFewShot } = require('./few-shot') as typeof import('./few-shot');
const { runAgents } = require('./agents') as typeof import('./agents');

const finish = async (code: number) => {
  await telemetry?.shutdown();
  rmSync(traceDir, { recursive: true, force: true });
  process.exit(code);
};

const sub: Record<string, (argv: string[]) => Promise<number>> = { rl: runRl, 'few-shot': runFewShot, agents: runAgents };
(sub[process.argv[2]] ? sub[process.argv[2]](process.argv.slice(3)) : run(process.argv.slice(2), traced)).then(finish, (e) => {
  console.error(e);
  return finish(1);
});
