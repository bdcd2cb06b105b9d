"""py-point-1d: a point on a line that moves toward its task's goal g ~ U[-1, 1].

obs = [position], starting at 0; action = velocity, clipped to [-maxAction, maxAction];
reward = -|x - g|; the episode ends (discount 0) within goalTolerance of the goal, or at
the time limit of `horizon` steps (discount 1). The goal is not observed: it must be
inferred from rewards, which is what meta-RL adapts to.
"""

import json
from dataclasses import dataclass
from typing import Any, Mapping, Tuple

import numpy as np

from .config import integer, is_number, number, strict
from .errors import invalid_argument
from .vector_env import EnvSpec, Task

NAME = "py-point-1d"
VERSION = "1.0.0"
DEFAULTS = {
    "horizon": 50,  # steps per episode
    "maxAction": 0.2,  # largest |velocity| per step
    "goalTolerance": 0.01,  # the episode ends when |x - g| < this
}


@dataclass(frozen=True)
class Point1dConfig:
    horizon: int = 50
    max_action: float = 0.2
    goal_tolerance: float = 0.01


def parse_config(raw: Mapping[str, Any], field: str = "config") -> Point1dConfig:
    c = strict(raw, DEFAULTS, field)
    return Point1dConfig(
        horizon=integer(c["horizon"], f"{field}.horizon", 1, 100_000),
        max_action=number(c["maxAction"], f"{field}.maxAction", positive=True),
        goal_tolerance=number(c["goalTolerance"], f"{field}.goalTolerance", minimum=0),
    )


def goal_of(task: Task, field: str = "task") -> float:
    g = task.params.get("goal")
    if not is_number(g):
        raise invalid_argument(f"{field}.params.goal", f"must be a finite number, got {json.dumps(g)}")
    return float(g)


class PointWorld:
    def __init__(self, config: Point1dConfig):
        self.config = config
        self.x = 0.0
        self.goal = 0.0

    def reset(self, task: Task, rng: np.random.Generator, obs: np.ndarray) -> None:
        del rng  # the start is fixed; a noisy start would draw from this stream
        self.goal = goal_of(task)
        self.x = 0.0
        obs[0] = 0.0

    def step(self, action: np.ndarray, obs: np.ndarray) -> Tuple[float, bool]:
        self.x += float(action[0])
        obs[0] = self.x
        distance = abs(self.x - self.goal)
        return -distance, distance < self.config.goal_tolerance


class Point1dEnvironment:
    name = NAME
    version = VERSION
    family = NAME
    description = "Point on a line moving toward a goal g ~ U[-1, 1]; action = velocity in [-0.2, 0.2]; reward = -|x - g|"

    def __init__(self, config: Point1dConfig = Point1dConfig()):
        self.config = config
        m = config.max_action
        self.spec = EnvSpec(observation_shape=(1,), action_shape=(1,), action_minimum=(-m,), action_maximum=(m,), max_episode_steps=config.horizon)

    def create_world(self) -> PointWorld:
        return PointWorld(self.config)

    def validate_task(self, task: Task, field: str) -> None:
        goal_of(task, field)
