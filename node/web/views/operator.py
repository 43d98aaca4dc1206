"""View values of the operator's forms: the registry page's lists of revoked nodes, banned
keys and code aliases, the accounts page, and the success notice shown after a redirect.

A form's handler redirects (303) to its page with ``?done=KIND:SUBJECT`` (for example
``done=revoked:330106002``); ``notice`` words that as one zh-CN sentence. The sentence is
built from the page's own data where it can be (a revocation is announced only if the
directory lists it), so a crafted link cannot make the page claim what did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from node.accounts import Account
from node.actors import Role
from node.errors import InvalidCode
from node.federation.services import BannedKey, CodeAlias, RevokedNode, TrustListing
from node.identity import level_of
from node.web.views import local_time


def named(code: str, name: str) -> str:
    """``code（name）``, or ``code（level级节点）`` when the directory has no name for it."""
    if not code:
        return "-"
    if name:
        return f"{code}（{name}）"
    try:
        return f"{code}（{level_of(code).zh}级节点）"
    except InvalidCode:
        return code


def done_url(path: str, kind: str, subject: str) -> str:
    """Where a form redirects after success: ``path?done=kind:subject``."""
    return f"{path}?{urlencode({'done': f'{kind}:{subject}'})}"


# -- the registry page -------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryActions:
    """Where the registry page's forms post (``web/operator.py``)."""

    revoke: str
    ban: str
    unban: str
    alias: str


def registry_actions(code: str) -> RegistryActions:
    base = f"/n/{code}/registry"
    return RegistryActions(
        f"{base}/revocations", f"{base}/bans", f"{base}/bans/lift", f"{base}/aliases"
    )


@dataclass(frozen=True)
class RevokedRow:
    node: str  # code（name）
    serial: str
    by: str
    at: str
    reason: str


@dataclass(frozen=True)
class BannedRow:
    key_id: str
    node: str
    reason: str


@dataclass(frozen=True)
class AliasRow:
    old: str
    new: str


def revoked_row(revoked: RevokedNode) -> RevokedRow:
    return RevokedRow(
        node=named(revoked.code, revoked.name),
        serial="全部证书" if revoked.serial == 0 else f"第 {revoked.serial} 号证书",
        by=revoked.by,
        at=local_time(revoked.at_ms / 1000),
        reason=revoked.reason or "-",
    )


def banned_row(banned: BannedKey) -> BannedRow:
    node = named(banned.code, banned.name) if banned.code else "（目录中无此密钥）"
    return BannedRow(banned.key_id, node, banned.reason or "-")


def alias_row(alias: CodeAlias) -> AliasRow:
    return AliasRow(named(alias.old, alias.old_name), named(alias.new, alias.new_name))


def registry_notice(done: str, listing: TrustListing) -> str:
    """The sentence for ``?done=`` on the registry page, or ``""``."""
    kind, _, subject = done.partition(":")
    if kind == "revoked":
        for revoked in listing.revoked:
            if revoked.code == subject:
                return (
                    f"已吊销 {named(revoked.code, revoked.name)}：此后该节点及以其证书签名的调用"
                    "一律拒绝。如需恢复，请该单位重新申请入网。"
                )
        return ""
    if kind == "banned" and any(b.key_id == subject for b in listing.banned):
        return f"已封禁密钥 {subject}：本节点不再接受以该密钥签名的调用。"
    if kind == "unbanned" and subject:
        return f"已解除对密钥 {subject} 的封禁。"
    if kind == "aliased":
        for alias in listing.aliases:
            if alias.old == subject:
                return (
                    f"已登记区划代码变更：{named(alias.old, alias.old_name)} → "
                    f"{named(alias.new, alias.new_name)}。"
                )
    return ""


# -- the accounts page -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleButton:
    """A role the account lacks (grant) or holds (revoke): the form's action and label."""

    action: str
    label: str


@dataclass(frozen=True)
class AccountRow:
    name: str
    display_name: str
    roles: str
    state: str
    disabled: bool
    grants: tuple[RoleButton, ...]
    revokes: tuple[RoleButton, ...]
    disable_action: str
    enable_action: str


def _account_url(code: str, name: str, tail: str) -> str:
    return f"/n/{code}/accounts/{quote(name, safe='')}/{tail}"


def account_row(code: str, account: Account) -> AccountRow:
    held = [r for r in Role if r in account.roles]
    return AccountRow(
        name=account.name,
        display_name=account.display_name or "-",
        roles="、".join(f"{r.zh}（{r.value}）" for r in held) or "无",
        state="已停用" if account.disabled else "正常",
        disabled=account.disabled,
        grants=tuple(
            RoleButton(_account_url(code, account.name, "roles"), r.value)
            for r in Role
            if r not in held
        ),
        revokes=tuple(
            RoleButton(_account_url(code, account.name, f"roles/{r.value}/revoke"), r.value)
            for r in held
        ),
        disable_action=_account_url(code, account.name, "disable"),
        enable_action=_account_url(code, account.name, "enable"),
    )


def role_options() -> Sequence[tuple[str, str]]:
    """(value, label) of every role, for the create form's select."""
    return [(r.value, f"{r.zh}（{r.value}）") for r in Role]


_ACCOUNT_NOTICES: Mapping[str, str] = {
    "created": "已创建账号 {name}。请把初始密码当面或线下告知本人。",
    "disabled": "已停用账号 {name}：其登录会话和 API 令牌即时失效。",
    "enabled": "已恢复账号 {name}，可以重新登录。",
    "granted": "已授予账号 {name} {role} 角色。",
    "ungranted": "已收回账号 {name} 的 {role} 角色。",
}


def accounts_notice(done: str, accounts: Sequence[Account]) -> str:
    """The sentence for ``?done=`` on the accounts page, or ``""`` (also when the account
    named is not one of this node's)."""
    kind, _, subject = done.partition(":")
    name, _, role = subject.partition(":")
    template = _ACCOUNT_NOTICES.get(kind)
    if template is None or not any(a.name == name for a in accounts):
        return ""
    try:
        role_label = f"{Role(role).zh}（{role}）" if role else ""
    except ValueError:
        return ""
    return template.format(name=name, role=role_label)
