"""How a TOML value becomes a setting: durations, the ``setting`` fields and their kinds, tables.

Split from ``node/config.py`` (which keeps the settings dataclasses and the loader) so that
module stays small (``config_sections.py`` holds the feature sections); ``node.config``
re-exports ``parse_duration``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import field
from datetime import date
from typing import Any, TypeVar

from node.errors import ConfigError
from node.records import CATEGORIES

_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object, path: str) -> float:
    """Seconds from ``"250ms"``, ``"10s"``, ``"5m"``, ``"1h"``, ``"30d"`` or a bare number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value))
        if match is None:
            raise ConfigError(f"expected a duration like '10s' or '5m', got {value!r}", path)
        seconds = float(match[1]) * _UNITS[match[2]]
    if seconds <= 0:
        raise ConfigError("must be positive", path)
    return seconds


def setting(default: Any, key: str, kind: str) -> Any:
    """A field read from TOML key ``key``: ``seconds``, ``ms`` (durations) or ``int``.

    The dataclass default is the only place a default is written: a key left out of the
    file keeps it.
    """
    return field(default=default, metadata={"key": key, "kind": kind})


def table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError("expected a table", key)
    return value


_SectionT = TypeVar("_SectionT")  # a settings dataclass whose fields are ``setting``s


def section(cls: type[_SectionT], table: Mapping[str, Any], name: str) -> _SectionT:
    """Read a settings table by its fields' TOML keys; keys left out keep their defaults."""
    fields = {f.metadata["key"]: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(table) - set(fields)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)}", name)
    values: dict[str, Any] = {}
    for key, value in table.items():
        f = fields[key]
        path = f"{name}.{key}"
        kind = f.metadata["kind"]
        if kind == "seconds":
            values[f.name] = parse_duration(value, path)
        elif kind == "ms":
            values[f.name] = int(parse_duration(value, path) * 1000)
        elif kind == "text":
            if not isinstance(value, str):
                raise ConfigError(f"expected text, got {value!r}", path)
            values[f.name] = value
        elif kind == "flag":
            if not isinstance(value, bool):
                raise ConfigError(f"expected true or false, got {value!r}", path)
            values[f.name] = value
        elif kind == "table":
            values[f.name] = years_table(value, path)
        elif kind == "dates":
            values[f.name] = dates(value, path)
        elif not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"expected a whole number, got {value!r}", path)
        else:
            values[f.name] = value
    return cls(**values)  # type: ignore[call-arg]


def dates(value: object, path: str) -> tuple[str, ...]:
    """A list of calendar dates written ``yyyy-mm-dd``."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError('expected a list of dates, e.g. ["2027-02-08"]', path)
    for day in value:
        try:
            if len(day) != 10:
                raise ValueError
            date.fromisoformat(day)
        except ValueError:
            raise ConfigError(f"not a date written yyyy-mm-dd: {day!r}", path) from None
    return tuple(value)


def years_table(value: object, path: str) -> tuple[tuple[str, int], ...]:
    """A table of 门类 to years, each a known category and 0 to 200 years."""
    if not isinstance(value, Mapping):
        raise ConfigError('expected a table, e.g. {"婚姻登记" = 30}', path)
    years = []
    for category, count in value.items():
        if category not in CATEGORIES:
            raise ConfigError(f"unknown category {category!r} ({'、'.join(CATEGORIES)})", path)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 200:
            raise ConfigError(f"expected 0 to 200 years, got {count!r}", f"{path}.{category}")
        years.append((category, count))
    return tuple(sorted(years))
