import { Rng, int32, invalidArgument, float32, type HostTensor } from '@chameleon/core';
import type { Task } from '@chameleon/tasks';
import type { SupervisedBatch, SupervisedRequest, SupervisedSource } from '../supervised/source';
import { validateSupervisedRequest } from '../supervised/validate';

/** Images of the classes of a dataset: what an N-way episode source draws from. */
export interface ClassImages<C> {
  /** The classes of a task in label order, read from its params (errors name `tasks[i]`). */
  classes(task: Task, i: number): C[];
  /** Instances (drawings) of a class. */
  instances(cls: C): number;
  /** Writes instance k of a class, one image of inputShape, at out[offset ...]. */
  render(cls: C, k: number, out: Float32Array, offset: number): void;
}

/** Examples per label when `total` examples are spread over `ways` labels (the first labels get one more). */
export const perLabel = (total: number, ways: number): number[] => Array.from({ length: ways }, (_, l) => Math.floor(total / ways) + (l < total % ways ? 1 : 0));

/**
 * An N-way episodic supervised source: for each task, `supportSize` support and `querySize`
 * query examples spread evenly over its N classes (so supportSize = N * K for K shots), drawn
 * without replacement from each class's instances, in a shuffled order, with int32 labels
 * 0..N-1 in the task's label order. Everything depends only on (task id, task seed, request
 * seed): a task gets the same episode in any batch.
 */
export class EpisodeSource<C> implements SupervisedSource {
  readonly targetShape: number[] = [];
  readonly targetDType = 'int32' as const;
  readonly inputBounds = { minimum: 0, maximum: 1 };

  constructor(
    readonly name: string,
    readonly version: string,
    readonly description: string,
    readonly inputShape: readonly number[],
    private readonly images: ClassImages<C>,
  ) {}

  sample(tasks: readonly Task[], req: SupervisedRequest): SupervisedBatch {
    validateSupervisedRequest(this, tasks, req);
    if (req.queryInputs) throw invalidArgument('query_inputs', `"${this.name}" draws query images itself; fixed query inputs are for regression sources`);
    const T = tasks.length;
    const [S, Q] = [req.supportSize, req.querySize];
    const size = this.inputShape.reduce((a, b) => a * b, 1);
    const sx = new Float32Array(T * S * size);
    const qx = new Float32Array(T * Q * size);
    const sy = new Int32Array(T * S);
    const qy = new Int32Array(T * Q);
    tasks.forEach((task, t) => {
      const classes = this.images.classes(task, t);
      const ways = classes.length;
      const [ns, nq] = [perLabel(S, ways), perLabel(Q, ways)];
      const support: Array<[number, number]> = [];
      const query: Array<[number, number]> = [];
      classes.forEach((cls, label) => {
        const n = this.images.instances(cls);
        if (ns[label] + nq[label] > n) {
          throw invalidArgument('support_size', `task ${t} (${ways}-way) needs ${ns[label]} support + ${nq[label]} query instances of class ${label}, which has ${n}; ask for fewer examples`);
        }
        const picks = draw(Rng.fromKeys(task.id, task.seed, req.seed, 'instances', label), n, ns[label] + nq[label]);
        picks.forEach((k, j) => (j < ns[label] ? support : query).push([label, k]));
      });
      Rng.fromKeys(task.id, task.seed, req.seed, 'support-order').shuffle(support);
      Rng.fromKeys(task.id, task.seed, req.seed, 'query-order').shuffle(query);
      support.forEach(([label, k], j) => {
        sy[t * S + j] = label;
        this.images.render(classes[label], k, sx, (t * S + j) * size);
      });
      query.forEach(([label, k], j) => {
        qy[t * Q + j] = label;
        this.images.render(classes[label], k, qx, (t * Q + j) * size);
      });
    });
    return {
      supportX: float32([T, S, ...this.inputShape], sx),
      supportY: int32([T, S], sy) as HostTensor<'int32'>,
      queryX: float32([T, Q, ...this.inputShape], qx),
      queryY: int32([T, Q], qy) as HostTensor<'int32'>,
    };
  }
}

/** count distinct integers of [0, n) in random order (partial Fisher-Yates). */
function draw(rng: Rng, n: number, count: number): number[] {
  const items = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items.slice(0, count);
}

/** Checks the shared part of an episodic task's params and returns its classes array. */
export function episodeClasses(task: Task, i: number, dataset: string): unknown[] {
  const p = task.params as { dataset?: unknown; ways?: unknown; classes?: unknown };
  if (p.dataset !== dataset) throw invalidArgument(`tasks[${i}].params.dataset`, `must be "${dataset}", got ${JSON.stringify(p.dataset)}`);
  if (!Array.isArray(p.classes) || p.classes.length < 2) throw invalidArgument(`tasks[${i}].params.classes`, 'must list at least 2 classes in label order');
  if (p.ways !== p.classes.length) throw invalidArgument(`tasks[${i}].params.ways`, `is ${JSON.stringify(p.ways)} but ${p.classes.length} classes are listed`);
  return p.classes;
}

/** A bounded cache in least-recently-used order. */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly capacity: number) {}

  get(key: K, make: () => V): V {
    let v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
    } else {
      v = make();
      if (this.map.size >= this.capacity) this.map.delete(this.map.keys().next().value as K);
    }
    this.map.set(key, v);
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}
