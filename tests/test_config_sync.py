"""The ``[sync]`` settings: defaults, values read, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import settings_from_mapping
from node.errors import ConfigError

ROOT = "ab" * 32


def _with_sync(sync: dict[str, object]) -> dict[str, object]:
    return {
        "host": {"root_public_key": ROOT},
        "sync": sync,
        "node": [{"code": "330106", "name": "西湖区档案馆"}],
    }


def test_sync_defaults_and_values() -> None:
    defaults = settings_from_mapping(_with_sync({}), {}, Path(".")).sync
    assert (defaults.batch_size, defaults.debounce_s, defaults.backoff_cap_s) == (2000, 0.02, 300)
    read = settings_from_mapping(
        _with_sync(
            {"batch_size": 500, "debounce": "5ms", "backoff_start": "2s", "backoff_cap": "1m"}
        ),
        {},
        Path("."),
    ).sync
    outbox = read.outbox()
    assert (outbox.batch_size, outbox.debounce_s, outbox.backoff_start_s, outbox.backoff_cap_s) == (
        500,
        0.005,
        2.0,
        60.0,
    )


@pytest.mark.parametrize(
    ("sync", "key"),
    [
        ({"batch_size": 0}, "sync.batch_size"),
        ({"batch_size": 5001}, "sync.batch_size"),
        ({"batch_size": "many"}, "sync.batch_size"),
        ({"backoff_cap": "soon"}, "sync.backoff_cap"),
        ({"backoff_start": "10m", "backoff_cap": "1m"}, "sync.backoff_cap"),
        ({"debounce": "-1s"}, "sync.debounce"),
        ({"batchsize": 10}, "sync"),
    ],
)
def test_sync_errors_name_the_key(sync: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(_with_sync(sync), {}, Path("."))
    assert key in str(caught.value)
