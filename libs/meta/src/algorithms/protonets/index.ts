export * from './embedding';
export * from './protonets';
