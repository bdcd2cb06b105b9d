export * from './run-config';
export * from './load';
export * from './services';
export * from './rl-run-config';
