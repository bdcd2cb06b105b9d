import { createRegistry } from '@chameleon/builtins';
import { list } from '../env';
import { startEmbedded } from '../embedded';
import { emit, log } from '../log';
import { backend, untilSignal } from './shared';

/** `chameleon up`: all five services in this process until SIGINT/SIGTERM. */
export async function up(flags: Record<string, string | undefined>): Promise<void> {
  await backend(flags.backend);
  const embedded = await startEmbedded(createRegistry(list(flags.plugins)), { host: flags.host, runsDir: flags.runsDir, log });
  const a = embedded.addresses;
  emit({ event: 'listening', services: a, pid: process.pid });
  log(
    [
      'Chameleon is up:',
      `  task-sampler           ${a.taskSampler}`,
      `  environment-simulator  ${a.simulators.join(',')}`,
      `  learner                ${a.learner}`,
      `  evaluator              ${a.evaluator}`,
      `  meta-optimiser         ${a.metaOptimiser}`,
      'A services file for `chameleon train --services FILE`:',
      `  {"taskSampler":"${a.taskSampler}","simulators":["${a.simulators.join('","')}"],"learner":"${a.learner}","evaluator":"${a.evaluator}","metaOptimiser":"${a.metaOptimiser}"}`,
    ].join('\n'),
  );
  await untilSignal(() => embedded.shutdown());
}
