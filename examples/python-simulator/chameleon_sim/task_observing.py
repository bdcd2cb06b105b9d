"""observe_task: every observation ends with the task's numeric parameters, for the "oracle"
baseline that sees its task instead of inferring it (libs/envs/src/rl/task-observing.ts)."""

from typing import List

import numpy as np

from .config import is_number
from .errors import invalid_argument
from .vector_env import EnvSpec, Environment, Task


def task_features(task: Task) -> List[float]:
    """Numeric parameters in sorted key order; arrays of numbers element by element."""
    out: List[float] = []
    for key in sorted(task.params):
        v = task.params[key]
        if is_number(v):
            out.append(float(v))
        elif isinstance(v, list) and all(is_number(x) for x in v):
            out.extend(float(x) for x in v)
    return out


class _ObservingWorld:
    def __init__(self, inner, base: int):
        self.inner = inner
        self.base = base
        self.features = np.zeros(0, np.float32)

    def reset(self, task: Task, rng: np.random.Generator, obs: np.ndarray) -> None:
        self.features = np.asarray(task_features(task), np.float32)
        self.inner.reset(task, rng, obs[: self.base])
        obs[self.base :] = self.features

    def step(self, action: np.ndarray, obs: np.ndarray):
        result = self.inner.step(action, obs[: self.base])
        obs[self.base :] = self.features
        return result

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()


class TaskObservingEnvironment:
    def __init__(self, inner: Environment, feature_count: int):
        if len(inner.spec.observation_shape) != 1:
            raise invalid_argument("observe_task", f'needs flat observations; "{inner.name}" has shape [{", ".join(map(str, inner.spec.observation_shape))}]')
        self.inner = inner
        self.feature_count = feature_count
        self.name = f"{inner.name}+task"
        self.version = inner.version
        self.description = f"{inner.description} (observations end with the task parameters)"
        self.family = inner.family
        s = inner.spec
        self.spec = EnvSpec((s.observation_shape[0] + feature_count,), s.action_shape, s.action_minimum, s.action_maximum, s.max_episode_steps)

    def validate_task(self, task: Task, field: str) -> None:
        self.inner.validate_task(task, field)
        n = len(task_features(task))
        if n != self.feature_count:
            raise invalid_argument(f"{field}.params", f"has {n} numeric parameters; this oracle expects {self.feature_count}")

    def create_world(self) -> _ObservingWorld:
        return _ObservingWorld(self.inner.create_world(), self.inner.spec.observation_shape[0])
