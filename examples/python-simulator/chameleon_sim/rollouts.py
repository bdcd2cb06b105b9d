"""StreamRollouts without the wire (apps/environment-simulator/src/rollouts.ts).

Episodes run in waves of `parallel_worlds` worlds with the policy next to the simulator.
Each episode's randomness comes only from (seed, task id, episode number), so any replica
reproduces any episode exactly and a retry never changes data. Rows are buffered per world
and cut into chunks of at most `chunk_steps` rows in which each episode's rows are
contiguous (one segment per episode and chunk).
"""

from dataclasses import dataclass
from typing import Callable, Iterator, List, Sequence, Tuple, Optional

import numpy as np

from .errors import check, invalid_argument, resource_exhausted
from .gaussian_mlp import GaussianMlpPolicy
from .vector_env import FIRST, LAST, MID, Environment, Task, VectorEnv, rng_from_keys

MAX_EPISODES_PER_REQUEST = 100_000
MAX_HORIZON = 100_000

EpisodeId = Tuple[int, int]  # (task index, episode number)


@dataclass
class Segment:
    episode: EpisodeId
    offset: int
    length: int
    start_step: int
    complete: bool
    episode_return: float
    final_observation: Optional[np.ndarray] = None  # after the last action (complete segments)


@dataclass
class Chunk:
    segments: List[Segment]
    observations: np.ndarray  # [S, ...observation] float32: before the action
    actions: np.ndarray  # [S, ...action] float32: sampled, unclipped
    rewards: np.ndarray  # [S] float32: after the action
    log_probs: np.ndarray  # [S] float32
    step_types: np.ndarray  # [S] uint8: FIRST for an episode's first row, else MID
    discounts: np.ndarray  # [S] float32: after the action

    @property
    def rows(self) -> int:
        return len(self.rewards)


@dataclass
class RolloutPlan:
    env: Environment
    tasks: Sequence[Task]
    episodes: Sequence[EpisodeId]
    params: Sequence[Sequence[np.ndarray]]  # one list for all tasks, or one per task
    horizon: int
    seed: int
    chunk_steps: int
    parallel_worlds: int
    deterministic: bool


def validate_plan(plan: RolloutPlan, policy: GaussianMlpPolicy) -> None:
    """Checks a plan against its environment and policy before any step is taken."""
    tasks, episodes, params = plan.tasks, plan.episodes, plan.params
    check(len(tasks) > 0, "tasks", "at least one task is required")
    check(len(episodes) > 0, "episodes", "at least one episode is required")
    if len(episodes) > MAX_EPISODES_PER_REQUEST:
        raise resource_exhausted("episodes", f"at most {MAX_EPISODES_PER_REQUEST} per request, got {len(episodes)}")
    seen = set()
    for i, (task, episode) in enumerate(episodes):
        check(task < len(tasks), f"episodes[{i}].task", f"must index the {len(tasks)} task(s), got {task}")
        check((task, episode) not in seen, f"episodes[{i}]", f"episode {task}/{episode} is listed twice")
        seen.add((task, episode))
    check(1 <= plan.horizon <= MAX_HORIZON, "horizon", f"must be 1..{MAX_HORIZON}, got {plan.horizon}")
    check(len(params) in (1, len(tasks)), "policy_params", f"give one parameter list, or one per task ({len(tasks)}); got {len(params)}")
    spec = plan.env.spec
    check(policy.observation_size == spec.observation_size, "policy.config.observationSize", f'must be {spec.observation_size} for "{plan.env.name}", got {policy.observation_size}')
    check(policy.action_size == spec.action_size, "policy.config.actionSize", f'must be {spec.action_size} for "{plan.env.name}", got {policy.action_size}')
    for t, values in enumerate(params):
        check(len(values) == len(policy.spec), f"policy_params[{t}]", f"expected {len(policy.spec)} tensors, got {len(values)}")
        for i, (v, (name, shape)) in enumerate(zip(values, policy.spec)):
            n = int(np.prod(shape))
            check(v.size == n, f"policy_params[{t}].tensors[{i}]", f"{name} needs {n} values, got {v.size}")
            bad = np.flatnonzero(~np.isfinite(v))
            if bad.size:
                raise invalid_argument(f"policy_params[{t}].tensors[{i}]", f"{name} element {int(bad[0])} is not finite")


class _WorldRows:
    """One world's rows not yet streamed: a contiguous run of its episode."""

    def __init__(self, episode: EpisodeId, capacity: int, obs_shape: Tuple[int, ...], act_size: int):
        self.episode = episode
        self.rows = 0
        self.start_step = 0
        self.complete = False
        self.episode_return = 0.0
        self.final: Optional[np.ndarray] = None
        self.obs = np.zeros((capacity, *obs_shape), np.float32)
        self.act = np.zeros((capacity, act_size), np.float32)
        self.reward = np.zeros(capacity, np.float32)
        self.logp = np.zeros(capacity, np.float32)
        self.type = np.zeros(capacity, np.uint8)
        self.discount = np.zeros(capacity, np.float32)

    def columns(self) -> List[np.ndarray]:
        return [self.obs, self.act, self.reward, self.logp, self.type, self.discount]

    def shift(self, k: int) -> None:
        """Drops the first k rows (they were streamed)."""
        for a in self.columns():
            a[: self.rows - k] = a[k : self.rows].copy()
        self.rows -= k
        self.start_step += k


class ChunkBuilder:
    def __init__(self, capacity: int, obs_shape: Tuple[int, ...], act_size: int):
        self.capacity = capacity
        self.obs_shape = obs_shape
        self.act_size = act_size
        self.worlds: List[_WorldRows] = []
        self.pending = 0

    def begin(self, episodes: Sequence[EpisodeId]) -> None:
        # A chunk is cut whenever `capacity` rows wait, so no world holds more than capacity + 1.
        self.worlds = [_WorldRows(e, self.capacity + 1, self.obs_shape, self.act_size) for e in episodes]
        self.pending = 0

    @property
    def ready(self) -> bool:
        return self.pending >= self.capacity

    @property
    def empty(self) -> bool:
        return self.pending == 0

    def add(self, w: int, step: int, obs, action, reward: float, log_prob: float, discount: float, return_so_far: float, final: Optional[np.ndarray]) -> None:
        complete = final is not None
        b = self.worlds[w]
        if b.rows == 0:
            b.start_step = step
        r = b.rows
        b.obs[r], b.act[r], b.reward[r], b.logp[r], b.discount[r] = obs, action, reward, log_prob, discount
        b.type[r] = FIRST if step == 0 else MID
        b.rows += 1
        b.complete = complete
        b.episode_return = return_so_far
        if final is not None:
            b.final = np.array(final, np.float32)
        self.pending += 1

    def take(self) -> Chunk:
        """Cuts one chunk of at most `capacity` rows."""
        n = min(self.capacity, self.pending)
        parts: List[List[np.ndarray]] = []
        segments: List[Segment] = []
        used = 0
        for b in self.worlds:
            if used == n:
                break
            if b.rows == 0:
                continue
            k = min(b.rows, n - used)
            parts.append([a[:k].copy() for a in b.columns()])
            ends = b.complete and k == b.rows
            segments.append(Segment(b.episode, used, k, b.start_step, ends, b.episode_return if ends else 0.0, b.final if ends else None))
            b.shift(k)
            used += k
        self.pending -= n
        cols = [np.concatenate([p[c] for p in parts]) for c in range(6)]
        return Chunk(segments, *cols)


def run_rollouts(plan: RolloutPlan, policy: GaussianMlpPolicy, checkpoint: Callable[[], None]) -> Iterator[Chunk]:
    """Yields the plan's chunks as episodes progress. `checkpoint` runs between chunks and
    may raise to stop (cancellation, deadline); the consumer's pace is the backpressure."""
    spec = plan.env.spec
    act_size = spec.action_size
    builder = ChunkBuilder(plan.chunk_steps, spec.observation_shape, act_size)
    params = [policy.prepare(p) for p in plan.params]
    for start in range(0, len(plan.episodes), plan.parallel_worlds):
        wave = list(plan.episodes[start : start + plan.parallel_worlds])
        n = len(wave)
        env = VectorEnv(plan.env, n, [plan.tasks[t] for t, _ in wave], plan.seed, plan.horizon)
        builder.begin(wave)
        try:
            policy_rngs = [rng_from_keys("policy", plan.seed, plan.tasks[t].id, e) for t, e in wave]
            for w, (t, e) in enumerate(wave):
                env.seed_world(w, rng_from_keys("env", plan.seed, plan.tasks[t].id, e))
            # Worlds grouped by the parameter list they act with; each draws from its own stream.
            groups: dict = {}
            for w, (t, _) in enumerate(wave):
                groups.setdefault(0 if len(params) == 1 else t, []).append(w)
            ts = env.reset()
            done = np.zeros(n, bool)
            returns = np.zeros(n, np.float64)
            actions = np.zeros((n, act_size), np.float32)
            log_probs = np.zeros(n, np.float32)
            t = 0
            while t < plan.horizon and not done.all():
                for p, worlds in groups.items():
                    live = [w for w in worlds if not done[w]]
                    if not live:
                        continue
                    noise = None if plan.deterministic else np.stack([policy_rngs[w].standard_normal(act_size) for w in live])
                    a, lp = policy.act(params[p], ts.observations[live], noise)
                    actions[live], log_probs[live] = a, lp
                before = ts.observations
                ts = env.step(actions)
                for w in range(n):
                    if done[w]:
                        continue
                    returns[w] += ts.rewards[w]
                    last = ts.step_types[w] == LAST
                    builder.add(w, t, before[w], actions[w], ts.rewards[w], log_probs[w], ts.discounts[w], float(returns[w]), ts.observations[w] if last else None)
                    done[w] = last
                t += 1
                while builder.ready:
                    yield builder.take()
                    checkpoint()
            # The wave is complete: stream what is left before the next wave.
            while not builder.empty:
                yield builder.take()
        finally:
            env.close()
