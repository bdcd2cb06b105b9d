/**
 * The longer non-mutually-exclusive run (docs/results/few-shot.md, "Non-mutually-exclusive
 * tasks: longer run"): MAML against MR-MAML (weights, beta 1e-2) on a small training pool
 * (10 alphabets, splits train 0.1 / validation 0.1: 20 training classes, 4 per label; 202 test
 * classes), trained until a deadline and evaluated at the same meta-iteration.
 *
 * `--setup` writes the two configs and snapshot.sh into runs/few-shot-nme-long. Training goes
 * through the CLI, one run per config, with a snapshot of checkpoint.ckpt kept at
 * every checkpoint (runs/few-shot-nme-long/snapshot.sh), so that runs cut short can be compared
 * at a common iteration:
 *
 *   nice -n 5 node apps/cli/bin/chameleon.js train --config runs/few-shot-nme-long/configs/<run>.yaml \
 *     --out runs/few-shot-nme-long/<run> --no-report &
 *   runs/few-shot-nme-long/snapshot.sh runs/few-shot-nme-long/<run> &
 *
 * Then this script evaluates the snapshot of iteration N of each run:
 *
 *   node -r @swc-node/register tools/reproduce/few-shot-nme-long.ts --iteration N [--only maml]
 *
 * writing, per run, eval-<N>.json (600 test tasks through `chameleon eval`, 3 steps x 0.4,
 * 15 queries, seed 12345, as the generated NME rows) and train-split-<N>.json (100 training
 * tasks before / after 3 adaptation steps, in process, as the generated rows' train columns).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trainSplitAccuracy, type Run } from './few-shot';

const root = resolve(__dirname, '../..');
const dir = join(root, 'runs/few-shot-nme-long');
const INNER = { steps: 1, learningRate: 0.4 };
const RUNS = [
  { id: 'maml', label: 'MAML', name: 'maml' },
  { id: 'mr-maml-beta1e-2', label: 'MR-MAML (weights), beta 1e-2', name: 'mr-maml' },
];

/** The runs' configs without name and algorithm (runs/few-shot-nme-long/configs/<run>.yaml, written by --setup). */
const BASE = {
  seed: 1,
  task: { family: 'omniglot-like', config: { ways: 5, rotations: [0], mutuallyExclusive: false, generator: { alphabets: 10 }, splits: { train: 0.1, validation: 0.1 } } },
  model: { architecture: 'conv4', config: { inputShape: [28, 28, 1], filters: 8, ways: 5, normalisation: 'batch' } },
  inner: { steps: 1, learningRate: 0.4 },
  meta: { iterations: 3000, batchSize: 4, optimiser: { name: 'adam', learningRate: 0.003 } },
  data: { supportSize: 5, querySize: 15 },
  checkpoint: { every: 100 },
  validation: { every: 0, tasks: 100 },
  baseline: { iterations: 0 },
  evaluation: { tasks: 600, querySize: 15, steps: 3, learningRate: 0.4, randomInit: false, examples: 0, seed: 12345 },
};

/** runs/few-shot-nme-long/snapshot.sh, written by --setup. */
const SNAPSHOT = `#!/bin/bash
# Copies a run's checkpoint.ckpt to checkpoint-<iteration>.ckpt after each checkpoint event,
# so both runs can be evaluated at the same iteration when cut short.
dir=$1
while true; do
  for it in $(grep -o '"type":"checkpoint"[^}]*"iteration":[0-9]*' "$dir/metrics.jsonl" 2>/dev/null | grep -o '[0-9]*$'); do
    [ -f "$dir/checkpoint-$it.ckpt" ] || { sleep 2; cp "$dir/checkpoint.ckpt" "$dir/checkpoint-$it.ckpt"; echo "$(date -u +%T) $it" >> "$dir/snapshots.log"; }
  done
  sleep 10
done
`;

function setup(): void {
  mkdirSync(join(dir, 'configs'), { recursive: true });
  for (const r of RUNS) {
    const config = { name: `few-shot-nme-long-${r.id}`, ...BASE, algorithm: { name: r.name, config: r.name === 'mr-maml' ? { beta: 1e-2 } : {} } };
    writeFileSync(join(dir, 'configs', `${r.id}.yaml`), `# Written by tools/reproduce/few-shot-nme-long.ts --setup (JSON is YAML).\n${JSON.stringify(config, null, 1)}\n`);
  }
  writeFileSync(join(dir, 'snapshot.sh'), SNAPSHOT, { mode: 0o755 });
  console.log(`written: ${join(dir, 'configs')}/*.yaml, ${join(dir, 'snapshot.sh')}`);
}

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function readConfig(id: string): Record<string, unknown> {
  const text = readFileSync(join(dir, 'configs', `${id}.yaml`), 'utf8');
  return JSON.parse(text.slice(text.indexOf('{'))) as Record<string, unknown>;
}

function evaluate(checkpoint: string, out: string, log: string): Promise<number> {
  const argv = ['eval', '--checkpoint', checkpoint, '--tasks', '600', '--query', '15', '--steps', '3', '--lr', '0.4', '--seed', '12345', '--no-random-init', '--json'];
  return new Promise<number>((done) => {
    const p = spawn(process.execPath, [join(root, 'apps/cli/bin/chameleon.js'), ...argv], { stdio: ['ignore', openSync(out, 'w'), openSync(log, 'w')] });
    p.on('exit', (c) => done(c ?? 1));
  });
}

async function main(): Promise<void> {
  if (args.includes('--setup')) return setup();
  const iteration = Number(flag('--iteration'));
  if (!Number.isInteger(iteration) || iteration <= 0) throw new Error('--iteration N: the snapshot (checkpoint-N.ckpt) to evaluate');
  const only = flag('--only')?.split(',');
  for (const r of RUNS.filter((x) => !only || only.includes(x.id))) {
    const runDir = join(dir, r.id);
    const checkpoint = `checkpoint-${iteration}.ckpt`;
    if (!existsSync(join(runDir, checkpoint))) throw new Error(`${r.id}: no ${checkpoint}`);
    const run: Run = { name: r.id, setting: 'nme', algo: { id: r.id, label: r.label, name: r.name, inner: INNER, evalSteps: 3 }, config: readConfig(r.id) };
    const started = Date.now();
    const train = await trainSplitAccuracy(run, { dir: runDir, checkpoint, cache: `train-split-${iteration}.json` });
    const trainSeconds = (Date.now() - started) / 1000;
    const code = await evaluate(join(runDir, checkpoint), join(runDir, `eval-${iteration}.json`), join(runDir, `eval-${iteration}.log`));
    const evalSeconds = (Date.now() - started) / 1000 - trainSeconds;
    console.log(`${r.id} @ ${iteration}: train tasks ${JSON.stringify(train)} (${trainSeconds.toFixed(0)} s); chameleon eval exit ${code} (${evalSeconds.toFixed(0)} s)`);
    writeFileSync(join(runDir, `evaluated-${iteration}.json`), `${JSON.stringify({ iteration, train, evalExit: code, trainSeconds, evalSeconds })}\n`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
