import type { EvaluatePolicyResponse, EvaluateResponse } from '@chameleon/proto';
import { fromWire } from '@chameleon/tensor';

/** The evaluation as plain JSON (eval.json of a run folder, `chameleon eval --json`). */
export interface EvaluationJson {
  backend: string;
  numTasks: number;
  shots: number;
  querySize: number;
  maxSteps: number;
  learningRate: number;
  seconds: number;
  results: Array<{ name: string; loss: StepJson[]; accuracy: StepJson[] }>;
  examples: Array<{
    taskId: string;
    params: Record<string, unknown>;
    support: { x: number[]; y: number[] };
    grid: { x: number[]; y: number[] };
    predictions: Record<string, number[]>;
  }>;
}

export interface StepJson {
  step: number;
  mean: number;
  ci95: number;
  std: number;
  /** Paired change from step 0 on the same tasks (0 at step 0; absent in files written before it existed). */
  changeMean?: number;
  changeCi95?: number;
}

const flat = (t: Parameters<typeof fromWire>[0]): number[] => Array.from(fromWire(t, 'tensor').data as ArrayLike<number>);

export function evaluationToJson(res: EvaluateResponse, protocol: { shots: number; querySize: number; maxSteps: number; learningRate: number }): EvaluationJson {
  return {
    backend: res.backend,
    numTasks: res.numTasks,
    ...protocol,
    seconds: res.seconds,
    results: res.results.map((r) => ({ name: r.name, loss: r.loss.map((s) => ({ ...s })), accuracy: r.accuracy.map((s) => ({ ...s })) })),
    examples: res.examples.map((e) => ({
      taskId: e.task?.id ?? '',
      params: (e.task?.params ?? {}) as Record<string, unknown>,
      support: { x: flat(e.supportInputs), y: flat(e.supportTargets) },
      grid: { x: flat(e.gridInputs), y: flat(e.gridTargets) },
      predictions: Object.fromEntries(e.predictions.map((p) => [p.name, flat(p.tensor)])),
    })),
  };
}

/** A policy evaluation as plain JSON (eval.json of an RL run). */
export interface PolicyEvaluationJson {
  kind: 'rl';
  backend: string;
  numTasks: number;
  episodesPerTask: number;
  horizon: number;
  maxSteps: number;
  learningRate: number;
  seconds: number;
  results: Array<{ name: string; episodeReturn: StepJson[] }>;
  /** Per task: observation paths per candidate and step, "<name>/step<k>" -> [episode][t][dim]. */
  paths: Array<{ taskId: string; params: Record<string, unknown>; paths: Record<string, number[][][]> }>;
}

function nest(t: Parameters<typeof fromWire>[0]): number[][][] {
  const h = fromWire(t, 'path');
  const [E, H, D] = [h.shape[0], h.shape[1], h.shape.slice(2).reduce((a, b) => a * b, 1)];
  const d = h.data as Float32Array;
  return Array.from({ length: E }, (_, e) => Array.from({ length: H }, (_x, s) => Array.from(d.subarray((e * H + s) * D, (e * H + s + 1) * D))));
}

export function policyEvaluationToJson(
  res: EvaluatePolicyResponse,
  req: { episodesPerTask: number; horizon: number; maxSteps: number; adaptation?: { learningRate: number } },
): PolicyEvaluationJson {
  return {
    kind: 'rl',
    backend: res.backend,
    numTasks: res.numTasks,
    episodesPerTask: req.episodesPerTask,
    horizon: req.horizon,
    maxSteps: req.maxSteps,
    learningRate: req.adaptation?.learningRate ?? 0,
    seconds: res.seconds,
    results: res.results.map((r) => ({ name: r.name, episodeReturn: r.episodeReturn.map((s) => ({ ...s })) })),
    paths: res.paths.map((p) => ({ taskId: p.task?.id ?? '', params: (p.task?.params ?? {}) as Record<string, unknown>, paths: Object.fromEntries(p.paths.map((x) => [x.name, nest(x.tensor)])) })),
  };
}
