export * from './task';
export * from './sampler';
export * from './sinusoid/sinusoid';
export { describeTaskSourceContract } from './contract';
export * from './sequences';
export * from './few-shot';
