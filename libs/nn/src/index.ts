export * from './tf';
export * from './backend';
export * from './activations';
export * from './model';
export * from './mlp';
export * from './losses';
export * from './kernels';
export * from './conv4';
