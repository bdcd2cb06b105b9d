import { copyFileSync, createWriteStream, existsSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '@chameleon/builtins';
import { MetaOptimiserServiceClient, RunState, type RunStatus, type WatchRunResponse } from '@chameleon/proto';
import { buildReport } from '@chameleon/report';
import { isRlConfig } from '@chameleon/config';
import { randomBytes } from 'node:crypto';
import { bearer, channelCredentials, connect, evaluationToJson, unaryCall, type EvaluationJson, type PolicyEvaluationJson } from '@chameleon/transport';
import { env } from '../env';
import { startEmbedded, type Embedded } from '../embedded';
import { log } from '../log';
import { ProgressDisplay } from '../progress';
import { watchRun } from './watch';
import { backend, readServicesFile, untilSignal } from './shared';
import type { PreparedTrain } from './train-prepare';

export { prepareTrain } from './train-prepare';

/** Writes the run folder from the event stream when the meta-optimiser is on another host. */
export class RemoteRecorder {
  private readonly metrics: WriteStream;

  /** RL runs: the final EvaluatePolicy result is not in the event stream (see finish). */
  private readonly rl: boolean;

  constructor(private readonly outDir: string, config: Parameters<typeof isRlConfig>[0]) {
    this.rl = isRlConfig(config);
    writeFileSync(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    this.metrics = createWriteStream(join(outDir, 'metrics.jsonl'), { flags: 'a' });
  }

  onEvent(e: WatchRunResponse, protocol: { shots: number; querySize: number; maxSteps: number; learningRate: number }): void {
    const ev = e.event;
    if (!ev) return;
    if (ev.$case === 'progress') {
      const p = ev.progress;
      // For RL the losses are negated returns; the report plots returns.
      const returns = this.rl ? { preAdaptationReturn: -p.preAdaptationLoss, postAdaptationReturn: -p.metaLoss } : {};
      this.line({ type: 'progress', phase: p.phase, iteration: p.iteration, total: p.totalIterations, metaLoss: p.metaLoss, preAdaptationLoss: p.preAdaptationLoss, ...returns, itPerSec: p.iterationsPerSecond, phaseSeconds: p.phaseSeconds, traceId: p.traceId, elapsed: p.elapsedSeconds });
    } else if (ev.$case === 'checkpoint') {
      this.line({ type: 'checkpoint', path: ev.checkpoint.path, iteration: ev.checkpoint.iteration, phase: ev.checkpoint.phase });
    } else if (ev.$case === 'validation' && ev.validation.result && !this.rl) {
      const json = evaluationToJson(ev.validation.result, protocol);
      if (ev.validation.final) writeFileSync(join(this.outDir, 'eval.json'), `${JSON.stringify(json, null, 1)}\n`);
      else this.line({ type: 'validation', iteration: ev.validation.iteration, results: json.results });
    }
  }

  finish(status: RunStatus): Promise<void> {
    // An RL run's episode returns per adaptation step are only in the meta-optimiser's eval.json:
    // copy it when its folder is reachable from here (same host or a shared volume).
    const remoteEval = status.outputDir ? join(status.outputDir, 'eval.json') : '';
    if (this.rl && remoteEval && existsSync(remoteEval)) copyFileSync(remoteEval, join(this.outDir, 'eval.json'));
    writeFileSync(join(this.outDir, 'run.json'), `${JSON.stringify({ runId: status.runId, backend: status.backend, state: RunState[status.state], error: status.error || undefined, remoteOutputDir: status.outputDir }, null, 2)}\n`);
    return new Promise((resolve) => this.metrics.end(resolve));
  }

  private line(o: Record<string, unknown>): void {
    this.metrics.write(`${JSON.stringify(o)}\n`);
  }
}

function rlSummary(e: PolicyEvaluationJson): string {
  const cell = (r: PolicyEvaluationJson['results'][number], k: number) => {
    const s = r.episodeReturn.find((x) => x.step === k);
    return s ? `${s.mean.toFixed(2)} ± ${s.ci95.toFixed(2)}` : '-';
  };
  const steps = Array.from({ length: e.maxSteps + 1 }, (_, k) => k);
  return [
    `held-out return on ${e.numTasks} tasks (${e.episodesPerTask} episodes per task and step, mean ± 95% CI):`,
    `  ${'candidate'.padEnd(14)} ${steps.map((k) => `${k} step${k === 1 ? '' : 's'}`.padEnd(17)).join(' ')}`,
    ...e.results.map((r) => `  ${r.name.padEnd(14)} ${steps.map((k) => cell(r, k).padEnd(17)).join(' ')}`),
  ].join('\n');
}

function summary(evalJson: EvaluationJson | PolicyEvaluationJson | undefined): string {
  if (!evalJson) return '';
  if ((evalJson as PolicyEvaluationJson).kind === 'rl') return rlSummary(evalJson as PolicyEvaluationJson);
  if (!('shots' in evalJson)) return '';
  const rows = evalJson.results.map((r) => {
    const at = (k: number) => r.loss.find((s) => s.step === k);
    const cell = (k: number) => {
      const s = at(k);
      return s ? `${s.mean.toFixed(3)} ± ${s.ci95.toFixed(3)}` : '-';
    };
    return `  ${r.name.padEnd(14)} ${cell(0).padEnd(17)} ${cell(1).padEnd(17)} ${cell(evalJson.maxSteps)}`;
  });
  return [
    `held-out loss on ${evalJson.numTasks} tasks (K=${evalJson.shots}, lr ${evalJson.learningRate}, mean ± 95% CI):`,
    `  ${'candidate'.padEnd(14)} ${'0 steps'.padEnd(17)} ${'1 step'.padEnd(17)} ${evalJson.maxSteps} steps`,
    ...rows,
  ].join('\n');
}

/** `chameleon train`: start a run on the meta-optimiser, follow it, then write the report. */
export async function train(p: PreparedTrain): Promise<number> {
  const { config, outDir, flags } = p;
  let embedded: Embedded | undefined;
  let metaOptimiserAddress: string;
  if (flags.services) {
    metaOptimiserAddress = readServicesFile(flags.services).metaOptimiser;
  } else {
    await backend(flags.backend);
    embedded = await startEmbedded(createRegistry(config.plugins), { log });
    metaOptimiserAddress = embedded.addresses.metaOptimiser;
    log(`services (embedded, gRPC on loopback): ${Object.entries(embedded.addresses).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  // Remote services take the same client-side credentials as the services' own peer calls:
  // CHAMELEON_PEER_TOKEN (bearer token) and CHAMELEON_PEER_TLS_CA/_CERT/_KEY (TLS, mTLS).
  const token = embedded ? undefined : env('peerToken');
  const metadata = token ? bearer(token) : undefined;
  const credentials = embedded ? undefined : channelCredentials({ ca: env('peerTlsCa'), cert: env('peerTlsCert'), key: env('peerTlsKey') });
  const client = connect(MetaOptimiserServiceClient, metaOptimiserAddress, credentials);
  // A run id chosen here makes StartRun idempotent: a retry after a lost answer finds the same
  // run instead of starting a second one (a resumed run keeps its checkpoint's id).
  const requestedId = flags.resume ? '' : `${config.name.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80)}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  try {
    const started = await unaryCall(client, client.startRun, { runId: requestedId, config: config as unknown as Record<string, unknown>, outputDir: embedded ? outDir : '', resumeFrom: flags.resume ?? '' }, 'meta-optimiser StartRun', { metadata });
    const runId = started.run!.runId;
    log(`run ${runId}: ${config.algorithm.name} on ${config.task.family}, ${config.meta.iterations} meta-iterations, folder ${outDir}`);
    const recorder = embedded ? undefined : new RemoteRecorder(outDir, config);
    const protocol = isRlConfig(config)
      ? { shots: 0, querySize: 0, maxSteps: config.evaluation.steps, learningRate: config.inner.learningRate }
      : { shots: config.evaluation.shots ?? config.data.supportSize, querySize: config.evaluation.querySize, maxSteps: config.evaluation.steps, learningRate: config.evaluation.learningRate ?? config.inner.learningRate };
    const display = new ProgressDisplay();
    let interrupted = false;
    const signalled = untilSignal(async () => {
      interrupted = true;
      await unaryCall(client, client.stopRun, { runId }, 'meta-optimiser StopRun', { deadlineMs: 600_000, metadata });
    });
    void signalled;
    const final = await watchRun(
      client,
      runId,
      (e: WatchRunResponse) => {
        recorder?.onEvent(e, protocol);
        const ev = e.event;
        if (ev?.$case === 'progress') display.update(ev.progress);
        else if (ev?.$case === 'validation' && ev.validation.final) log('evaluation finished');
      },
      { log, metadata },
    );
    await recorder?.finish(final);
    const stateName = RunState[final.state];
    log(`run ${runId}: ${stateName}${final.error ? ` (${final.error})` : ''}; checkpoint ${final.checkpointPath}`);
    if (embedded) {
      await embedded.shutdown();
      embedded = undefined;
    }
    let evalJson: EvaluationJson | PolicyEvaluationJson | undefined;
    try {
      evalJson = JSON.parse(require('node:fs').readFileSync(join(outDir, 'eval.json'), 'utf8')) as EvaluationJson | PolicyEvaluationJson;
    } catch {
      evalJson = undefined;
    }
    if (evalJson) log(summary(evalJson));
    if (flags.report !== false) {
      const path = await buildReport(outDir);
      log(`report: ${path}`);
    }
    if (interrupted) return 130;
    return final.state === RunState.RUN_STATE_COMPLETED ? 0 : 1;
  } finally {
    client.close();
    if (embedded) await embedded.shutdown();
  }
}
