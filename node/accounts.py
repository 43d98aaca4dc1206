"""Staff accounts as values: what an account name, display name, password and role may be.

Checked here once, whichever way they arrive (the login form, the JSON API, the offline
``archive-node account`` commands), so every store and service below receives values that
are already well formed. An account lives at one node (docs/architecture.md, "People and
authority"); ``Actor`` in ``node.actors`` is who acts once it has logged in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from node.actors import Actor, ActorKind, Role
from node.errors import InvalidInput

# Lower-case ASCII so that a name typed on any keyboard, in a URL or in a log, is one name.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
MIN_PASSWORD = 8
MAX_PASSWORD = 256  # argon2 takes any length; a bound keeps a form field from being a payload
MAX_DISPLAY_NAME = 64
# Who acts when the account commands run offline against the data folder (the bootstrap, like
# a database superuser). "@" cannot start an account name, so it is never a person's name.
CONSOLE_NAME = "@console"


@dataclass(frozen=True)
class Account:
    """One staff account at a node, as operators list it (never its password hash)."""

    name: str
    display_name: str
    roles: tuple[Role, ...]  # in Role order
    disabled: bool
    created_at: float

    def actor(self, node: str) -> Actor:
        """The account acting at ``node``."""
        return Actor(ActorKind.ACCOUNT, self.name, node, frozenset(self.roles))


def console_actor(node: str) -> Actor:
    """The person at the daemon's machine with the data folder: may do what an operator may."""
    return Actor(ActorKind.ACCOUNT, CONSOLE_NAME, node, frozenset(Role))


def account_name(value: object) -> str:
    """A valid account name: 1 to 32 of ``a-z 0-9 . _ -``, starting with a letter or digit.

    Raises:
        InvalidInput: anything else, saying what a name may be.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not _NAME.fullmatch(text):
        raise InvalidInput(
            f"账号名无效：{str(value)[:40]!r}。账号名为 1 到 32 个小写字母、数字或 . _ -，"
            "以字母或数字开头，如 wang.li。"
        )
    return text


def display_name(value: object, fallback: str) -> str:
    """The name pages show for an account (``fallback``, the account name, if blank)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return fallback
    if len(text) > MAX_DISPLAY_NAME or any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise InvalidInput(f"显示名称应为 1 到 {MAX_DISPLAY_NAME} 个字，不含控制字符。")
    return text


def password(value: object) -> str:
    """A password good enough to store: 8 to 256 characters, not only spaces.

    Raises:
        InvalidInput: too short, too long or blank (the message never repeats it).
    """
    text = value if isinstance(value, str) else ""
    if not MIN_PASSWORD <= len(text) <= MAX_PASSWORD or not text.strip():
        raise InvalidInput(f"密码应为 {MIN_PASSWORD} 到 {MAX_PASSWORD} 个字符。请换一个密码。")
    return text


def role(value: object) -> Role:
    """A role from its name (``clerk``, ``archivist``, ``operator``) or its zh-CN name."""
    text = value.strip() if isinstance(value, str) else ""
    for candidate in Role:
        if text in (candidate.value, candidate.zh):
            return candidate
    choices = "、".join(f"{r.value}（{r.zh}）" for r in Role)
    raise InvalidInput(f"角色未知：{str(value)[:40]!r}。可选：{choices}。")


def roles(values: Iterable[object]) -> tuple[Role, ...]:
    """Roles in ``Role`` order, each once."""
    given = {role(v) for v in values}
    return tuple(r for r in Role if r in given)
