import { check, invalidArgument, resourceExhausted, sizeOf } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import type { SupervisedRequest, SupervisedSource } from './source';

/** Largest number of float elements one batch may hold (support + query inputs): 64M = 256 MB. */
export const MAX_BATCH_ELEMENTS = 64 * 1024 * 1024;
export const MAX_TASKS_PER_BATCH = 10_000;

/** Checks a request against a source before any work is done. */
export function validateSupervisedRequest(source: SupervisedSource, tasks: readonly Task[], req: SupervisedRequest): void {
  check(tasks.length >= 1, 'tasks', 'at least one task is required');
  if (tasks.length > MAX_TASKS_PER_BATCH) throw resourceExhausted('tasks', `at most ${MAX_TASKS_PER_BATCH} tasks per batch, got ${tasks.length}`);
  tasks.forEach((t, i) => {
    if (t.family !== source.name) {
      throw invalidArgument(`tasks[${i}].family`, `environment "${source.name}" cannot draw data for a "${t.family}" task`);
    }
  });
  check(Number.isInteger(req.supportSize) && req.supportSize >= 1, 'support_size', `must be an integer >= 1, got ${req.supportSize}`);
  check(Number.isInteger(req.querySize) && req.querySize >= 0, 'query_size', `must be an integer >= 0, got ${req.querySize}`);
  let q = req.querySize;
  if (req.queryInputs) {
    const s = req.queryInputs.shape;
    const want = source.inputShape;
    const ok = s.length === want.length + 1 && want.every((d, i) => s[i + 1] === d);
    check(ok, 'query_inputs', `must have shape [Q, ${want.join(', ')}], got [${s.join(', ')}]`);
    check(s[0] >= 1, 'query_inputs', 'needs at least one row');
    for (let i = 0; i < req.queryInputs.data.length; i++) {
      if (!Number.isFinite(req.queryInputs.data[i])) throw invalidArgument('query_inputs', `element ${i} is not finite (NaN or Inf)`);
    }
    q = s[0];
  }
  const elements = tasks.length * (req.supportSize + q) * Math.max(1, sizeOf(source.inputShape));
  if (elements > MAX_BATCH_ELEMENTS) {
    throw resourceExhausted('support_size', `the batch would hold ${elements} input elements, more than ${MAX_BATCH_ELEMENTS}; ask for fewer tasks or examples`);
  }
}
