"""Faults injected through the control API: what the next matching calls suffer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("status", "delay", "reset", "bad_json", "conflict", "flood")
CONFLICT_REASONS = ("getupdates", "webhook", "setwebhook")


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "method": str,
    "times": int,
    "user_agent": str,
    "status": int,
    "seconds": (int, float),
    "retry_after": int,
    "reason": str,
}
_TYPE_NAMES = {str: "a string", int: "an integer", (int, float): "a number"}


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    """One rule; `times` < 0 means until cleared."""

    kind: str
    method: str = "*"
    times: int = 1
    user_agent: str | None = None
    status: int = 502
    seconds: float = 0.0
    retry_after: int = 5
    reason: str = "getupdates"

    @classmethod
    def from_api(cls, spec: Any) -> Fault:
        if not isinstance(spec, dict):
            raise FaultSpecError("a fault is a JSON object")
        unknown = set(spec) - set(cls.__dataclass_fields__)
        if unknown:
            raise FaultSpecError(f"unknown fault field {sorted(unknown)[0]!r}")
        for key, value in spec.items():
            expected = _FIELD_TYPES[key]
            if not isinstance(value, expected) or isinstance(value, bool):
                raise FaultSpecError(
                    f"fault field {key!r} must be {_TYPE_NAMES[expected]}, got {value!r}"
                )
        fault = cls(**spec)
        if fault.kind not in FAULT_KINDS:
            raise FaultSpecError(
                f"fault kind {fault.kind!r} is not one of {', '.join(FAULT_KINDS)}"
            )
        if fault.kind == "status" and not 500 <= fault.status <= 599:
            raise FaultSpecError(f"fault status {fault.status!r} is not a 5xx code")
        if fault.kind == "conflict" and fault.reason not in CONFLICT_REASONS:
            raise FaultSpecError(
                f"conflict reason {fault.reason!r} is not one of {', '.join(CONFLICT_REASONS)}"
            )
        if fault.times == 0:
            raise FaultSpecError(f"fault times {fault.times!r} must be a non-zero integer")
        return fault

    def matches(self, method: str, user_agent: str) -> bool:
        if self.method != "*" and self.method.lower() != method.lower():
            return False
        return self.user_agent is None or self.user_agent in user_agent

    def to_api(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FaultTable:
    def __init__(self) -> None:
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._rules.append(fault)

    def clear(self) -> None:
        self._rules.clear()

    def take(self, method: str, user_agent: str) -> Fault | None:
        """The first rule matching this call, used up by one application."""
        for fault in self._rules:
            if fault.matches(method, user_agent):
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._rules.remove(fault)
                return fault
        return None

    def to_api(self) -> list[dict[str, Any]]:
        return [f.to_api() for f in self._rules]
