export * from './gru-policy';
export * from './ppo-sequences';
