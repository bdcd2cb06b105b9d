export * from './errors';
export * from './hash';
export * from './rng';
export * from './host-tensor';
export * from './stats';
export * from './zod-errors';
