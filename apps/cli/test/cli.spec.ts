import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from './processes';
import { smallConfig, tmp } from './helpers';

const dir = tmp('cli');

describe('chameleon CLI', () => {
  it('refuses an invalid config with exit code 2, naming the field and what is allowed', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, stringify({ meta: { batchSize: 0 }, model: { architecture: 'mlp' } }));
    const r = await runCli(['train', '--config', bad, '--out', join(dir, 'bad-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: config\.meta\.batchSize: Too small: expected number to be >=1/);
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, stringify({ meta: { optimiser: { name: 'adamw' } } }));
    const t = await runCli(['train', '--config', typo, '--out', join(dir, 'typo-run')]);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/config\.meta\.optimiser\.name: .*"adam"\|"sgd"/);
    const missing = await runCli(['train', '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config: cannot read/);
  });

  it('trains a small run, then `eval --json` prints exactly one JSON object on stdout', async () => {
    const cfg = join(dir, 'small.yaml');
    writeFileSync(cfg, stringify(smallConfig({ baseline: { iterations: 2 } })));
    const out = join(dir, 'run');
    const train = await runCli(['train', '--config', cfg, '--out', out, '--no-report', '--iterations', '3']);
    expect(train.code).toBe(0);
    expect(train.stderr).toMatch(/backend: wasm/);
    expect(train.stderr).toMatch(/meta-train .* 3\/3/);
    const r = await runCli(['eval', '--checkpoint', join(out, 'checkpoint.ckpt'), '--tasks', '10', '--steps', '2', '--query', '10', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]);
    expect(json).toMatchObject({ numTasks: 10, shots: 5, maxSteps: 2, querySize: 10, learningRate: expect.closeTo(0.01, 6), backend: 'wasm' });
    expect(json.results.map((x: { name: string }) => x.name)).toEqual(['maml', 'pretrained', 'random-init']);
    expect(json.results[0].loss).toHaveLength(3);
  }, 120_000);

  it('answers an unknown service or a bad flag with exit code 2', async () => {
    const r = await runCli(['serve', 'learnr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<service>: must be one of task-sampler, environment-simulator, learner, meta-optimiser, evaluator, agent-server; got "learnr"/);
    const e = await runCli(['eval', '--checkpoint', join(dir, 'missing.ckpt')]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--checkpoint: cannot read checkpoint/);
    const p = await runCli(['serve', 'evaluator', '--learner', 'not-an-address']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/flags\.peers/);
  });
});
