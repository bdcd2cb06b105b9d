/**
 * A worker thread that runs agents' between-round updates (eq. 9) off the agent-server's
 * event loop. Messages: { id, job: AdaptationJob } -> { id, phi } or { id, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importanceCorrectedUpdate, type AdaptationJob } from '@chameleon/agents';
import { createRegistry } from '@chameleon/builtins';
import { initBackend, type BackendPreference } from '@chameleon/nn';
import { NormalMatrixCache, type Policy } from '@chameleon/rl';

const registry = createRegistry();
const policies = new Map<string, Policy>();
// Episodes' baseline matrices, reused when a session's next update (K = 4 recent episodes,
// 2 per round) comes to this worker again: about half of the baseline fit's cost.
const normalMatrices = new NormalMatrixCache();
const ready = initBackend((workerData as { backend?: BackendPreference } | undefined)?.backend ?? 'wasm');
void ready.then(() => parentPort?.postMessage({ ready: true }));

parentPort?.on('message', async ({ id, job }: { id: number; job: AdaptationJob }) => {
  try {
    await ready;
    const key = JSON.stringify(job.policy);
    let policy = policies.get(key);
    if (!policy) {
      policy = registry.create<Policy>('policy', job.policy.architecture, job.policy.config, 'policy.config');
      policies.set(key, policy);
    }
    const phi = importanceCorrectedUpdate(policy, job.theta, job.alpha, job.episodes, { gamma: job.discount, lambda: job.gaeLambda ?? 1 }, normalMatrices);
    parentPort?.postMessage({ id, phi }, phi.map((p) => p.buffer as ArrayBuffer));
  } catch (e) {
    parentPort?.postMessage({ id, error: (e as Error).message ?? String(e) });
  }
});
