export { MetaOptimiser, type MetaOptimiserOptions } from './service';
export { Run, dataSeed } from './run';
export { loadCheckpoint, saveCheckpoint, writeAtomic } from './checkpoint';
