"""A small synchronous client for a daemon's JSON API: what ``archive-node`` commands talk to.

Standard library only (``urllib.request``), with a timeout on every call. Every failure is an
``ApiError`` whose text is a one-line zh-CN message for the person at the terminal: the API's
own error message when it sent one, else what went wrong and what to try.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from typing import IO, Any
from urllib.parse import quote, unquote, urlencode

DEFAULT_API = "http://127.0.0.1:8080"
API_ENV = "ARCHIVE_NODE_API"
TOKEN_ENV = "ARCHIVE_NODE_TOKEN"
_NEED_TOKEN = (
    "需要登录：请用 --token 或环境变量 ARCHIVE_NODE_TOKEN 传入本节点账号的 API 令牌"
    "（在守护进程所在机器上用 archive-node account token --data DIR --node CODE NAME 生成）。"
)
DEFAULT_TIMEOUT = 30.0
READ_BYTES = 256 * 1024

_FILENAME_STAR = re.compile(r"filename\*\s*=\s*UTF-8''([^;\s]+)", re.IGNORECASE)
_FILENAME = re.compile(r'filename\s*=\s*(?:"([^"]*)"|([^;\s]+))', re.IGNORECASE)
_UNSAFE_NAME_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")


class ApiError(Exception):
    """The API could not be reached, or answered with an error.

    ``status`` is the HTTP status (``None`` if there was no answer) and ``kind`` the API's
    error type (``"NotFound"`` ...), when it gave one.
    """

    def __init__(self, message: str, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


@dataclass
class ContentStream:
    """A record's content as the API sends it, with what its headers promise."""

    response: HTTPResponse
    file_name: str
    media_type: str
    sha256: str
    size: int | None

    def copy_to(self, target: IO[bytes]) -> int:
        """Write the body to ``target``; return its length once its sha256 is the promised one.

        Raises:
            ApiError: the connection broke, or the bytes are not what the headers promised.
        """
        digest = hashlib.sha256()
        received = 0
        while True:
            try:
                chunk = self.response.read(READ_BYTES)
            except (OSError, HTTPException) as exc:
                raise ApiError(f"下载中断（已收到 {received} 字节：{exc}）。请重试。") from exc
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
            target.write(chunk)  # a write error is the caller's to report, not the network's
        if self.size is not None and received != self.size:
            raise ApiError(f"下载不完整：应为 {self.size} 字节，只收到 {received} 字节。请重试。")
        if digest.hexdigest() != self.sha256.lower():
            raise ApiError(
                "内容校验失败：收到内容的 sha256 与 X-Content-SHA256 不符，未保存。请重试。"
            )
        return received


class ApiClient:
    """Calls one daemon's JSON API at ``base_url`` (e.g. ``http://127.0.0.1:8080``)."""

    def __init__(
        self, base_url: str, timeout: float = DEFAULT_TIMEOUT, token: str | None = None
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ApiError(f"API 地址应以 http:// 或 https:// 开头：{base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token.strip() if token else None  # sent as Authorization: Bearer

    def search(
        self,
        as_code: str,
        text: str,
        *,
        scope: str | None = None,
        category: str | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        limit: int = 20,
        offset: int = 0,
        retention: str | None = None,
        access: str | None = None,
        cursor: str | None = None,
        id_number: str | None = None,
    ) -> dict[str, Any]:
        """One page of a search made at node ``as_code``: ``{"total", "total_exact",
        "answered_by", "next_cursor", "prev_cursor", "hits"}``. With ``id_number`` it is a
        POST with the number in the body, never in the URL."""
        params: dict[str, object] = {
            "q": text,
            "scope": scope,
            "category": category,
            "year_from": year_from,
            "year_to": year_to,
            "retention": retention,
            "access": access,
            "limit": limit,
            "offset": offset,
            "cursor": cursor,
        }
        path = f"/api/v1/nodes/{_segment(as_code)}/search"
        if id_number is not None:
            body = {k: v for k, v in params.items() if v is not None}
            return dict(self.call_json("POST", path, body={**body, "id_number": id_number}))
        return dict(self.get_json(path, params))

    @contextmanager
    def content(
        self, as_code: str, holder: str, record_id: str, file_name: str = ""
    ) -> Iterator[ContentStream]:
        """Open a record's content, fetched by node ``as_code`` through the tree."""
        path = (
            f"/api/v1/nodes/{_segment(as_code)}/records/{_segment(holder)}/"
            f"{_segment(record_id)}/content"
        )
        params = {"download": 1, "file": file_name or None}
        with self.open_content(path, params) as stream:
            yield stream

    @contextmanager
    def open_content(
        self, path: str, params: Mapping[str, object] | None = None
    ) -> Iterator[ContentStream]:
        """Open a content download at ``path`` that promises its sha256 in a header."""
        with self._open(path, params) as response:
            sha256 = response.headers.get("X-Content-SHA256", "")
            if not sha256:
                raise ApiError("API 应答缺少 X-Content-SHA256，无法校验内容。请确认守护进程版本。")
            length = response.headers.get("Content-Length")
            yield ContentStream(
                response=response,
                file_name=file_name_from(response.headers.get("Content-Disposition", "")),
                media_type=response.headers.get_content_type(),
                sha256=sha256,
                size=int(length) if length and length.isdigit() else None,
            )

    def get_json(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        """GET ``path`` and decode its JSON body."""
        return self.call_json("GET", path, params)

    def node_path(self, as_code: str, *parts: str) -> str:
        """``/api/v1/nodes/{as_code}/...`` with every part quoted."""
        return "/".join([f"/api/v1/nodes/{_segment(as_code)}", *map(_segment, parts)])

    def call_json(
        self,
        method: str,
        path: str,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Any:
        """``method`` on ``path`` (with a JSON ``body``), and its decoded JSON answer."""
        with self._open(path, params, method, body) as response:
            try:
                return json.loads(response.read())
            except (ValueError, OSError, HTTPException) as exc:
                raise ApiError(
                    f"{self.base_url} 的应答无法解析（{exc}）。请确认地址是本系统的 API。"
                ) from exc

    def upload(
        self, path: str, source: IO[bytes], size: int, name: str, params: Mapping[str, object]
    ) -> Any:
        """POST the file ``source`` (``size`` bytes, streamed) as the body; the JSON answer."""
        raw = (source, {"Content-Type": "application/octet-stream", "X-Package-Name": quote(name),
                        "Content-Length": str(size)})  # fmt: skip
        with self._open(path, params, "POST", raw=raw) as response:
            try:
                return json.loads(response.read())
            except (ValueError, OSError, HTTPException) as exc:
                raise ApiError(f"{self.base_url} 的应答无法解析（{exc}）。") from exc

    def download(self, path: str, params: Mapping[str, object], target: IO[bytes]) -> int:
        """GET ``path`` and write its body to ``target``; return the bytes written."""
        written = 0
        with self._open(path, params) as response:
            while True:
                try:
                    chunk = response.read(READ_BYTES)
                except (OSError, HTTPException) as exc:
                    raise ApiError(f"下载中断（已收到 {written} 字节：{exc}）。请重试。") from exc
                if not chunk:
                    return written
                target.write(chunk)
                written += len(chunk)

    @contextmanager
    def _open(
        self,
        path: str,
        params: Mapping[str, object] | None,
        method: str = "GET",
        body: Mapping[str, object] | None = None,
        raw: tuple[IO[bytes], dict[str, str]] | None = None,
    ) -> Iterator[HTTPResponse]:
        pairs = [(k, v) for k, v in (params or {}).items() if v is not None]
        # a list is a repeated parameter (``record=A&record=B``)
        query = urlencode([(k, i) for k, v in pairs for i in (v if isinstance(v, list) else [v])])
        url = self.base_url + path + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: Any = None
        if raw is not None:
            data, extra = raw
            headers.update(extra)
        elif body is not None or method == "POST":
            data = json.dumps(body or {}, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                error = _api_error(exc)
            if exc.code == 401 and not self.token:
                raise ApiError(_NEED_TOKEN, 401, error.kind) from None
            raise error from None
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason) from None
        except (TimeoutError, OSError, HTTPException) as exc:
            raise self._unreachable(exc) from None
        with response:
            yield response

    def _unreachable(self, reason: object) -> ApiError:
        if isinstance(reason, TimeoutError):
            return ApiError(
                f"等待 {self.base_url} 应答超时（{self.timeout:g} 秒）。"
                "请稍后重试，或用 --timeout 加长等待。"
            )
        hint = "守护进程是否在运行？可用 --api 或 ARCHIVE_NODE_API 指定地址"
        if isinstance(reason, ConnectionRefusedError):
            return ApiError(f"无法连接 {self.base_url}：{hint}")
        return ApiError(f"无法连接 {self.base_url}（{reason}）：{hint}")


def file_name_from(disposition: str) -> str:
    """The file name a Content-Disposition header offers (``filename*`` preferred), or ``""``."""
    match = _FILENAME_STAR.search(disposition)
    if match:
        return unquote(match.group(1), encoding="utf-8", errors="replace")
    match = _FILENAME.search(disposition)
    return (match.group(1) or match.group(2)) if match else ""


def safe_file_name(name: str, fallback: str) -> str:
    """``name`` made safe to create in the current folder: no path parts, no control chars."""
    cleaned = _UNSAFE_NAME_CHARS.sub("_", name).strip()
    if cleaned in ("", ".", "..") or cleaned.startswith("."):
        cleaned = _UNSAFE_NAME_CHARS.sub("_", fallback).lstrip(".") or "record"
    return cleaned[:200]


def _segment(value: str) -> str:
    return quote(value, safe="")


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    """The API's own zh-CN message from an error answer, else the HTTP status."""
    try:
        error = json.loads(exc.read())["error"]
        return ApiError(str(error["message"]), status=exc.code, kind=str(error.get("type")))
    except (ValueError, KeyError, TypeError, OSError, HTTPException):
        return ApiError(
            f"API 返回错误 HTTP {exc.code} {exc.reason}。请确认地址是本系统的 API。", exc.code
        )
