"""Chinese wording shared by the web pages and the CLI (both show operators the same states).

Bottom layer: no imports from the rest of the node.
"""

from __future__ import annotations

import time

# ``LinkStatus.state`` of a sync link, as operators read it.
LINK_STATES = {
    "idle": "已同步",
    "pending": "待推送",
    "pushing": "推送中",
    "backoff": "退避等待重试",
}


def link_state(state: str) -> str:
    return LINK_STATES.get(state, state)


def duration(seconds: float) -> str:
    """``12.5 秒``, ``3.0 分钟``, ``1.2 小时``."""
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.1f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def when(at: float | None, now: float) -> str:
    """A unix time as local time with how long ago or from now; ``-`` for none."""
    if not at:
        return "-"
    stamp = time.strftime("%m-%d %H:%M:%S", time.localtime(at))
    delta = at - now
    return f"{stamp}（{duration(abs(delta))}{'后' if delta > 0 else '前'}）"
