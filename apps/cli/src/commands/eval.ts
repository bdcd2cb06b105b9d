import { createRegistry } from '@chameleon/builtins';
import { parseRunConfig } from '@chameleon/config';
import { loadCheckpoint } from '@chameleon/app-meta-optimiser';
import { EvaluatorServiceClient, Split, type Candidate } from '@chameleon/proto';
import { connect, evaluationToJson, unaryCall } from '@chameleon/transport';
import { startEmbedded, type Embedded } from '../embedded';
import { log } from '../log';
import { backend, positiveInt, readServicesFile } from './shared';
import { finiteNumber } from './shared-args';

type Flags = Record<string, string | boolean | undefined>;

/** `chameleon eval`: the checkpoint's parameters and baselines on held-out tasks. */
export async function evalCommand(flags: Flags): Promise<void> {
  const ckpt = loadCheckpoint(String(flags.checkpoint), '--checkpoint');
  const config = parseRunConfig(ckpt.config, 'checkpoint.config');
  const str = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  const protocol = {
    shots: positiveInt(str('shots'), '--shots') ?? config.evaluation.shots ?? config.data.supportSize,
    querySize: positiveInt(str('query'), '--query')!,
    maxSteps: positiveInt(str('steps'), '--steps', 0)!,
    learningRate: finiteNumber(str('lr'), '--lr') ?? config.evaluation.learningRate ?? config.inner.learningRate,
  };
  const tasks = positiveInt(str('tasks'), '--tasks')!;
  const seed = positiveInt(str('seed'), '--seed', 0)!;
  const candidates: Candidate[] = [{ name: config.algorithm.name, params: ckpt.params, algorithm: config.algorithm.name, algorithmConfig: config.algorithm.config }];
  if (ckpt.baselineParams && ckpt.baselineParams.tensors.length) candidates.push({ name: 'pretrained', params: ckpt.baselineParams, algorithm: '', algorithmConfig: undefined });
  let embedded: Embedded | undefined;
  let address: string;
  if (typeof flags.services === 'string') address = readServicesFile(flags.services).evaluator;
  else {
    await backend(str('backend'));
    embedded = await startEmbedded(createRegistry(config.plugins), { log });
    address = embedded.addresses.evaluator;
  }
  const client = connect(EvaluatorServiceClient, address);
  try {
    log(`evaluating ${candidates.map((c) => c.name).join(', ')}${flags.randomInit !== false ? ', random-init' : ''} on ${tasks} held-out ${config.task.family} tasks`);
    const res = await unaryCall(
      client,
      client.evaluate,
      {
        family: config.task.family,
        familyConfig: config.task.config,
        model: ckpt.model,
        candidates,
        includeRandomInit: flags.randomInit !== false,
        numTasks: tasks,
        shots: protocol.shots,
        querySize: protocol.querySize,
        maxSteps: protocol.maxSteps,
        learningRate: protocol.learningRate,
        seed,
        loss: 0,
        split: Split.SPLIT_TEST,
        numExamples: 0,
        chunkSize: 0,
      },
      'evaluator Evaluate',
      { deadlineMs: 6 * 3600_000, retries: 1 },
    );
    const json = evaluationToJson(res, protocol);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(json)}\n`);
      return;
    }
    process.stdout.write(`backend ${json.backend}; ${json.numTasks} tasks, K=${json.shots}, query ${json.querySize}, lr ${json.learningRate}; ${json.seconds.toFixed(1)} s\n`);
    process.stdout.write(`${'step'.padEnd(6)}${json.results.map((r) => r.name.padEnd(22)).join('')}\n`);
    for (let k = 0; k <= json.maxSteps; k++) {
      process.stdout.write(`${String(k).padEnd(6)}${json.results.map((r) => `${r.loss[k].mean.toFixed(4)} ± ${r.loss[k].ci95.toFixed(4)}`.padEnd(22)).join('')}\n`);
    }
  } finally {
    client.close();
    if (embedded) await embedded.shutdown();
  }
}
