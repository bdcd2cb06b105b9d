export { taskMatMul, taskMatMulReference, type TaskMatMulOptions } from './task-matmul';
export { columnSum, dense, matMulT } from './linear';
export { relu, reluMask } from './relu';
export { wasmKernelsActive } from './wasm';
export { mulAdd2 } from './elementwise';
export { batchedMatMulSettings, installTransposeFreeMatMul, transposeFreeMatMulInstalled } from './matmul';
