export * from './types';
export * from './adapt';
export * from './algorithms/maml';
export * from './algorithms/reptile';
export * from './algorithms/pretrain';
export * from './optim/optimiser';
export * from './plugins';
export * from './host';
