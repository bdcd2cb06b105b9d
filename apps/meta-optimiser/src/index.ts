export { MetaOptimiser, type MetaOptimiserOptions } from './service';
export { RunBase, dataSeed } from './run-base';
export { SupervisedRun } from './supervised-run';
export { loadCheckpoint, saveCheckpoint, writeAtomic } from '@chameleon/transport';
