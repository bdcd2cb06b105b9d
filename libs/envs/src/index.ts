export * from './supervised/source';
export * from './supervised/validate';
export * from './sinusoid/sinusoid-source';
export { describeSupervisedSourceContract } from './supervised/contract';
