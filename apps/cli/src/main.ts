/**
 * The `chameleon` command. This file must not import anything that loads @grpc/grpc-js
 * (telemetry does not): telemetry is initialised before the command modules are required,
 * so the gRPC instrumentation can patch grpc-js when they load it.
 */
import { Command, Option } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { initTelemetry, type TelemetryHandle } from '@chameleon/telemetry';
import { env } from './env';
import { log } from './log';

const SERVICES = ['task-sampler', 'environment-simulator', 'learner', 'meta-optimiser', 'evaluator', 'agent-server'] as const;

function telemetry(serviceName: string, traceFile?: string): void {
  if (traceFile) mkdirSync(dirname(resolve(traceFile)), { recursive: true });
  const handle = initTelemetry({ serviceName, traceFile: traceFile ? resolve(traceFile) : undefined, otlpEndpoint: env('otlpEndpoint') });
  telemetryHandle = handle;
}

let telemetryHandle: TelemetryHandle | undefined;

async function flushTelemetry(): Promise<void> {
  await telemetryHandle?.shutdown();
}

function fail(e: unknown): never {
  const err = e as { code?: string; message?: string };
  log(`error: ${err?.message ?? String(e)}`);
  if (process.env.CHAMELEON_DEBUG && (e as Error)?.stack) log((e as Error).stack!);
  process.exit(err?.code === 'INVALID_ARGUMENT' || err?.code === 'NOT_FOUND' ? 2 : 1);
}

const run = (fn: () => Promise<number | void>) => async () => {
  try {
    const code = await fn();
    await flushTelemetry();
    process.exit(code ?? 0);
  } catch (e) {
    await flushTelemetry().catch(() => undefined);
    fail(e);
  }
};

const program = new Command();
program
  .name('chameleon')
  .description('Meta-learning and continuous adaptation as gRPC microservices')
  .showHelpAfterError()
  .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) });

const backendOption = () => new Option('--backend <name>', 'compute backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']);

program
  .command('serve')
  .description('run one service as a standalone gRPC server')
  .argument('<service>', `one of ${SERVICES.join(', ')}`)
  .option('--host <host>', 'interface to listen on (default 127.0.0.1; 0.0.0.0 for other hosts)')
  .option('--port <port>', 'port (0 picks a free one)')
  .option('--task-sampler <address>', 'task sampler host:port (meta-optimiser, evaluator)')
  .option('--simulators <addresses>', 'comma-separated environment simulator host:port list')
  .option('--learner <address>', 'learner host:port')
  .option('--evaluator <address>', 'evaluator host:port (meta-optimiser)')
  .option('--runs-dir <dir>', 'folder for runs (meta-optimiser)')
  .option('--tasks-per-pass <n>', 'learner: tasks per MetaGradient autodiff pass; auto or 0 (default) = as many as fit --pass-memory-mb, N = N at a time (unchecked)')
  .option('--pass-memory-mb <mib>', 'learner: memory budget of one automatic autodiff pass in MiB (default 2048; the wasm heap stops at 4 GiB)')
  .option('--allow-any-output-dir', "meta-optimiser: let StartRun's output_dir / resume_from name folders outside --runs-dir (trusted callers only)")
  .option('--plugins <modules>', 'comma-separated external plugin modules')
  .option('--trace-file <file>', 'write spans as JSON lines here (when no OTLP endpoint is set)')
  .option('--max-message-bytes <n>', 'largest gRPC message')
  .option('--agents <file>', 'agent-server: YAML list of {name, plugin, config} to field')
  .option('--tokens <list>', 'comma-separated bearer tokens required of clients (agent-server: always when set)')
  .option('--tls-cert <file>', 'serve TLS with this certificate chain (PEM)')
  .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
  .option('--tls-ca <file>', 'require client certificates signed by this CA (mTLS)')
  .addOption(backendOption())
  .action((service: string, opts: Record<string, string | undefined>) =>
    run(async () => {
      telemetry(service, opts.traceFile ?? env('traceFile'));
      const { serve } = require('./commands/serve') as typeof import('./commands/serve');
      await serve(service, opts);
    })(),
  );

program
  .command('up')
  .description('run all five services in this process on loopback and print their addresses')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--runs-dir <dir>', 'folder for runs', 'runs')
  .option('--plugins <modules>', 'comma-separated external plugin modules')
  .option('--trace-file <file>', 'write spans as JSON lines here')
  .addOption(backendOption())
  .action((opts: Record<string, string | undefined>) =>
    run(async () => {
      telemetry('chameleon', opts.traceFile ?? env('traceFile'));
      const { up } = require('./commands/up') as typeof import('./commands/up');
      await up(opts);
    })(),
  );

import type { TrainFlags } from './commands/train-prepare';

const trainAction = (flags: TrainFlags) =>
  run(async () => {
    const { prepareTrain } = require('./commands/train-prepare') as typeof import('./commands/train-prepare');
    const prepared = prepareTrain(flags);
    telemetry('chameleon', join(prepared.outDir, 'traces.jsonl'));
    const { train } = require('./commands/train') as typeof import('./commands/train');
    return train(prepared);
  })();

program
  .command('train')
  .description('meta-train from a config; without --services it starts the five services in-process')
  .requiredOption('--config <file>', 'run configuration (YAML)')
  .option('--iterations <n>', 'override meta.iterations')
  .option('--out <dir>', 'run folder (default runs/<name>-<time>)')
  .option('--services <file>', 'YAML/JSON file with the addresses of running services')
  .option('--resume <checkpoint>', 'continue a run from its checkpoint')
  .option('--no-report', 'skip report.html')
  .addOption(backendOption())
  .action((flags: TrainFlags) => trainAction(flags));

program
  .command('demo')
  .description('the sinusoid MAML demo (what `npm start` runs)')
  .option('--out <dir>', 'run folder', 'runs/demo')
  .option('--iterations <n>', 'override meta.iterations')
  .addOption(backendOption())
  .action((flags: { out: string; iterations?: string; backend?: string }) =>
    trainAction({ config: join(__dirname, '../../../configs/sinusoid-maml-demo.yaml'), out: flags.out, iterations: flags.iterations, backend: flags.backend, report: true }),
  );

program
  .command('eval')
  .description('evaluate a checkpoint on held-out tasks against the baselines')
  .requiredOption('--checkpoint <file>', 'checkpoint written by a run')
  .option('--tasks <n>', 'held-out tasks', '600')
  .option('--shots <n>', 'K support examples (default: the run\'s)')
  .option('--steps <n>', 'adaptation steps', '10')
  .option('--query <n>', 'query examples per task', '100')
  .option('--lr <x>', 'inner step size (default: the run\'s)')
  .option('--seed <n>', 'held-out task seed', '12345')
  .option('--no-random-init', 'skip the random-init baseline')
  .option('--services <file>', 'YAML/JSON file with the addresses of running services')
  .option('--json', 'print the metrics as one JSON object on stdout')
  .addOption(backendOption())
  .action((flags: Record<string, string | boolean | undefined>) =>
    run(async () => {
      telemetry('chameleon');
      const { evalCommand } = require('./commands/eval') as typeof import('./commands/eval');
      await evalCommand(flags);
    })(),
  );

const matchOptions = (c: Command) =>
  c
    .option('--env <name>', 'two-player environment', 'robosumo')
    .option('--env-config <json>', 'environment configuration (JSON)')
    .option('--rounds <n>', 'rounds per pairing', '100')
    .option('--episodes-per-round <n>', 'episodes per round (agents adapt after each round)', '3')
    .option('--seed <n>', 'seed', '1')
    .option('--out <dir>', 'output folder')
    .option('--token <token>', 'bearer token for remote agent-servers')
    .option('--tls-ca <file>', 'CA to verify remote agent-servers (TLS)')
    .option('--tls-cert <file>', 'client certificate (mTLS)')
    .option('--tls-key <file>', 'client key (mTLS)')
    .option('--plugins <modules>', 'comma-separated external plugin modules')
    .addOption(backendOption());

matchOptions(
  program
    .command('play')
    .description('play two agents against each other for rounds of episodes (either may be remote: host:port/agent)')
    .requiredOption('--agent <spec>', 'plugin[:checkpoint] (e.g. meta-adapter:runs/x/checkpoint.ckpt) or host:port/agent')
    .requiredOption('--opponent <spec>', 'the other player, same forms'),
).action((flags: Record<string, string | undefined>) =>
  run(async () => {
    telemetry('chameleon');
    const { play } = require('./commands/play') as typeof import('./commands/play');
    await play(flags);
  })(),
);

matchOptions(
  program
    .command('tournament')
    .description('round robin over a population of agents; TrueSkill ratings from every episode')
    .requiredOption('--agents <file>', 'YAML list of {name, spec}'),
).action((flags: Record<string, string | undefined>) =>
  run(async () => {
    telemetry('chameleon');
    const { tournament } = require('./commands/play') as typeof import('./commands/play');
    await tournament(flags);
  })(),
);

program
  .command('plugins')
  .description('list the registered plugins (built-in and from --plugins)')
  .option('--plugins <modules>', 'comma-separated external plugin modules')
  .action((opts: { plugins?: string }) =>
    run(async () => {
      const { createRegistry } = require('@chameleon/builtins') as typeof import('@chameleon/builtins');
      const { list } = require('./env') as typeof import('./env');
      const registry = createRegistry(list(opts.plugins));
      for (const kind of ['task-family', 'environment', 'model', 'algorithm', 'agent'] as const) {
        for (const m of registry.list(kind)) process.stdout.write(`${kind.padEnd(12)} ${m.name.padEnd(16)} ${m.version.padEnd(8)} ${m.description}\n`);
      }
    })(),
  );

program.parseAsync(process.argv).catch(fail);
