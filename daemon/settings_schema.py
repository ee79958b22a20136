"""Reading TOML tables into frozen settings dataclasses, declared by their fields. Pure.

A section is a dataclass; its fields say everything about a key: the type (bool, int,
float, str, a nested dataclass for a sub-table, `tuple[X, ...]` for an array of tables or
of values, `dict[str, X]` for a table of named tables), the default, and through
`field(metadata=...)`:
- `range`: (low, high), inclusive, for numbers; with `duration` a string with a unit
  ("30s", "5m", "4h", "2d") is read as seconds too;
- `check`: a function that raises ValueError(reason) for a bad string or number;
- `secret`: the value is never quoted back.
A section may list retired keys in a `RETIRED` class attribute (key → what replaced it):
they load with a warning instead of an error.

Errors name the full path and quote the value, e.g.
`alerts.route.routes[2].matchers[0]: 'sev=~(' is not a valid regular expression`.
Unknown keys are errors, listing the known ones.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from daemon.money import AmountError, read_amount
from daemon.numbers import finite_in_range

# What /config and error texts show in place of a secret.
MASK = "<redacted>"
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")


class SchemaError(ValueError):
    """str() is "path: problem"."""


def parse_duration(text: str) -> float | None:
    """Seconds in "30s", "5m", "4h", "2d" (ASCII digits, one unit); None otherwise."""
    match = _DURATION.fullmatch(text.strip())
    return float(match[1]) * DURATION_UNITS[match[2]] if match else None


def number(
    low: float, high: float, doc: str = "", check: Callable[[Any], None] | None = None
) -> Any:
    """Field metadata: a number within [low, high], and its line of doc."""
    return {"range": (low, high), "check": check, "doc": doc}


def seconds(low: float, high: float, doc: str = "") -> Any:
    """Field metadata: a duration within [low, high] seconds: a number or "90s", "5m"…"""
    return {"range": (low, high), "duration": True, "doc": doc}


def text(check: Callable[[str], None] | None = None, secret: bool = False, doc: str = "") -> Any:
    """Field metadata: a string, checked by `check` (raises ValueError with the reason)."""
    return {"check": check, "secret": secret, "doc": doc}


def amount(doc: str = "") -> Any:
    """Field metadata for a Decimal field: money, written as a string ("10000", "0.5") so
    that no TOML float ever rounds it (the field's type decides how it is read)."""
    return {"doc": doc}


def key_of(spec: dataclasses.Field[Any]) -> str:
    """A field's key in the file: its name, unless that is a Python keyword (`continue`),
    which the field then names in its metadata as `key`."""
    return str(spec.metadata.get("key", spec.name))


def read_table(kind: type[Any], body: Any, path: str, warnings: list[str]) -> Any:
    """An instance of the dataclass `kind` from the TOML table `body` found at `path`."""
    if not isinstance(body, dict):
        raise SchemaError(f"{path}: must be a table, got {_shown(body)}")
    declared = {key_of(f): f for f in dataclasses.fields(kind)}
    hints = typing.get_type_hints(kind)
    retired: dict[str, str] = getattr(kind, "RETIRED", {})
    values: dict[str, Any] = {}
    for key, value in body.items():
        where = f"{path}.{key}"
        if key in retired:
            warnings.append(f"{where} is retired: {retired[key]}")
            continue
        if key not in declared:
            known = ", ".join(declared)
            raise SchemaError(f"{path}: unknown key {key!r} (known: {known})")
        spec = declared[key]
        values[spec.name] = _read_value(hints[spec.name], spec.metadata, value, where, warnings)
    missing = [
        key
        for key, spec in declared.items()
        if spec.name not in values
        and spec.default is dataclasses.MISSING
        and spec.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise SchemaError(f"{path}: missing key {missing[0]!r}")
    try:
        # A section checks how its keys fit together in __post_init__ (ValueError).
        return kind(**values)
    except ValueError as exc:
        raise SchemaError(f"{path}.{exc}") from None


def _read_value(hint: Any, meta: Any, value: Any, where: str, warnings: list[str]) -> Any:
    origin = typing.get_origin(hint)
    if origin is types.UnionType:  # `float | None`: unset unless the file says; no null in TOML
        kinds = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(kinds) > 1:  # `int | str`: a scalar of either kind
            return _read_either(kinds, meta, value, where, warnings)
        hint = kinds[0]
        origin = typing.get_origin(hint)
    if origin is dict:  # a table of named tables: `[section.symbols."BTC/USDT"]`
        item_hint = typing.get_args(hint)[1]
        if not isinstance(value, dict):
            raise SchemaError(f"{where}: must be a table, got {_shown(value, meta)}")
        return {
            name: _read_value(item_hint, meta, item, f'{where}."{name}"', warnings)
            for name, item in value.items()
        }
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise SchemaError(f"{where}: must be an array, got {_shown(value, meta)}")
        return tuple(
            _read_value(item_hint, meta, item, f"{where}[{index}]", warnings)
            for index, item in enumerate(value)
        )
    if dataclasses.is_dataclass(hint):
        return read_table(typing.cast(type[Any], hint), value, where, warnings)
    if hint is bool:
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: must be true or false, got {_shown(value, meta)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise SchemaError(f"{where}: must be a string, got {_shown(value, meta)}")
        _check(meta, value, where)
        return value
    if hint in (int, float):
        return _read_number(hint, meta, value, where)
    if hint is Decimal:
        if not isinstance(value, str):
            raise SchemaError(
                f'{where}: money is written as a string, e.g. "10000", got {_shown(value, meta)}'
            )
        try:
            return read_amount(value, "an amount")
        except AmountError as exc:
            raise SchemaError(f"{where}: {exc}") from None
    raise TypeError(f"{where}: settings of type {hint!r} are not supported")


def _read_either(kinds: list[Any], meta: Any, value: Any, where: str, warnings: list[str]) -> Any:
    for kind in kinds:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return _read_value(kind, meta, value, where, warnings)
    names = " or ".join(getattr(kind, "__name__", str(kind)) for kind in kinds)
    raise SchemaError(f"{where}: must be {names}, got {_shown(value, meta)}")


def _read_number(hint: type, meta: Any, value: Any, where: str) -> Any:
    if meta.get("duration") and isinstance(value, str):
        parsed = parse_duration(value)
        if parsed is None:
            raise SchemaError(
                f"{where}: {value!r} is not a duration (seconds, or a number with s, m, h or d)"
            )
        value = parsed
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"{where}: must be a number, got {_shown(value, meta)}")
    if hint is int and not isinstance(value, int):
        raise SchemaError(f"{where}: must be a whole number, got {_shown(value, meta)}")
    # Every number has its range declared: none may be nan, infinite or absurd.
    low, high = meta["range"]
    if not finite_in_range(value, low, high):
        raise SchemaError(
            f"{where}: must be between {low:g} and {high:g}, got {_shown(value, meta)}"
        )
    _check(meta, value, where)
    return hint(value)


def _check(meta: Any, value: Any, where: str) -> None:
    check = meta.get("check")
    if check is None:
        return
    try:
        check(value)
    except ValueError as exc:
        raise SchemaError(f"{where}: {_shown(value, meta)} {exc}") from None


def _shown(value: Any, meta: Any = None) -> str:
    return MASK if meta is not None and meta.get("secret") else repr(value)


def flatten(section: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) for every scalar in a settings dataclass; an array of tables
    counts as one row ("3 entries")."""
    rows: list[tuple[str, Any]] = []
    for spec in dataclasses.fields(section):
        value = getattr(section, spec.name)
        name = f"{prefix}{key_of(spec)}"
        if dataclasses.is_dataclass(value):
            rows += flatten(value, f"{name}.")
        elif isinstance(value, tuple | dict):
            rows.append((name, f"{len(value)} {'entry' if len(value) == 1 else 'entries'}"))
        elif spec.metadata.get("secret"):
            rows.append((name, MASK))
        else:
            rows.append((name, value))
    return rows


def secret_values(section: Any) -> list[str]:
    """Every value of a field declared secret, in nested tables and arrays too: what
    Settings.secrets hands the redactor."""
    found: list[str] = []
    for spec in dataclasses.fields(section):
        value = getattr(section, spec.name)
        items = list(value.values()) if isinstance(value, dict) else (
            list(value) if isinstance(value, tuple) else [value])  # fmt: skip
        for item in items:
            if dataclasses.is_dataclass(item):
                found += secret_values(item)
            elif spec.metadata.get("secret") and isinstance(item, str) and item:
                found.append(item)
    return found


def format_seconds(value: float) -> str:
    """A duration as the docs write it: "3d", "1h", "90s"."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{value / size:g}{unit}"
    return f"{value:g}s"


def describe_fields(section: type[Any], prefix: str) -> list[tuple[str, str, str, str]]:
    """(dotted key, doc, default, allowed) for every key of a section dataclass, nested
    tables included, for the docs table."""
    rows: list[tuple[str, str, str, str]] = []
    hints = typing.get_type_hints(section)
    for spec in dataclasses.fields(section):
        name, meta = f"{prefix}.{key_of(spec)}", spec.metadata
        hint = hints[spec.name]
        if typing.get_origin(hint) is types.UnionType:  # `X | None`: described as X
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        origin = typing.get_origin(hint)
        # An array of tables, named tables, a sub-table: their keys, once.
        item, where = hint, name
        if origin is tuple:
            item, where = typing.get_args(hint)[0], f"{name}[]"
        elif origin is dict:
            item, where = typing.get_args(hint)[1], f'{name}."NAME"'
        if dataclasses.is_dataclass(item):
            if item is section:  # tables of its own kind (routes within routes)
                rows.append((where, f"nested, with the keys of `{prefix}`", "", ""))
            else:
                rows += describe_fields(typing.cast(type[Any], item), where)
            continue
        default = spec.default
        empty = default in ("", ())
        shown = "unset" if default is None else "empty" if empty else f"`{default}`"
        if default is dataclasses.MISSING:
            shown = "required"
        allowed = ""
        if "range" in meta:
            low, high = meta["range"]
            if meta.get("duration"):
                if isinstance(default, int | float):
                    shown = f"`{format_seconds(float(default))}`"
                allowed = f"{format_seconds(low)}–{format_seconds(high)}"
            else:
                allowed = f"{low:g}–{high:g}"
        rows.append((name, meta.get("doc", ""), shown, allowed))
    return rows
