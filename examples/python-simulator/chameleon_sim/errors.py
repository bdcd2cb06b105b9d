"""Typed errors that name the request field at fault, like @chameleon/core's ChameleonError.

The service maps `code` to the gRPC status of the same name; the message reads
"<field>: <what to change>", exactly as the TypeScript services word theirs.
"""

from typing import Optional


class ChameleonError(Exception):
    def __init__(self, code: str, message: str, field: Optional[str] = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.code = code
        self.field = field


def invalid_argument(field: str, message: str) -> ChameleonError:
    return ChameleonError("INVALID_ARGUMENT", message, field)


def not_found(message: str, field: Optional[str] = None) -> ChameleonError:
    return ChameleonError("NOT_FOUND", message, field)


def resource_exhausted(field: str, message: str) -> ChameleonError:
    return ChameleonError("RESOURCE_EXHAUSTED", message, field)


def check(condition: object, field: str, message: str) -> None:
    """Raises INVALID_ARGUMENT naming `field` unless `condition` holds."""
    if not condition:
        raise invalid_argument(field, message)
