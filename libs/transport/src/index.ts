export * from './status';
export * from './protos';
export * from './server';
export * from './handlers';
export * from './client';
export * from './convert';
export * from './peers';
export * from './evaluation-json';
