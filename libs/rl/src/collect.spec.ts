import { Rng, isChameleonError } from '@chameleon/core';
import { VectorEnv, type SequentialEnvironment, type World } from '@chameleon/envs';
import type { Task } from '@chameleon/tasks';
import { collectEpisodes, collectEpisodesAsync } from './collect';
import { concatBatches, episodeLength, episodeReturns, selectEpisodes, sliceByTask, splitByTask, validateBatch } from './trajectory';

/**
 * A counter world: obs = [steps so far, task id]; reward = the action's first element;
 * terminates after `params.terminateAt` steps (if any), else runs into the time limit.
 */
class CounterWorld implements World {
  private t = 0;
  private end = Infinity;
  private id = 0;
  reset(task: Task, _rng: Rng, obs: Float32Array) {
    this.t = 0;
    this.end = (task.params.terminateAt as number | undefined) ?? Infinity;
    this.id = task.params.id as number;
    obs[0] = 0;
    obs[1] = this.id;
  }
  step(action: Float32Array, obs: Float32Array) {
    this.t++;
    obs[0] = this.t;
    obs[1] = this.id;
    return { reward: action[0], terminated: this.t >= this.end };
  }
}

const counterEnv = (limit: number): SequentialEnvironment => ({
  kind: 'sequential',
  name: 'counter',
  version: '1.0.0',
  description: 'test counter',
  family: 'counter',
  spec: { observationShape: [2], actionShape: [1], actionMinimum: [-100], actionMaximum: [100], maxEpisodeSteps: limit },
  createWorld: () => new CounterWorld(),
});

const task = (id: number, terminateAt?: number): Task => ({ id: `t${id}`, family: 'counter', familyVersion: '1.0.0', params: { id, terminateAt }, seed: id, split: 'train', index: id });

// Action = 10 * task id + step index, so every recorded step can be checked.
const actFn = (o: Float32Array, n: number) => {
  const actions = new Float32Array(n);
  for (let w = 0; w < n; w++) actions[w] = 10 * o[2 * w + 1] + o[2 * w];
  return { actions, logProbs: actions.map((a) => -a) };
};

describe('collectEpisodes', () => {
  it('returns exactly the requested number of complete episodes, world-major, with taskOf, even when E is not a multiple of N', () => {
    const env = new VectorEnv(counterEnv(5), 3, [task(0), task(1), task(2, 3)], 1);
    const b = collectEpisodes(env, actFn, 7, 5, new Rng(1), { taskOfWorld: [0, 1, 2] });
    validateBatch(b);
    expect(b.episodes).toBe(7);
    // World 0 plays 3 episodes, worlds 1 and 2 play 2 each.
    expect(Array.from(b.taskOf)).toEqual([0, 0, 0, 1, 1, 2, 2]);
    const lengths = Array.from({ length: 7 }, (_, e) => episodeLength(b, e));
    expect(lengths).toEqual([5, 5, 5, 5, 5, 3, 3]);
    for (let e = 0; e < 7; e++) {
      const id = b.taskOf[e];
      for (let t = 0; t < lengths[e]; t++) {
        const i = e * 5 + t;
        expect(b.observations[2 * i]).toBe(t); // the observation the action was taken at
        expect(b.actions[i]).toBe(10 * id + t);
        expect(b.rewards[i]).toBe(10 * id + t);
        expect(b.logProbs[i]).toBe(-(10 * id + t));
      }
      expect(b.finalObservations[2 * e]).toBe(lengths[e]);
    }
  });

  it('marks terminal transitions with discount 0 and time limits with discount 1; padding is zero', () => {
    const env = new VectorEnv(counterEnv(4), 2, [task(0), task(1, 2)], 1);
    const b = collectEpisodes(env, actFn, 2, 6, new Rng(1), { taskOfWorld: [0, 1] });
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(b.discounts)).toEqual([1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(episodeReturns(b))).toEqual([0 + 1 + 2 + 3, 10 + 11]);
  });

  it('refuses a horizon below the episode limit, naming the field', () => {
    const env = new VectorEnv(counterEnv(10), 2, [task(0)], 1);
    expect.assertions(2);
    try {
      collectEpisodes(env, actFn, 2, 5, new Rng(1));
    } catch (e) {
      expect(isChameleonError(e)).toBe(true);
      expect((e as Error).message).toMatch(/^horizon:/);
    }
  });

  it('gives the same batch over an asynchronous transport', async () => {
    const mk = () => new VectorEnv(counterEnv(4), 2, [task(0), task(1, 3)], 1);
    const sync = collectEpisodes(mk(), actFn, 5, 4, new Rng(2), { taskOfWorld: [0, 1] });
    const v = mk();
    const remote = { spec: v.spec, numWorlds: 2, horizon: v.horizon, reset: async () => v.reset(), step: async (a: Float32Array) => v.step(a) };
    const b = await collectEpisodesAsync(remote, actFn, 5, 4, new Rng(2), { taskOfWorld: [0, 1] });
    expect(b).toEqual(sync);
  });
});

describe('trajectory batches', () => {
  const env = () => new VectorEnv(counterEnv(4), 3, [task(0), task(1, 2), task(2, 3)], 1);
  const full = () => collectEpisodes(env(), actFn, 6, 4, new Rng(3), { taskOfWorld: [0, 1, 2] });

  it('slices by task and concatenates back to the same episodes', () => {
    const b = full();
    const parts = splitByTask(b, 3);
    expect(parts.map((p) => p.episodes)).toEqual([2, 2, 2]);
    parts.forEach((p, i) => expect(Array.from(p.taskOf)).toEqual([i, i]));
    expect(concatBatches(parts)).toEqual(b);
    expect(sliceByTask(b, 1)).toEqual(selectEpisodes(b, [2, 3]));
  });

  it('pads when concatenating to more episodes or a longer horizon', () => {
    const b = full();
    const longer = concatBatches([selectEpisodes(b, [0]), { ...selectEpisodes(b, [1]) }], 3);
    expect(longer.episodes).toBe(3);
    expect(Array.from(longer.mask.subarray(8))).toEqual([0, 0, 0, 0]);
  });

  it('rejects malformed batches naming the field', () => {
    const b = full();
    expect(() => validateBatch({ ...b, rewards: new Float32Array(3) })).toThrow(/trajectories.rewards/);
    const holes = b.mask.slice();
    holes[1] = 0;
    expect(() => validateBatch({ ...b, mask: holes })).toThrow(/trajectories.mask/);
  });
});
