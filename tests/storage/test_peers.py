"""PeerStateStore: acknowledged cursors and last errors per peer (backoff: test_sync_state)."""

from __future__ import annotations

import dataclasses

import pytest

from node.storage.db import Database
from node.storage.peers import PeerState, PeerStateStore


@pytest.mark.asyncio
async def test_cursors_and_errors(db: Database) -> None:
    peers = PeerStateStore(db)
    assert await peers.get_cursor("33") == 0
    assert await peers.all() == []
    await peers.set_cursor("3301", 10)
    await peers.record_failure("3301", "连接超时", 1, 0.0)
    await peers.record_failure("33", "无法连接", 1, 0.0)
    assert await peers.get_cursor("3301") == 10
    states = await peers.all()
    assert [(s.peer, s.cursor, s.last_error) for s in states] == [
        ("33", 0, "无法连接"),
        ("3301", 10, "连接超时"),
    ]
    await peers.set_cursor("3301", 4)  # a parent that lost data acknowledges less
    await peers.clear_backoff("3301")
    state = (await peers.all())[1]
    assert (state.cursor, state.failures, state.last_error) == (4, 0, "连接超时")
    assert state.updated_at > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.cursor = 1  # type: ignore[misc]
    assert isinstance(state, PeerState)
