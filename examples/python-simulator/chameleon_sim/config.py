"""Strict validation of plugin configurations that arrive as google.protobuf.Struct.

Struct numbers are doubles, so integers arrive as 50.0; booleans are never numbers.
Unknown keys are refused, like the TypeScript plugins' strict zod schemas.
"""

import math
from typing import Any, Dict, Mapping

from .errors import invalid_argument


def strict(raw: Mapping[str, Any], defaults: Mapping[str, Any], field: str) -> Dict[str, Any]:
    """`raw` over `defaults`; INVALID_ARGUMENT for a key the defaults do not have."""
    unknown = sorted(set(raw) - set(defaults))
    if unknown:
        raise invalid_argument(field, f"unknown key {', '.join(repr(k) for k in unknown)}; expected {', '.join(defaults)}")
    return {**defaults, **raw}


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number(v: Any, field: str, *, minimum: float = -math.inf, positive: bool = False) -> float:
    if not is_number(v) or v < minimum or (positive and v <= 0):
        want = "a positive number" if positive else f"a number >= {minimum:g}" if minimum > -math.inf else "a finite number"
        raise invalid_argument(field, f"must be {want}, got {v!r}")
    return float(v)


def integer(v: Any, field: str, lo: int, hi: int) -> int:
    if not is_number(v) or not float(v).is_integer() or not lo <= v <= hi:
        raise invalid_argument(field, f"must be an integer in {lo}..{hi}, got {v!r}")
    return int(v)
