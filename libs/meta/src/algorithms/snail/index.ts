export * from './snail';
