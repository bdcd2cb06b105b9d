import type { EvaluateResponse } from '@chameleon/proto';
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
