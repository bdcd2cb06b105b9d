export * from './manifest';
export * from './registry';
export * from './loader';
