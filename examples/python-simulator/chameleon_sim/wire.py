"""Conversions between the contract's messages and host values (libs/tensor, libs/transport).

Needs the generated stubs on sys.path (see protos.py). Tensors travel as dtype + shape +
little-endian bytes; every check names the request field, like the TypeScript fromWire.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from google.protobuf.json_format import MessageToDict

from chameleon.v1 import environment_simulator_pb2 as es
from chameleon.v1 import rl_pb2, task_pb2, tensor_pb2

from .errors import invalid_argument, resource_exhausted
from .rollouts import Chunk
from .vector_env import EnvSpec, Task, TimeSteps

MAX_TENSOR_ELEMENTS = 256 * 1024 * 1024
DTYPES = {  # DataType -> (name, numpy little-endian dtype)
    tensor_pb2.DATA_TYPE_FLOAT32: ("float32", np.dtype("<f4")),
    tensor_pb2.DATA_TYPE_INT32: ("int32", np.dtype("<i4")),
    tensor_pb2.DATA_TYPE_UINT8: ("uint8", np.dtype("u1")),
    tensor_pb2.DATA_TYPE_BOOL: ("bool", np.dtype("u1")),
    tensor_pb2.DATA_TYPE_FLOAT64: ("float64", np.dtype("<f8")),
}
TO_WIRE = {np.dtype(np.float32): tensor_pb2.DATA_TYPE_FLOAT32, np.dtype(np.uint8): tensor_pb2.DATA_TYPE_UINT8}
SPLITS = {task_pb2.SPLIT_TRAIN: "train", task_pb2.SPLIT_VALIDATION: "validation", task_pb2.SPLIT_TEST: "test"}


def field_or_none(message: Any, name: str) -> Optional[Any]:
    return getattr(message, name) if message.HasField(name) else None


def from_wire(t: Optional[tensor_pb2.Tensor], field: str, allowed: Sequence[str]) -> np.ndarray:
    """A validated wire tensor as a numpy array of its shape (native byte order)."""
    if t is None:
        raise invalid_argument(field, "is required")
    if t.dtype not in DTYPES:
        raise invalid_argument(f"{field}.dtype", f"must be set to a known DataType, got {t.dtype}")
    name, dtype = DTYPES[t.dtype]
    if name not in allowed:
        raise invalid_argument(f"{field}.dtype", f"must be {' or '.join(allowed)}, got {name}")
    shape = list(t.shape)
    dims = ", ".join(map(str, shape))
    if any(d < 0 for d in shape):
        raise invalid_argument(f"{field}.shape", f"dimensions must be integers >= 0, got [{dims}]")
    n = int(np.prod(shape, dtype=np.int64))
    if n > MAX_TENSOR_ELEMENTS:
        raise resource_exhausted(f"{field}.shape", f"[{dims}] has {n} elements, more than {MAX_TENSOR_ELEMENTS}")
    if len(t.data) != n * dtype.itemsize:
        raise invalid_argument(f"{field}.data", f"shape [{dims}] of {name} needs {n * dtype.itemsize} bytes, got {len(t.data)}")
    return np.frombuffer(t.data, dtype).astype(dtype.newbyteorder("="), copy=False).reshape(shape)


def to_wire(a: np.ndarray) -> tensor_pb2.Tensor:
    a = np.ascontiguousarray(a)
    return tensor_pb2.Tensor(dtype=TO_WIRE[a.dtype], shape=list(a.shape), data=a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())


def struct_to_dict(message: Any, name: str) -> Dict[str, Any]:
    return MessageToDict(getattr(message, name)) if message.HasField(name) else {}


def task_from_wire(t: task_pb2.TaskSpec, field: str) -> Task:
    if not t.family:
        raise invalid_argument(f"{field}.family", "is required")
    if not t.id:
        raise invalid_argument(f"{field}.id", "is required")
    if t.split != task_pb2.SPLIT_UNSPECIFIED and t.split not in SPLITS:
        raise invalid_argument(f"{field}.split", f"unknown split {t.split}")
    params = MessageToDict(t.params) if t.HasField("params") else {}
    return Task(id=t.id, family=t.family, params=params, family_version=t.family_version, seed=t.seed, split=SPLITS.get(t.split, "train"), index=t.index)


def tasks_from_wire(tasks: Sequence[task_pb2.TaskSpec]) -> List[Task]:
    return [task_from_wire(t, f"tasks[{i}]") for i, t in enumerate(tasks)]


def params_from_wire(p: tensor_pb2.Parameters, field: str) -> Dict[str, np.ndarray]:
    """A named parameter list: unique names, float32 tensors (flattened)."""
    out: Dict[str, np.ndarray] = {}
    for i, nt in enumerate(p.tensors):
        if not nt.name:
            raise invalid_argument(f"{field}.tensors[{i}].name", "is required")
        if nt.name in out:
            raise invalid_argument(f"{field}.tensors[{i}].name", f'"{nt.name}" appears twice')
        out[nt.name] = from_wire(field_or_none(nt, "tensor"), f"{field}.tensors[{i}].tensor", ["float32"]).reshape(-1)
    return out


def observation_spec(s: EnvSpec) -> tensor_pb2.TensorSpec:
    return tensor_pb2.TensorSpec(name="observation", dtype=tensor_pb2.DATA_TYPE_FLOAT32, shape=list(s.observation_shape))


def action_spec(s: EnvSpec) -> tensor_pb2.TensorSpec:
    """Per-element bounds, and scalar ones when every element agrees."""
    lo, hi = list(s.action_minimum), list(s.action_maximum)
    spec = tensor_pb2.TensorSpec(name="action", dtype=tensor_pb2.DATA_TYPE_FLOAT32, shape=list(s.action_shape), element_minimum=lo, element_maximum=hi)
    if len(set(lo)) == 1 and len(set(hi)) == 1:
        spec.minimum, spec.maximum = lo[0], hi[0]
    return spec


def time_steps_to_wire(ts: TimeSteps) -> rl_pb2.TimeStepBatch:
    return rl_pb2.TimeStepBatch(step_types=to_wire(ts.step_types), rewards=to_wire(ts.rewards), discounts=to_wire(ts.discounts), observations=to_wire(ts.observations))


def chunk_to_wire(c: Chunk) -> es.StreamRolloutsResponse:
    segments = [
        rl_pb2.EpisodeSegment(
            episode=rl_pb2.EpisodeRef(task=s.episode[0], episode=s.episode[1]),
            offset=s.offset,
            length=s.length,
            start_step=s.start_step,
            complete=s.complete,
            episode_return=s.episode_return,
        )
        for s in c.segments
    ]
    return es.StreamRolloutsResponse(
        chunk=rl_pb2.TrajectoryChunk(
            segments=segments,
            observations=to_wire(c.observations),
            actions=to_wire(c.actions),
            rewards=to_wire(c.rewards),
            log_probs=to_wire(c.log_probs),
            step_types=to_wire(c.step_types),
            discounts=to_wire(c.discounts),
            final_observations=to_wire(_finals(c)),
        )
    )


def _finals(c) -> np.ndarray:
    """Final observations of the chunk's complete segments, in segment order."""
    obs_shape = c.observations.shape[1:]
    finals = [s.final_observation for s in c.segments if s.complete]
    return np.stack(finals).astype(np.float32) if finals else np.zeros((0, *obs_shape), np.float32)


def environment_info(env: Any) -> es.EnvironmentInfo:
    s = env.spec
    return es.EnvironmentInfo(
        name=env.name,
        version=env.version,
        description=env.description,
        supervised=False,
        observation_spec=observation_spec(s),
        action_spec=action_spec(s),
        max_episode_steps=s.max_episode_steps,
    )


def split_episodes(refs: Sequence[rl_pb2.EpisodeRef]) -> List[Tuple[int, int]]:
    return [(r.task, r.episode) for r in refs]
