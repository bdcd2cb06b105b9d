"""Chameleon's "gaussian-mlp" policy, acting in numpy (libs/rl/src/policy.ts, host-policy.ts).

A Gaussian whose mean is an MLP of the observation and whose log-std is a learned,
state-independent vector. Parameters, in spec order: `layer{l}/weight` [in, out] (row
major) and `layer{l}/bias` [out] for each layer, then `log_std` [act]. Hidden layers use
the configured activation; the output layer is linear. Sampling: a = mean + exp(log_std) z
with z ~ N(0, I) drawn by the caller; the log-probability is that of this unclipped action,
sum_j(-z_j^2 / 2 - log_std_j - log(2 pi) / 2). Arithmetic in float64, outputs float32.
"""

import math
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .config import integer, is_number, strict
from .errors import invalid_argument

NAME = "gaussian-mlp"
DEFAULTS = {
    "observationSize": 2,
    "actionSize": 2,
    "hidden": [100, 100],
    "activation": "tanh",
    "initStd": 1.0,  # only used by Chameleon's init; accepted so every config validates alike
    "init": "glorot",
}
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class GaussianMlpPolicy:
    name = NAME

    def __init__(self, raw_config: Mapping[str, Any], field: str = "policy.config"):
        c = strict(raw_config, DEFAULTS, field)
        self.observation_size = integer(c["observationSize"], f"{field}.observationSize", 1, 1_000_000)
        self.action_size = integer(c["actionSize"], f"{field}.actionSize", 1, 100_000)
        hidden = c["hidden"]
        if not isinstance(hidden, list) or len(hidden) > 64:
            raise invalid_argument(f"{field}.hidden", f"must be a list of at most 64 widths, got {hidden!r}")
        hidden = [integer(h, f"{field}.hidden.{i}", 1, 65_536) for i, h in enumerate(hidden)]
        if c["activation"] not in ("tanh", "relu"):
            raise invalid_argument(f"{field}.activation", f'must be "tanh" or "relu", got {c["activation"]!r}')
        if not is_number(c["initStd"]) or c["initStd"] <= 0:
            raise invalid_argument(f"{field}.initStd", f"must be a positive number, got {c['initStd']!r}")
        if c["init"] != "glorot" and not (is_number(c["init"]) and c["init"] > 0):
            raise invalid_argument(f"{field}.init", f'must be "glorot" or a positive number, got {c["init"]!r}')
        self.activation = c["activation"]
        self.sizes = [self.observation_size, *hidden, self.action_size]
        self.spec: List[Tuple[str, Tuple[int, ...]]] = []
        for l in range(len(self.sizes) - 1):
            self.spec.append((f"layer{l}/weight", (self.sizes[l], self.sizes[l + 1])))
            self.spec.append((f"layer{l}/bias", (self.sizes[l + 1],)))
        self.spec.append(("log_std", (self.action_size,)))

    def prepare(self, params: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Flat float32 values in spec order -> float64 arrays of the spec's shapes."""
        return [np.asarray(v, np.float64).reshape(shape) for v, (_, shape) in zip(params, self.spec)]

    def act(self, params: Sequence[np.ndarray], obs: np.ndarray, noise: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        """obs [n, obs] and noise z [n, act] (None: act with the mean) -> actions [n, act]
        float32 and their log-probabilities [n] float32. `params` come from `prepare`."""
        layers = len(self.sizes) - 1
        h = np.asarray(obs, np.float64).reshape(-1, self.observation_size)
        for l in range(layers):
            h = h @ params[2 * l] + params[2 * l + 1]
            if l < layers - 1:
                h = np.tanh(h) if self.activation == "tanh" else np.maximum(h, 0.0)
        log_std = params[2 * layers]
        z = np.zeros_like(h) if noise is None else np.asarray(noise, np.float64).reshape(h.shape)
        actions = h + np.exp(log_std) * z
        log_probs = np.sum(-0.5 * z * z - log_std - HALF_LOG_2PI, axis=1)
        return actions.astype(np.float32), log_probs.astype(np.float32)
