/**
 * The one place that imports TensorFlow.js: everything else imports `tf` from here, so
 * the backend packages are registered before any op runs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export type Tensor = tf.Tensor;
export type Scalar = tf.Scalar;
