"""dm_env-style worlds, with the semantics of libs/envs/src/rl (environment.ts, vector-env.ts).

A new environment implements `World` (reset / step of one world) and `Environment` (its
spec and a world factory); `VectorEnv` adds what every environment shares: step types,
time limits, action clipping, automatic reset after LAST and errors naming the field.
"""

import hashlib
from dataclasses import dataclass, field as dc_field
from typing import Any, Dict, List, Optional, Protocol, Sequence, Tuple

import numpy as np

from .errors import check, invalid_argument

FIRST, MID, LAST = 1, 2, 3
"""StepType values of the contract (rl.proto)."""

MAX_WORLDS = 4096


@dataclass(frozen=True)
class Task:
    """One task T ~ p(T), as a TaskSpec carries it."""

    id: str
    family: str
    params: Dict[str, Any] = dc_field(default_factory=dict)
    family_version: str = ""
    seed: int = 0
    split: str = "train"
    index: int = 0


@dataclass(frozen=True)
class EnvSpec:
    observation_shape: Tuple[int, ...]
    action_shape: Tuple[int, ...]
    action_minimum: Tuple[float, ...]
    """Per-element lower bounds of actions (length = product of action_shape)."""
    action_maximum: Tuple[float, ...]
    max_episode_steps: int
    """The step after this many actions is LAST (a time limit, discount 1)."""

    @property
    def observation_size(self) -> int:
        return int(np.prod(self.observation_shape, dtype=np.int64))

    @property
    def action_size(self) -> int:
        return int(np.prod(self.action_shape, dtype=np.int64))


class World(Protocol):
    def reset(self, task: Task, rng: np.random.Generator, obs: np.ndarray) -> None:
        """Starts an episode of `task`, writing the first observation into `obs`."""

    def step(self, action: np.ndarray, obs: np.ndarray) -> Tuple[float, bool]:
        """Applies a clipped action, writes the next observation; returns (reward, terminated)."""


class Environment(Protocol):
    name: str
    version: str
    description: str
    family: str
    """The task family whose tasks this environment plays."""
    spec: EnvSpec

    def create_world(self) -> World: ...

    def validate_task(self, task: Task, field: str) -> None:
        """Raises INVALID_ARGUMENT naming `field` when the task's params are unusable."""


def rng_from_keys(*keys: Any) -> np.random.Generator:
    """A random stream identified by its keys (like Rng.fromKeys): same keys, same numbers."""
    digest = hashlib.blake2b("\u241f".join(map(str, keys)).encode(), digest_size=16).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "little")))


@dataclass
class TimeSteps:
    step_types: np.ndarray  # [N] uint8
    rewards: np.ndarray  # [N] float32, 0 on FIRST
    discounts: np.ndarray  # [N] float32, 0 at terminal states
    observations: np.ndarray  # [N, ...observation] float32


class VectorEnv:
    """N worlds stepped together. reset() gives FIRST steps; a step after LAST starts a new
    episode (FIRST, the action is ignored); the step after `horizon` actions is LAST with
    discount 1; a terminal state is LAST with discount 0; actions are clipped to the bounds."""

    def __init__(self, env: Environment, num_worlds: int, tasks: Sequence[Task], seed: int, horizon: Optional[int] = None):
        check(isinstance(num_worlds, int) and num_worlds >= 1, "num_worlds", f"must be an integer >= 1, got {num_worlds}")
        if num_worlds > MAX_WORLDS:
            raise invalid_argument("num_worlds", f"at most {MAX_WORLDS}, got {num_worlds}")
        self.horizon = env.spec.max_episode_steps if horizon is None else horizon
        check(isinstance(self.horizon, int) and self.horizon >= 1, "horizon", f"must be an integer >= 1, got {self.horizon}")
        self.env = env
        self.spec = env.spec
        self.num_worlds = num_worlds
        self.tasks = self._expand(tasks)
        self.worlds = [env.create_world() for _ in range(num_worlds)]
        self.rngs = [rng_from_keys("world", seed, w) for w in range(num_worlds)]
        self.steps = np.zeros(num_worlds, np.int64)
        self.last = np.ones(num_worlds, bool)
        self.episodes = np.zeros(num_worlds, np.int64)
        self._lo = np.asarray(self.spec.action_minimum, np.float64)
        self._hi = np.asarray(self.spec.action_maximum, np.float64)

    def _expand(self, tasks: Sequence[Task]) -> List[Task]:
        check(len(tasks) in (1, self.num_worlds), "tasks", f"give one task or one per world ({self.num_worlds}), got {len(tasks)}")
        for i, t in enumerate(tasks):
            if t.family != self.env.family:
                raise invalid_argument(f"tasks[{i}].family", f'environment "{self.env.name}" plays "{self.env.family}" tasks, not "{t.family}"')
            self.env.validate_task(t, f"tasks[{i}]")
        return list(tasks) * self.num_worlds if len(tasks) == 1 else list(tasks)

    def set_tasks(self, tasks: Sequence[Task]) -> None:
        """New tasks; they take effect at each world's next episode."""
        self.tasks = self._expand(tasks)

    def seed_world(self, w: int, rng: np.random.Generator) -> None:
        """World `w`'s next episode draws from `rng`."""
        self.rngs[w] = rng

    def _blank(self) -> TimeSteps:
        n = self.num_worlds
        return TimeSteps(np.zeros(n, np.uint8), np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros((n, *self.spec.observation_shape), np.float32))

    def _begin(self, w: int, out: TimeSteps) -> None:
        self.worlds[w].reset(self.tasks[w], self.rngs[w], out.observations[w].reshape(-1))
        self.steps[w] = 0
        self.last[w] = False
        self.episodes[w] += 1
        out.step_types[w] = FIRST

    def reset(self) -> TimeSteps:
        out = self._blank()
        for w in range(self.num_worlds):
            self._begin(w, out)
        return out

    def step(self, actions: np.ndarray) -> TimeSteps:
        """One action per world, [N * action size] (any shape with that many float32 values)."""
        a = np.asarray(actions, np.float32).reshape(-1)
        size = self.spec.action_size
        check(a.size == self.num_worlds * size, "actions", f"must hold {self.num_worlds} x {size} values, got {a.size}")
        a = a.reshape(self.num_worlds, size)
        # Checked up front, so a refused call changes no world (worlds after LAST ignore theirs).
        nan = np.isnan(a) & ~self.last[:, None]
        if nan.any():
            raise invalid_argument("actions", f"element {int(np.flatnonzero(nan.reshape(-1))[0])} is NaN")
        # The clipped action is float32, as VectorEnv's Float32Array scratch makes it.
        clipped = np.clip(a.astype(np.float64), self._lo, self._hi).astype(np.float32)
        out = self._blank()
        for w in range(self.num_worlds):
            if self.last[w]:
                self._begin(w, out)
                continue
            reward, terminated = self.worlds[w].step(clipped[w], out.observations[w].reshape(-1))
            self.steps[w] += 1
            out.rewards[w] = reward
            if terminated:
                out.step_types[w], out.discounts[w], self.last[w] = LAST, 0.0, True
            elif self.steps[w] >= self.horizon:
                out.step_types[w], self.last[w] = LAST, True
            else:
                out.step_types[w] = MID
        return out

    def close(self) -> None:
        for world in self.worlds:
            close = getattr(world, "close", None)
            if close:
                close()
