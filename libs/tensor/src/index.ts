export * from './tensor';
export * from './parameters';
