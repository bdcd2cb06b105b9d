/**
 * `npm run reproduce:sinusoid-family`: MAML's family on sinusoid regression, one-step
 * adaptation at K = 5, 10, 20, against the published figures (Li et al. 2017, Table 1:
 * MAML 1.13/0.77/0.48, Meta-SGD 0.90/0.53/0.31; Finn et al. 2017, Fig. 2: MAML K=10 about
 * 0.4 after one step). Every run goes through the CLI (`chameleon train`) with a generated
 * YAML in the run folder; its final evaluation adapts 600 held-out tasks with the
 * algorithm's own rule (the evaluator's candidate carries the algorithm's name) for one
 * step, K support points, 100 query points. Writes docs/results/sinusoid.md between this
 * script's markers, after the MAML reproduction's section.
 *
 * Flags: --iterations N (default 5000), --shots 10,5,20 (run order), --algorithms maml,meta-sgd,...,
 * --out DIR (default runs/sinusoid-family), --force (retrain runs that already have an
 * eval.json; by default they are reused, so an interrupted sweep continues), --keep-traces
 * (keep each run's traces.jsonl, several MB per 1,000 iterations), --no-doc, --report-only (train
 * nothing: tabulate the runs that have an eval.json, n/a for the others).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { stringify } from 'yaml';

const root = resolve(__dirname, '../..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (v: string | undefined, fallback: string[]) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : fallback);

/** One row of the table: an algorithm plugin with its training settings (keys name variants, e.g. "anil-lr0.1"). */
interface Protocol {
  /** Plugin name (the candidate's adaptation rule at evaluation). */
  readonly algorithm: string;
  readonly config?: Record<string, unknown>;
  readonly inner: { steps: number; learningRate: number };
  /** Why this algorithm's settings differ from MAML's, for the doc. */
  readonly note: string;
  /** The evaluation's step size when it differs from the inner one. */
  readonly evalLearningRate?: number;
}

/** Every algorithm adapts for ONE step at evaluation; these are the training settings. */
const PROTOCOLS: Record<string, Protocol> = {
  maml: { algorithm: 'maml', inner: { steps: 1, learningRate: 0.01 }, note: 'second order, α = 0.01 (Finn et al. 2017)' },
  fomaml: { algorithm: 'fomaml', inner: { steps: 1, learningRate: 0.01 }, note: 'first order, α = 0.01' },
  reptile: { algorithm: 'reptile', inner: { steps: 5, learningRate: 0.01 }, note: '5 SGD steps (α = 0.01) on support ∪ query, Adam on θ − φ̄' },
  'meta-sgd': { algorithm: 'meta-sgd', inner: { steps: 1, learningRate: 0.01 }, note: 'learned per-parameter α, initialised U[0.005, 0.1] (Li et al. 2017)' },
  anil: { algorithm: 'anil', inner: { steps: 1, learningRate: 0.01 }, note: 'inner loop on the last layer only, α = 0.01 (MAML\'s step)' },
  'anil-lr0.1': { algorithm: 'anil', inner: { steps: 1, learningRate: 0.1 }, note: 'ANIL with a head step α = 0.1 (one step on a linear head moves little at 0.01)' },
  'maml-plus-plus': {
    algorithm: 'maml-plus-plus',
    inner: { steps: 1, learningRate: 0.01 },
    note: 'one inner step: LSLR (per-layer learned α, initialised 0.01); with one step the multi-step loss is the last step; second order throughout',
  },
  cavia: { algorithm: 'cavia', inner: { steps: 1, learningRate: 1 }, note: '4 context parameters concatenated to the input, context step 1.0' },
  imaml: {
    algorithm: 'imaml',
    config: { lambda: 100, cgSteps: 3 },
    inner: { steps: 3, learningRate: 0.01 },
    note: 'λ = 100 = 1/α, 3 inner GD steps (α = 0.01, the proximal fixed-point iteration φ = θ − α∇L(φ)), 3 CG steps; evaluated with its rule for one step (= one GD step from θ). Unstable: GD on the proximal objective contracts only where the support loss\'s curvature is below λ, and here it is not (see the notes)',
  },
  'imaml-prox': {
    algorithm: 'imaml',
    config: { lambda: 100, cgSteps: 3 },
    inner: { steps: 6, learningRate: 0.005 },
    evalLearningRate: 0.01,
    note: 'λ = 100, 6 inner GD steps at α = 0.005 = 1/(2λ) on the proximal objective (converges while the curvature is below 3λ), 3 CG steps; evaluated with one step at α = 0.01 = 1/λ, the proximal solution\'s implicit step size',
  },
  'imaml-newton': {
    algorithm: 'imaml',
    config: { lambda: 100, cgSteps: 5, innerOptimiser: 'newton-cg' },
    inner: { steps: 1, learningRate: 1 },
    note: 'λ = 100, the proximal problem solved by one Newton-CG step (5 CG steps on (I + H/λ) d = ∇L/λ, then φ = θ − d: at small curvature this is MAML\'s step of 1/λ = 0.01, at large curvature a damped Newton step, stable at any curvature), implicit gradient with 5 CG steps; evaluated with the same single Newton-CG step',
  },
};

/** Published one-step MSE (Li et al. 2017, Table 1; Finn et al. 2017, Fig. 2, read off the figure). */
const PUBLISHED: Record<string, Record<number, string>> = {
  maml: { 5: '1.13 (Li) · ≈0.7 F (Finn)', 10: '0.77 (Li) · ≈0.4 F (Finn)', 20: '0.48 (Li)' },
  'meta-sgd': { 5: '0.90 (Li)', 10: '0.53 (Li)', 20: '0.31 (Li)' },
};

const iterations = Number(flag('--iterations') ?? 5000);
const shots = list(flag('--shots'), ['10', '5', '20']).map(Number);
const columns = [...shots].sort((a, b) => a - b);
const algorithms = list(flag('--algorithms'), Object.keys(PROTOCOLS));
const outRoot = resolve(flag('--out') ?? join(root, 'runs/sinusoid-family'));
const force = args.includes('--force');
const keepTraces = args.includes('--keep-traces');
const reportOnly = args.includes('--report-only');
for (const a of algorithms) if (!PROTOCOLS[a]) throw new Error(`unknown algorithm "${a}"; known: ${Object.keys(PROTOCOLS).join(', ')}`);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer, got ${flag('--iterations')}`);

/** The run config: configs/sinusoid-maml.yaml's task, model and outer loop, this algorithm's inner loop, K shots. */
function runConfig(name: string, p: Protocol, k: number) {
  return {
    name,
    seed: 1,
    task: { family: 'sinusoid', config: { amplitude: [0.1, 5.0], phase: [0, Math.PI] } },
    environment: { config: { inputRange: [-5, 5] } },
    model: { architecture: 'mlp', config: { inputSize: 1, hidden: [40, 40], outputSize: 1, activation: 'relu', init: 'glorot' } },
    algorithm: { name: p.algorithm, config: p.config ?? {} },
    inner: p.inner,
    meta: { iterations, batchSize: 25, optimiser: { name: 'adam', learningRate: 0.001 } },
    // K support points; as many query points in training (MAML's sinusoid code).
    data: { supportSize: k, querySize: k },
    checkpoint: { every: 1000 },
    validation: { every: 1000, tasks: 100 },
    baseline: { iterations: 0 },
    evaluation: { tasks: 600, querySize: 100, steps: 1, randomInit: false, examples: 0, ...(p.evalLearningRate ? { learningRate: p.evalLearningRate } : {}) },
  };
}

interface Step {
  step: number;
  mean: number;
  ci95: number;
}
interface Measured {
  algorithm: string;
  k: number;
  zero?: Step;
  one?: Step;
  wallSeconds: number;
  iterations: number;
  evalSeconds: number;
  backend: string;
}

const measured: Measured[] = [];
const started = Date.now();
mkdirSync(outRoot, { recursive: true });
// In the order of --shots (e.g. 10,5,20 runs K=10 first), every algorithm per K.
for (const k of shots) {
  for (const a of algorithms) {
    const name = `${a}-k${k}`;
    const dir = join(outRoot, name);
    const yamlPath = join(outRoot, `${name}.yaml`);
    const evalPath = join(dir, 'eval.json');
    if (reportOnly && !existsSync(evalPath)) {
      console.log(`=== ${name}: no ${relative(root, evalPath)} (--report-only)`);
      continue;
    }
    if (force || !existsSync(evalPath)) {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      writeFileSync(yamlPath, `# Generated by tools/reproduce/sinusoid-family.ts: ${a}, K = ${k}.\n${stringify(runConfig(name, PROTOCOLS[a], k))}`);
      console.log(`\n=== ${name}: ${iterations} meta-iterations (${relative(root, yamlPath)})`);
      const r = spawnSync(process.execPath, [join(root, 'apps/cli/bin/chameleon.js'), 'train', '--config', yamlPath, '--out', dir, '--no-report'], { stdio: 'inherit' });
      if (r.status !== 0) {
        console.error(`${name}: training failed (exit ${r.status}); see ${dir}`);
        process.exit(r.status ?? 1);
      }
      if (!keepTraces) rmSync(join(dir, 'traces.jsonl'), { force: true });
    } else {
      console.log(`=== ${name}: reusing ${relative(root, evalPath)}`);
    }
    const evalJson = JSON.parse(readFileSync(evalPath, 'utf8')) as { backend: string; seconds: number; results: Array<{ name: string; loss: Step[] }> };
    const runJson = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { wallSeconds: number };
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { meta: { iterations: number } };
    // The candidate is named after the algorithm plugin (variants share it).
    const loss = evalJson.results.find((x) => x.name === PROTOCOLS[a].algorithm)?.loss ?? [];
    measured.push({
      algorithm: a,
      k,
      zero: loss.find((s) => s.step === 0),
      one: loss.find((s) => s.step === 1),
      wallSeconds: runJson.wallSeconds,
      iterations: cfg.meta.iterations,
      evalSeconds: evalJson.seconds,
      backend: evalJson.backend,
    });
  }
}

const cell = (s?: Step) => (s ? `${s.mean.toFixed(3)} ± ${s.ci95.toFixed(3)}` : 'n/a');
const at = (a: string, k: number) => measured.find((m) => m.algorithm === a && m.k === k);
/** The meta-iterations of a column's runs (runs are reused, so a column may come from another invocation). */
const itersAt = (k: number) => [...new Set(measured.filter((m) => m.k === k).map((m) => m.iterations.toLocaleString('en-US')))].join('/');
const table = [
  `| algorithm | ${columns.map((k) => `K=${k} measured (${itersAt(k)} it)`).join(' | ')} | ${columns.map((k) => `K=${k} published`).join(' | ')} |`,
  `|---|${columns.map(() => '---').join('|')}|${columns.map(() => '---').join('|')}|`,
  ...algorithms.map((a) => `| ${a} | ${columns.map((k) => cell(at(a, k)?.one)).join(' | ')} | ${columns.map((k) => PUBLISHED[a]?.[k] ?? '—').join(' | ')} |`),
].join('\n');
const before = [
  `| algorithm | ${columns.map((k) => `K=${k}`).join(' | ')} |`,
  `|---|${columns.map(() => '---').join('|')}|`,
  ...algorithms.map((a) => `| ${a} | ${columns.map((k) => cell(at(a, k)?.zero)).join(' | ')} |`),
].join('\n');
const settings = algorithms.map((a) => `- **${a}**: ${PROTOCOLS[a].note}.`).join('\n');
const totalSeconds = measured.reduce((s, m) => s + m.wallSeconds, 0);
const runIterations = columns.map((k) => `${itersAt(k)} at K=${k}`).join(', ');
const backend = [...new Set(measured.map((m) => m.backend))].join(', ');

const section = `<!-- generated by npm run reproduce:sinusoid-family: do not edit by hand -->
### MAML's family, one-step adaptation, K = ${columns.join(' / ')}

Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'} (shared with other work), Node ${process.version}, backend **${backend}**.

Protocol: sinusoid tasks (amplitude U[0.1, 5], phase U[0, π], x U[-5, 5]); MLP 1-40-40-1 ReLU (Glorot init);
meta-batch 25, Adam 0.001, **meta-iterations per run: ${runIterations}** (the papers train 70,000: these are
reduced-scale numbers, not converged); K support and K query points per task in training. Evaluation: the run's final evaluation on
600 held-out test tasks (seed 12345), K support points, 100 query points, **one adaptation step with the algorithm's own
rule** (learned step sizes, head only, context, proximal step), at the run's inner step size; mean MSE ± 95% CI over
tasks. One seed per cell. Published: Li et al. 2017 (Meta-SGD), Table 1, one step at 70,000 iterations ("Li"); Finn et
al. 2017, Fig. 2, read off the figure ("Finn", F). Neither ANIL, MAML++ nor iMAML reports this regression benchmark
(their papers evaluate classification); CAVIA's paper has a sine-regression table, not among the reference figures
checked for this project (docs REFERENCE-RESULTS), so no published number is quoted for it; FOMAML and Reptile are
not in Li et al.'s table either.

Training settings (one inner step unless stated):

${settings}

One-step MSE:

${table}

Before adaptation (step 0, the meta-learned initialisation itself):

${before}

Wall time: ${(totalSeconds / 60).toFixed(0)} min of training and evaluation for ${measured.length} runs (mean ${(totalSeconds / measured.length / 60).toFixed(1)} min per run${reportOnly ? '; tabulated from finished runs' : `, sweep ${((Date.now() - started) / 60000).toFixed(0)} min this invocation`}).
Run folders and the generated YAML configs: \`${relative(root, outRoot)}/\`.
<!-- end generated: sinusoid-family -->`;

if (!args.includes('--no-doc')) {
  const doc = join(root, 'docs/results/sinusoid.md');
  mkdirSync(join(root, 'docs/results'), { recursive: true });
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Sinusoid regression results\n\n';
  const mine = /<!-- generated by npm run reproduce:sinusoid-family[\s\S]*?<!-- end generated: sinusoid-family -->\n?/;
  // Always after the MAML reproduction's section: its script's marker pattern is a prefix of
  // this one, so this section must never come first.
  const rest = text.replace(mine, '').trimEnd();
  writeFileSync(doc, `${rest}\n\n${section}\n`);
  console.log(`written: ${doc}`);
}
console.log(`\n${table}`);
