import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAnyRunConfig } from '@chameleon/config';
import { RunState, type RunStatus, type WatchRunResponse } from '@chameleon/proto';
import { RemoteRecorder } from '../src/commands/train';
import { smallConfig, tmp } from './helpers';

/**
 * `chameleon train --services` records the run folder from WatchRun events. An RL run's
 * evaluation (returns per adaptation step) is not in those events: the recorder must take the
 * meta-optimiser's own eval.json, and record returns (negated losses) per iteration.
 */
describe('RemoteRecorder', () => {
  const protocol = { shots: 0, querySize: 0, maxSteps: 3, learningRate: 0.1 };
  const progress = (metaLoss: number, preAdaptationLoss: number) =>
    ({ event: { $case: 'progress', progress: { phase: 'meta-train', iteration: 1, totalIterations: 1, metaLoss, preAdaptationLoss, iterationsPerSecond: 1, phaseSeconds: {}, traceId: 't', elapsedSeconds: 1 } } }) as unknown as WatchRunResponse;
  const finalValidation = { event: { $case: 'validation', validation: { iteration: 1, final: true, result: { results: [{ name: 'maml-trpo', loss: [], accuracy: [] }], numTasks: 2, backend: 'wasm', examples: [], seconds: 1 } } } } as unknown as WatchRunResponse;
  const status = (outputDir: string) => ({ runId: 'r', state: RunState.RUN_STATE_COMPLETED, outputDir, backend: 'wasm' }) as unknown as RunStatus;
  const rlConfig = parseAnyRunConfig({ kind: 'rl', name: 'rl', task: { family: '2d-navigation' }, evaluation: { enabled: true } }, 'config');

  it('copies the remote eval.json of an RL run and records returns', async () => {
    const dir = tmp('remote-rl');
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const evalJson = `${JSON.stringify({ kind: 'rl', numTasks: 2, results: [{ name: 'maml-trpo', episodeReturn: [{ step: 0, mean: -30, ci95: 1 }] }] })}\n`;
    writeFileSync(join(remote, 'eval.json'), evalJson);
    const out = join(dir, 'out');
    mkdirSync(out);
    const r = new RemoteRecorder(out, rlConfig);
    r.onEvent(progress(20, 35), protocol);
    r.onEvent(finalValidation, protocol);
    await r.finish(status(remote));
    expect(readFileSync(join(out, 'eval.json'), 'utf8')).toBe(evalJson);
    const line = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim());
    expect(line).toMatchObject({ type: 'progress', postAdaptationReturn: -20, preAdaptationReturn: -35 });
  });

  it('writes no eval.json for an RL run whose remote folder is unreachable', async () => {
    const out = tmp('remote-rl-away');
    const r = new RemoteRecorder(out, rlConfig);
    r.onEvent(finalValidation, protocol);
    await r.finish(status('/nonexistent/chameleon-run'));
    expect(existsSync(join(out, 'eval.json'))).toBe(false);
  });

  it('still writes a supervised run eval.json from the final validation event', async () => {
    const out = tmp('remote-sup');
    const r = new RemoteRecorder(out, smallConfig());
    r.onEvent(finalValidation, protocol);
    await r.finish(status(''));
    const json = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(json.results[0].name).toBe('maml-trpo');
    expect(json).not.toHaveProperty('kind', 'rl');
  });
});
