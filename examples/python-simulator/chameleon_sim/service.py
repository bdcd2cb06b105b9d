"""EnvironmentSimulatorService over grpcio: wires the pure parts to the contract's RPCs
(apps/environment-simulator/src/{service,worlds,stream-rollouts}.ts).

Handlers are registered from the service descriptor (no grpc plugin output is needed);
a ChameleonError becomes the gRPC status of its code with its "field: message" text.
"""

import sys
import threading
import time
import traceback
import uuid
from typing import Any, Callable, Dict, Tuple

import grpc

from chameleon.v1 import environment_simulator_pb2 as es

from . import point_1d, wire
from .errors import ChameleonError, check, invalid_argument, not_found, resource_exhausted
from .gaussian_mlp import GaussianMlpPolicy
from .rollouts import RolloutPlan, run_rollouts, validate_plan
from .task_observing import TaskObservingEnvironment, task_features
from .vector_env import Environment, VectorEnv

SERVICE = "chameleon.v1.EnvironmentSimulatorService"

# Environment plugins of this simulator: name -> (config parser, factory).
ENVIRONMENTS: Dict[str, Tuple[Callable[[Dict[str, Any], str], Any], Callable[[Any], Environment]]] = {
    point_1d.NAME: (point_1d.parse_config, point_1d.Point1dEnvironment),
}


def make_environment(name: str, raw_config: Dict[str, Any], field: str, config_field: str) -> Environment:
    check(name, field, "is required")
    if name not in ENVIRONMENTS:
        raise not_found(f'no environment plugin named "{name}"; available: {", ".join(sorted(ENVIRONMENTS))}')
    parse, create = ENVIRONMENTS[name]
    return create(parse(raw_config, config_field))


def make_policy(architecture: str, raw_config: Dict[str, Any]) -> GaussianMlpPolicy:
    check(architecture, "policy.architecture", 'is required (e.g. "gaussian-mlp")')
    if architecture != GaussianMlpPolicy.name:
        raise not_found(f'no model plugin named "{architecture}"; available: {GaussianMlpPolicy.name}')
    return GaussianMlpPolicy(raw_config, "policy.config")


class WorldSets:
    """World sets for remote stepping: at most `max_sets` open, closed after `idle_seconds`."""

    def __init__(self, max_sets: int = 256, idle_seconds: float = 600.0):
        self.max_sets = max_sets
        self.idle_seconds = idle_seconds
        self.sets: Dict[str, Tuple[VectorEnv, threading.Lock, float]] = {}
        self.lock = threading.Lock()

    def _sweep(self, now: float) -> None:
        for key, (env, _, used) in list(self.sets.items()):
            if now - used > self.idle_seconds:
                env.close()
                del self.sets[key]

    def add(self, env: VectorEnv) -> str:
        with self.lock:
            self._sweep(time.monotonic())
            if len(self.sets) >= self.max_sets:
                raise resource_exhausted("world_set_id", f"at most {self.max_sets} world sets are open; close some with CloseWorlds")
            key = str(uuid.uuid4())
            self.sets[key] = (env, threading.Lock(), time.monotonic())
            return key

    def get(self, key: str) -> Tuple[VectorEnv, threading.Lock]:
        with self.lock:
            if key not in self.sets:
                raise not_found(f'no world set "{key}" (closed, or idle longer than {self.idle_seconds:g} s)', "world_set_id")
            env, lock, _ = self.sets[key]
            self.sets[key] = (env, lock, time.monotonic())
            return env, lock

    def remove(self, key: str) -> None:
        env, lock = self.get(key)
        with self.lock:
            self.sets.pop(key, None)
        with lock:
            env.close()

    def close_all(self) -> None:
        with self.lock:
            for env, _, _ in self.sets.values():
                env.close()
            self.sets.clear()


class EnvironmentSimulator:
    """One method per RPC, named like the descriptor's methods in snake case."""

    def __init__(self, world_sets: WorldSets):
        self.world_sets = world_sets

    def list_environments(self, req: es.ListEnvironmentsRequest, ctx: grpc.ServicerContext) -> es.ListEnvironmentsResponse:
        envs = [create(parse({}, "config")) for _, (parse, create) in sorted(ENVIRONMENTS.items())]
        return es.ListEnvironmentsResponse(environments=[wire.environment_info(e) for e in envs])

    def sample_supervised(self, req: es.SampleSupervisedRequest, ctx: grpc.ServicerContext) -> es.SampleSupervisedResponse:
        # A sequential-only simulator: the contract allows INVALID_ARGUMENT (or UNIMPLEMENTED).
        check(len(req.tasks) > 0, "tasks", "at least one task is required")
        family = wire.task_from_wire(req.tasks[0], "tasks[0]").family
        if family in ENVIRONMENTS:
            raise invalid_argument("tasks", f'"{family}" is a sequential environment; use CreateWorlds or StreamRollouts')
        raise not_found(f'no environment plugin named "{family}"; available: {", ".join(sorted(ENVIRONMENTS))}')

    def create_worlds(self, req: es.CreateWorldsRequest, ctx: grpc.ServicerContext) -> es.CreateWorldsResponse:
        env = make_environment(req.environment, wire.struct_to_dict(req, "config"), "environment", "config")
        check(len(req.tasks) > 0, "tasks", "give one task, or one per world")
        vec = VectorEnv(env, req.num_worlds, wire.tasks_from_wire(req.tasks), req.seed)
        key = self.world_sets.add(vec)
        s = env.spec
        return es.CreateWorldsResponse(world_set_id=key, observation_spec=wire.observation_spec(s), action_spec=wire.action_spec(s), num_worlds=req.num_worlds, max_episode_steps=s.max_episode_steps)

    def reset_worlds(self, req: es.ResetWorldsRequest, ctx: grpc.ServicerContext) -> es.ResetWorldsResponse:
        env, lock = self.world_sets.get(req.world_set_id)
        with lock:
            if len(req.tasks):
                env.set_tasks(wire.tasks_from_wire(req.tasks))
            return es.ResetWorldsResponse(time_steps=wire.time_steps_to_wire(env.reset()))

    def step_worlds(self, req: es.StepWorldsRequest, ctx: grpc.ServicerContext) -> es.StepWorldsResponse:
        env, lock = self.world_sets.get(req.world_set_id)
        a = wire.from_wire(wire.field_or_none(req, "actions"), "actions", ["float32"])
        want = [env.num_worlds, *env.spec.action_shape]
        check(list(a.shape) == want, "actions", f"must have shape [{', '.join(map(str, want))}], got [{', '.join(map(str, a.shape))}]")
        with lock:
            return es.StepWorldsResponse(time_steps=wire.time_steps_to_wire(env.step(a)))

    def close_worlds(self, req: es.CloseWorldsRequest, ctx: grpc.ServicerContext) -> es.CloseWorldsResponse:
        self.world_sets.remove(req.world_set_id)
        return es.CloseWorldsResponse()

    def stream_rollouts(self, req: es.StreamRolloutsRequest, ctx: grpc.ServicerContext):
        env = make_environment(req.environment, wire.struct_to_dict(req, "environment_config"), "environment", "environment_config")
        check(len(req.tasks) > 0, "tasks", "at least one task is required")
        if req.observe_task:
            env = TaskObservingEnvironment(env, len(task_features(wire.task_from_wire(req.tasks[0], "tasks[0]"))))
        policy = make_policy(req.policy.architecture, wire.struct_to_dict(req.policy, "config"))
        tasks = wire.tasks_from_wire(req.tasks)
        for i, t in enumerate(tasks):
            if t.family != env.family:
                raise invalid_argument(f"tasks[{i}].family", f'environment "{env.name}" plays "{env.family}" tasks, not "{t.family}"')
            env.validate_task(t, f"tasks[{i}]")
        params = []
        for i, p in enumerate(req.policy_params):
            named = wire.params_from_wire(p, f"policy_params[{i}]")
            missing = [name for name, _ in policy.spec if name not in named]
            if missing:
                raise invalid_argument(f"policy_params[{i}]", f"missing {missing[0]}; expected {', '.join(n for n, _ in policy.spec)}")
            params.append([named[name] for name, _ in policy.spec])
        chunk_steps = req.chunk_steps or 128
        check(32 <= chunk_steps <= 256, "chunk_steps", f"must be 32..256 (or 0 for 128), got {req.chunk_steps}")
        plan = RolloutPlan(
            env=env,
            tasks=tasks,
            episodes=wire.split_episodes(req.episodes),
            params=params,
            horizon=req.horizon or env.spec.max_episode_steps,
            seed=req.seed,
            chunk_steps=chunk_steps,
            parallel_worlds=max(1, min(req.parallel_worlds or 64, 1024, len(req.episodes) or 1)),
            deterministic=req.deterministic,
        )
        validate_plan(plan, policy)

        def checkpoint() -> None:
            if not ctx.is_active():  # cancelled by the client, or past its deadline
                raise _Stopped()

        try:
            for chunk in run_rollouts(plan, policy, checkpoint):
                yield wire.chunk_to_wire(chunk)
        except _Stopped:
            return


class _Stopped(Exception):
    pass


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _guard(method: Callable, streaming: bool, label: str) -> Callable:
    """Typed errors -> their status; anything else -> INTERNAL, logged."""

    def abort(e: Exception, ctx: grpc.ServicerContext):
        if isinstance(e, ChameleonError):
            ctx.abort(grpc.StatusCode[e.code], str(e))
        print(f"{label}: internal error\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        ctx.abort(grpc.StatusCode.INTERNAL, f"internal error: {e}")

    if streaming:

        def stream(req, ctx):
            try:
                yield from method(req, ctx)
            except Exception as e:  # noqa: BLE001 - every failure becomes a status
                abort(e, ctx)

        return stream

    def unary(req, ctx):
        try:
            return method(req, ctx)
        except Exception as e:  # noqa: BLE001
            abort(e, ctx)

    return unary


def generic_handler(simulator: EnvironmentSimulator) -> grpc.GenericRpcHandler:
    """Every RPC of the service descriptor, bound to the simulator's snake_case methods."""
    descriptor = es.DESCRIPTOR.services_by_name["EnvironmentSimulatorService"]
    handlers = {}
    for m in descriptor.methods:
        request = getattr(es, m.input_type.name)
        response = getattr(es, m.output_type.name)
        method = _guard(getattr(simulator, _snake(m.name)), m.server_streaming, f"EnvironmentSimulator.{m.name}")
        make = grpc.unary_stream_rpc_method_handler if m.server_streaming else grpc.unary_unary_rpc_method_handler
        handlers[m.name] = make(method, request_deserializer=request.FromString, response_serializer=response.SerializeToString)
    return grpc.method_handlers_generic_handler(SERVICE, handlers)
