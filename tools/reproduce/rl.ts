/**
 * `npm run reproduce:rl -- --env 2d-navigation|halfcheetah-vel|halfcheetah-dir|ant-dir|ant-goal
 *   [--config FILE] [--iterations N] [--out DIR] [--skip-train]`
 *
 * Trains MAML-TRPO with configs/<env>-maml-reproduce.yaml (a documented reduced protocol that
 * fits this 2-core machine; the paper-scale config is <env>-maml-paper.yaml), then writes
 * docs/results/<env>.md (return per adaptation step against the baselines and the paper, the
 * protocol, wall time per phase, machine load) and the plots as docs/results/<env>-*.svg.
 * While training it samples the load average every 30 s into <out>/load.jsonl (with
 * --skip-train that file is read if something else wrote it). Checks:
 *   2d-navigation: after one step MAML beats the pretrained and random-init policies (95% CIs apart).
 *   halfcheetah-*, ant-*: MAML after one step beats MAML before adaptation and random init.
 * Exit code 0 when every check passes, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { PolicyEvaluationJson, StepJson } from '@chameleon/transport';
import { closeRenderer, loadRun, pathsSpec, renderSvg, returnAdaptationSpec, returnCurveSpec, RETURN_SERIES, type ReturnPoint } from '@chameleon/report';

const root = resolve(__dirname, '../..');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const env = flag('--env') ?? '2d-navigation';
const ENVS = ['2d-navigation', 'halfcheetah-vel', 'halfcheetah-dir', 'ant-dir', 'ant-goal'];
if (!ENVS.includes(env)) {
  console.error(`--env must be one of ${ENVS.join(', ')}`);
  process.exit(2);
}
const config = resolve(flag('--config') ?? join(root, `configs/${env}-maml-reproduce.yaml`));
const out = resolve(flag('--out') ?? join(root, `runs/reproduce-${env}`));
const results = join(root, 'docs/results');

/** What the paper reports (Finn et al. 2017; F = read off a figure), and its protocol. */
const PAPER: Record<string, { text: string; before?: number; after?: number; protocol: string }> = {
  '2d-navigation': {
    text: 'qualitative: MAML adapts within 1-3 steps far better than the pretrained and random-init policies (Fig. 4); no table of returns',
    protocol: 'meta-batch 20 tasks × 20 episodes × 100 steps, inner step 0.1, TRPO max KL 0.01; the paper-scale config shipped here (`2d-navigation-maml-paper.yaml`) runs 500 meta-iterations',
  },
  'halfcheetah-vel': {
    text: 'about −130 before adaptation, about −80 after one step (F, Fig. 5)',
    before: -130,
    after: -80,
    protocol: 'meta-batch 40 tasks × 20 episodes × 200 steps, inner step 0.1, TRPO max KL 0.01, 500 meta-iterations (`halfcheetah-vel-maml-paper.yaml`)',
  },
  'halfcheetah-dir': { text: 'about 0 before adaptation, about 300 after one step (F)', before: 0, after: 300, protocol: 'as HalfCheetahVel, 500 meta-iterations' },
  'ant-dir': { text: 'MAML adapts to the direction within one step (F)', protocol: 'meta-batch 40 × 20 episodes × 200 steps, 500 meta-iterations' },
  'ant-goal': { text: 'AntVel/goal: about −20 to about 100 (F)', protocol: 'meta-batch 40 × 20 episodes × 200 steps, 500 meta-iterations' },
};

function train(): Promise<number> {
  if (!existsSync(config)) {
    console.error(`no config ${config}`);
    process.exit(2);
  }
  const iterations = flag('--iterations');
  const cli = [join(root, 'apps/cli/bin/chameleon.js'), 'train', '--config', config, '--out', out, ...(iterations ? ['--iterations', iterations] : [])];
  const child = spawn(process.execPath, cli, { stdio: 'inherit' });
  const sample = () => {
    if (existsSync(out)) appendFileSync(join(out, 'load.jsonl'), `${JSON.stringify({ t: Math.floor(Date.now() / 1000), load: loadavg().map((x) => Number(x.toFixed(2))) })}\n`);
  };
  const timer = setInterval(sample, 30_000);
  return new Promise((done) =>
    child.on('exit', (code) => {
      clearInterval(timer);
      done(code ?? 1);
    }),
  );
}

type Step = StepJson;
type EvalJson = PolicyEvaluationJson;
interface RunJson {
  wallSeconds: number;
  backend: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpuModel: string; cpus: number; node: string };
}
interface Cfg {
  algorithm: { name: string };
  policy: { config: { hidden?: number[]; activation?: string } };
  inner: { learningRate: number };
  meta: { iterations: number; batchSize: number; episodesPerTask: number; horizon: number };
  baseline: { iterations: number; oracleIterations: number };
  algorithm_config?: unknown;
}
interface Progress {
  phase: string;
  iteration: number;
  preAdaptationReturn: number;
  postAdaptationReturn: number;
  elapsed: number;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(out, file), 'utf8')) as T;
const readLines = <T>(file: string): T[] =>
  existsSync(join(out, file))
    ? readFileSync(join(out, file), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as T)
    : [];
const f1 = (x: number) => x.toFixed(1);
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;

/**
 * Progress lines with `elapsed` made continuous: a resumed run (SIGTERM, then --resume with
 * fewer iterations) restarts its clock, so later segments are offset by the earlier ones.
 */
function continuous(progress: Progress[]): { rows: Progress[]; resumes: number } {
  let offset = 0;
  let previous = 0;
  let resumes = 0;
  const rows = progress.map((p) => {
    if (p.elapsed < previous) {
      offset += previous;
      resumes++;
    }
    previous = p.elapsed;
    return { ...p, elapsed: p.elapsed + offset };
  });
  return { rows, resumes };
}

/** The last progress line of each training phase: iterations run and seconds spent. */
function phaseTimes(progress: Progress[]): Array<{ phase: string; iterations: number; seconds: number }> {
  const phases: Array<{ phase: string; iterations: number; seconds: number }> = [];
  let before = 0;
  for (const name of ['meta-train', 'baseline', 'oracle']) {
    const rows = progress.filter((p) => p.phase === name);
    if (!rows.length) continue;
    const end = rows[rows.length - 1].elapsed;
    phases.push({ phase: name, iterations: rows[rows.length - 1].iteration, seconds: end - before });
    before = end;
  }
  return phases;
}

/** The plots of report.html, rendered to SVG files next to the results page. */
async function plots(evalJson: EvalJson, progress: Progress[]): Promise<string[]> {
  const written: string[] = [];
  const save = async (name: string, svg: string) => {
    writeFileSync(join(results, `${env}-${name}.svg`), svg);
    written.push(`${env}-${name}.svg`);
  };
  await save('adaptation', await renderSvg(returnAdaptationSpec(evalJson.results)));
  const points: ReturnPoint[] = [];
  for (const p of progress) {
    if (p.phase === 'meta-train') {
      points.push({ iteration: p.iteration, series: RETURN_SERIES.post.name, value: p.postAdaptationReturn });
      points.push({ iteration: p.iteration, series: RETURN_SERIES.pre.name, value: p.preAdaptationReturn });
    } else if (p.phase === 'baseline' || p.phase === 'oracle') {
      points.push({ iteration: p.iteration, series: RETURN_SERIES[p.phase].name, value: p.postAdaptationReturn });
    }
  }
  await save('training', await renderSvg(returnCurveSpec(points)));
  if (env === '2d-navigation') {
    const data = await loadRun(out);
    const tasks = data.policyEvaluation?.paths ?? [];
    if (tasks.length) await save('paths', await renderSvg(pathsSpec(tasks, evalJson.results[0]?.name)));
  }
  await closeRenderer();
  return written;
}

async function main(): Promise<void> {
  if (!args.includes('--skip-train')) {
    const code = await train();
    if (code !== 0) {
      console.error(`training failed (exit ${code}); see ${out}`);
      process.exit(code);
    }
  }
  const evalJson = readJson<EvalJson>('eval.json');
  const runJson = readJson<RunJson>('run.json');
  const cfg = readJson<Cfg>('config.json');
  const { rows: progress, resumes } = continuous(readLines<Progress & { type: string }>('metrics.jsonl').filter((l) => l.type === 'progress'));
  const loadLines = readLines<{ t: number; load: number[] }>('load.jsonl');
  const loads = loadLines.map((l) => l.load[0]);
  // A resumed run's run.json starts at the resume: the first load sample is the real start.
  const startedAt = loadLines.length ? new Date(Math.min(loadLines[0].t * 1000, Date.parse(runJson.startedAt))).toISOString() : runJson.startedAt;
  const algo = cfg.algorithm.name;
  const at = (name: string, k: number) => evalJson.results.find((r) => r.name === name)?.episodeReturn.find((s) => s.step === k);
  const cell = (s?: Step) => (s ? `${f1(s.mean)} ± ${f1(s.ci95)}` : '—');
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${f1(x)}`;
  const gainCell = (a?: Step, b?: Step) => (!a || !b ? '—' : b.changeMean !== undefined && b.changeCi95 !== undefined ? `${signed(b.changeMean)} ± ${f1(b.changeCi95)} (paired)` : signed(b.mean - a.mean));
  const steps = Array.from({ length: evalJson.maxSteps + 1 }, (_, k) => k);
  const label = (name: string) => (name === algo ? `**${name}** (MAML)` : name === 'oracle' ? 'oracle (sees the task, does not adapt)' : name);
  const table = [
    `| candidate | ${steps.map((k) => `${k} step${k === 1 ? '' : 's'}`).join(' | ')} |`,
    `|---|${steps.map(() => '---:').join('|')}|`,
    ...evalJson.results.map((r) => `| ${label(r.name)} | ${steps.map((k) => cell(at(r.name, k))).join(' | ')} |`),
  ].join('\n');
  const above = (a?: Step, b?: Step) => !!a && !!b && a.mean - a.ci95 > b.mean + b.ci95;
  const checks: Array<[string, boolean]> =
    env === '2d-navigation'
      ? [
          ['MAML after 1 step > pretrained after 1 step (95% CIs apart)', above(at(algo, 1), at('pretrained', 1))],
          ['MAML after 1 step > random init after 1 step (95% CIs apart)', above(at(algo, 1), at('random-init', 1))],
        ]
      : [
          // Paired over the same tasks when the evaluator reported the change from step 0.
          at(algo, 1)?.changeCi95 !== undefined
            ? ['MAML after 1 step > MAML before adaptation (paired over tasks, 95% CI of the gain above 0)', at(algo, 1)!.changeMean! - at(algo, 1)!.changeCi95! > 0]
            : ['MAML after 1 step > MAML before adaptation (95% CIs apart)', above(at(algo, 1), at(algo, 0))],
          ['MAML after 1 step > random init after 1 step (95% CIs apart)', above(at(algo, 1), at('random-init', 1))],
        ];
  const paper = PAPER[env];
  const m0 = at(algo, 0);
  const m1 = at(algo, 1);
  const paperRows =
    paper.before !== undefined && paper.after !== undefined
      ? `| | before adaptation | after 1 step | gain |
|---|---:|---:|---:|
| paper (${paper.protocol.split(',')[0]}, 500 meta-iterations) | ≈ ${paper.before} | ≈ ${paper.after} | ≈ +${paper.after - paper.before} |
| here (${cfg.meta.batchSize} tasks × ${cfg.meta.episodesPerTask} episodes, ${cfg.meta.iterations} iterations) | ${m0 ? cell(m0) : '—'} | ${m1 ? cell(m1) : '—'} | ${gainCell(m0, m1)} |`
      : `Paper: ${paper.text}.`;
  const gainNote =
    m1?.changeCi95 !== undefined
      ? '\n\nGain = mean over the held-out tasks of (return after 1 step − return before) on the same task, ± the 95% CI of that paired difference; the ± on the returns themselves are dominated by the spread between tasks (target velocities), which the paired difference removes.'
      : '';
  const meta = progress.filter((p) => p.phase === 'meta-train');
  const first = meta[0];
  const last = meta[meta.length - 1];
  const times = phaseTimes(progress);
  const trainSeconds = progress.length ? progress[progress.length - 1].elapsed : 0;
  const resumed = resumes
    ? ` The run was stopped (SIGTERM, which checkpoints) and resumed ${resumes === 1 ? 'once' : `${resumes} times`} with the iteration counts cut to what the machine's load allowed; a resumed run continues from the checkpoint exactly as an uninterrupted run with those counts would.`
    : '';
  const timeRows = [
    ...times.map((t) => `| ${t.phase} | ${t.iterations} | ${minutes(t.seconds)} | ${f1(t.seconds / Math.max(1, t.iterations))} s |`),
    `| evaluation | — | ${minutes(evalJson.seconds)} | — |`,
    `| **total** | | **${minutes(trainSeconds + evalJson.seconds)}** | |`,
  ].join('\n');
  const loadText = loads.length
    ? `1-minute load average sampled every 30 s during the run: median ${f1([...loads].sort((a, b) => a - b)[loads.length >> 1])}, range ${f1(Math.min(...loads))}-${f1(Math.max(...loads))} (${loads.length} samples; the run itself, niced, accounts for about 1)${resumes ? '; sampled only while `reproduce:rl` itself trained, not during resumed parts run with `chameleon train --resume`' : ''}`
    : 'load average not recorded';
  const svgs = await plots(evalJson, progress);
  const section = `<!-- generated by npm run reproduce:rl: do not edit by hand -->
## ${env}: MAML-TRPO, reduced protocol

Measured ${startedAt.slice(0, 16).replace('T', ' ')}-${runJson.finishedAt.slice(11, 16)} UTC on ${runJson.machine.cpus} × ${runJson.machine.cpuModel}, Node ${runJson.machine.node}, backend **${runJson.backend}**.

### Return per adaptation step

Evaluation: ${evalJson.numTasks} held-out test tasks, ${evalJson.episodesPerTask} fresh episodes per task after every adaptation step
(policy-gradient steps with α = ${evalJson.learningRate}), horizon ${evalJson.horizon}; mean undiscounted return ± 95% CI over tasks (higher is better).

${table}

| check | result |
|---|---|
${checks.map(([name, ok]) => `| ${name} | ${ok ? 'pass' : 'FAIL'} |`).join('\n')}

${paperRows}${gainNote}

### Protocol

| | paper | here |
|---|---|---|
| protocol | ${paper.protocol} | ${cfg.meta.batchSize} tasks × ${cfg.meta.episodesPerTask} episodes × ${cfg.meta.horizon} steps per meta-batch, **${cfg.meta.iterations} meta-iterations** |
| policy | Gaussian MLP 100-100 ReLU (paper text) | Gaussian MLP ${(cfg.policy.config.hidden ?? [100, 100]).join('-')} ${cfg.policy.config.activation ?? 'tanh'}, learned log-std |
| inner loop | one policy-gradient step, α = 0.1, linear feature baseline | one policy-gradient step, α = ${cfg.inner.learningRate}, linear feature baseline, γ = 0.99, Monte-Carlo returns |
| meta-step | TRPO, max KL 0.01, exact second-order HVP | TRPO, max KL 0.01, 10 CG iterations, exact second-order HVP (fused path, libs/rl/src/fast) |
| pretrained | one policy trained on all tasks | ${cfg.baseline.iterations ? `multi-task TRPO, ${cfg.baseline.iterations} iterations of the same batch size, then fine-tuned like MAML` : 'not run (0 iterations)'} |
| oracle | — | ${cfg.baseline.oracleIterations ? `TRPO for ${cfg.baseline.oracleIterations} iterations on observations that include the task parameters (not adapted)` : 'not run (0 iterations)'} |

Meta-training return (meta-batch tasks): iteration 1 ${first ? `${f1(first.preAdaptationReturn)} before / ${f1(first.postAdaptationReturn)} after adaptation` : '—'};
iteration ${last?.iteration ?? '—'} ${last ? `${f1(last.preAdaptationReturn)} before / ${f1(last.postAdaptationReturn)} after` : '—'}.

### Wall time

| phase | iterations | wall time | per iteration |
|---|---:|---:|---:|
${timeRows}

${loadText}.${resumed} On a quiet core one meta-iteration of this protocol takes about ${env === '2d-navigation' ? '16' : '26'} s (BENCHMARKS.md, Meta-RL).

### Plots

${svgs.map((s) => `![${s}](${s})`).join('\n')}

Run folder: \`${relative(root, out)}\` (report.html there, not committed).
<!-- end generated -->`;
  const doc = join(results, `${env}.md`);
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# ${env} results\n\n`;
  const re = /<!-- generated by npm run reproduce:rl[\s\S]*?<!-- end generated -->/;
  writeFileSync(doc, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
  console.log(table);
  for (const [name, ok] of checks) console.log(`${ok ? 'pass' : 'FAIL'}: ${name}`);
  console.log(`written: ${doc} and ${svgs.join(', ')}`);
  process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
