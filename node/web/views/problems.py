"""What a clerk is told when another node fails her: named, in Chinese, with what to do next.

A search or a fetch crosses several nodes; when one of them cannot be reached, is busy, or
its certificate was revoked, the message names the archive concerned by name (from this
node's copy of the directory) and says what the clerk can do. The transport's own words
(a gRPC detail such as "Stream removed (recvmsg:No route to host (113))", an English
certificate check) go to the log, never into the sentence.
"""

from __future__ import annotations

from collections.abc import Mapping

from node.errors import (
    AuthError,
    FederationError,
    Forbidden,
    InvalidCode,
    Misaddressed,
    Overloaded,
    PeerUnavailable,
    ProtocolError,
)
from node.federation.services.search import KnownNode
from node.identity import route
from node.web.views.scope import archive_name


def revoked_on_route(me: str, target: str, known: Mapping[str, KnownNode]) -> str | None:
    """The node on the way from ``me`` to ``target`` whose certificate is revoked (the
    target first), or None."""
    try:
        path = route(me, target) if me != target else []
    except InvalidCode:
        return None
    for code in reversed(path):
        node = known.get(code)
        if node is not None and node.revoked:
            return code
    return None


def federation_message(
    exc: FederationError,
    me: str,
    target: str,
    known: Mapping[str, KnownNode],
    hosted: Mapping[str, str],
) -> str:
    """The zh-CN sentence for ``exc``, raised while this node ``me`` asked ``target``."""
    revoked = revoked_on_route(me, target, known)
    if revoked is not None:
        name = archive_name(revoked, known, hosted)
        if revoked == target:
            return (
                f"该馆证书已被吊销：{name}已不再是本网络的可信节点，暂时不能经网络检索或调阅"
                "其档案。请联系该馆或其上级档案馆了解情况；该馆重新入网后即可恢复。"
            )
        return (
            f"途经的 {name} 证书已被吊销，查询无法转达{archive_name(target, known, hosted)}。"
            "请联系上级档案馆处理；也可请馆藏单位线下协助。"
        )
    name = archive_name(target, known, hosted)
    if isinstance(exc, PeerUnavailable):
        return (
            f"{name}暂时无法连接：网络中断或该馆系统暂停服务。可稍后重试，或联系该馆；"
            "如多次失败，请上级档案馆检查网络。"
        )
    if isinstance(exc, Overloaded):
        return f"{name}当前繁忙，暂时不能答复：请稍等片刻后重试。"
    if isinstance(exc, AuthError):
        return (
            f"与{name}之间的身份校验未通过（证书或签名不符），为安全起见未采用其答复。"
            "请稍后重试；仍出现请联系该馆或上级档案馆核对证书。"
        )
    if isinstance(exc, ProtocolError):
        return f"{name}返回了无法识别的数据：请稍后重试；仍出现请联系该馆或上级档案馆。"
    if isinstance(exc, Misaddressed):
        return f"请求未能发往正确的节点（{name}）：请联系上级档案馆核对节点设置。"
    if isinstance(exc, Forbidden):
        return f"{name}拒绝了本节点的请求：请联系上级档案馆核对节点设置。"
    return f"与{name}通信失败：可稍后重试，或联系该馆。"
