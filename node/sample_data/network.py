"""The demo network (README, "What the demo shows"): one table of its node codes and archive names.

Province ``33``, city ``3301``, counties ``330106`` and ``330110``, two townships under each
county and two villages under each township: 16 nodes. Real codes carry their real names from
the shipped division table; townships and villages get plausible synthetic names. The demo,
the integration tests and the benchmarks all name their nodes from here.
"""

from __future__ import annotations

from node.divisions import division_name

SYNTHETIC_NAMES: dict[str, str] = {
    "330106001": "北山街道",
    "330106001001": "金鱼井社区",
    "330106001002": "葛岭社区",
    "330106002": "西溪街道",
    "330106002001": "嘉绿苑社区",
    "330106002002": "古荡湾社区",
    "330110001": "余杭街道",
    "330110001001": "凤新村",
    "330110001002": "永安村",
    "330110002": "仓前街道",
    "330110002001": "葛巷社区",
    "330110002002": "灵源村",
}
DEMO_CODES: tuple[str, ...] = (
    "33",
    "3301",
    "330106",
    "330106001",
    "330106001001",
    "330106001002",
    "330106002",
    "330106002001",
    "330106002002",
    "330110",
    "330110001",
    "330110001001",
    "330110001002",
    "330110002",
    "330110002001",
    "330110002002",
)


def archive_name(code: str) -> str:
    """档案馆 for the real divisions (name from the CSV), 档案室 for townships and villages."""
    real = division_name(code)
    if real is not None:
        return real + "档案馆"
    return SYNTHETIC_NAMES[code] + "档案室"


DEMO_NETWORK: tuple[tuple[str, str], ...] = tuple((code, archive_name(code)) for code in DEMO_CODES)
"""(code, archive name) of every node of the demo network, parents before children."""

DEMO_VILLAGE = "330106001001"
"""The village service point the demo prints the URL of."""
