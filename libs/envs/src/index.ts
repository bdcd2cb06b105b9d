export * from './supervised/source';
export * from './supervised/validate';
export * from './sinusoid/sinusoid-source';
export { describeSupervisedSourceContract } from './supervised/contract';
export * from './rl/environment';
export * from './rl/vector-env';
export * from './rl/worlds';
export { describeEnvironmentContract } from './rl/contract';
export * from './navigation/navigation';
