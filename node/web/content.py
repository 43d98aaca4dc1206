"""Streaming a record's content to a browser or the CLI as it arrives through the tree.

``RetrievalService.fetch`` returns the holder-signed manifest and an iterator of verified chunks.
The first chunk is read before any header is sent, so a failure at the start still gets a
proper error status from the middleware. After that the headers are out: a failure
mid-stream is logged and the connection aborted, so the client sees fewer bytes than
Content-Length and never a truncated file that looks complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from node.web.auth import current_actor
from node.web.context import node_services

if TYPE_CHECKING:
    from node.federation.messages import ContentManifest

log = logging.getLogger(__name__)

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;\s*[\w.+-]+=[\w.+-]+)*")
_ASCII_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Shown inline only if a browser cannot run script from it; everything else is an attachment,
# so a record's HTML or SVG never executes with this site's origin.
_INLINE_TYPES = re.compile(
    r"(application/pdf|image/(jpeg|png|gif|tiff|webp|bmp)|text/plain|audio/[\w.+-]+"
    r"|video/[\w.+-]+)(\s*;.*)?",
    re.IGNORECASE,
)
_TRUE = {"1", "true", "yes"}


def media_type(manifest: ContentManifest) -> str:
    """The manifest's media type if it is well formed, else ``application/octet-stream``."""
    value = manifest.media_type.strip()
    return value if _MEDIA_TYPE.fullmatch(value) else "application/octet-stream"


def content_disposition(kind: str, file_name: str, fallback_stem: str) -> str:
    """``inline``/``attachment`` with an ASCII ``filename`` and an RFC 5987 ``filename*``."""
    if _ASCII_NAME.fullmatch(file_name) and file_name not in (".", ".."):
        ascii_name = file_name
    else:
        suffix = PurePosixPath(file_name).suffix
        ascii_name = fallback_stem + (suffix if _ASCII_NAME.fullmatch(suffix or "-") else "")
    encoded = quote(file_name or ascii_name, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


def content_headers(manifest: ContentManifest, download: bool) -> dict[str, str]:
    """Response headers for a record's content, from the holder's signed manifest."""
    kind_type = media_type(manifest)
    inline = not download and _INLINE_TYPES.fullmatch(kind_type) is not None
    return {
        "Content-Type": kind_type,
        "Content-Disposition": content_disposition(
            "inline" if inline else "attachment", manifest.file_name, manifest.record_id
        ),
        "X-Content-SHA256": manifest.sha256,
        "X-Record-Holder": manifest.holder,
        "X-Record-Id": manifest.record_id,
        "X-Record-Version": str(manifest.version),
        "X-Content-Type-Options": "nosniff",
        # Records are about citizens: no copies in browser or proxy caches.
        "Cache-Control": "no-store",
    }


async def record_content(request: web.Request) -> web.StreamResponse:
    """``GET …/records/{holder}/{record_id}/content[?download=1][&file=NAME]``."""
    retrieval = node_services(request).retrieval
    holder = request.match_info["holder"]
    record_id = request.match_info["record_id"]
    download = request.query.get("download", "").lower() in _TRUE
    fetched = await retrieval.fetch(
        holder, record_id, request.query.get("file", ""), actor=current_actor(request)
    )
    chunks = fetched.chunks
    try:
        first = await anext(chunks, b"")
        response = web.StreamResponse(headers=content_headers(fetched.manifest, download))
        response.content_length = fetched.manifest.size
        await response.prepare(request)
        sent = 0
        try:
            await response.write(first)
            sent += len(first)
            async for chunk in chunks:
                await response.write(chunk)
                sent += len(chunk)
        except Exception as exc:
            if isinstance(exc, ConnectionError):
                log.info("client left %s/%s after %d bytes", holder, record_id, sent)
            else:
                log.exception(
                    "content of %s/%s failed after %d of %d bytes; aborting the connection",
                    holder,
                    record_id,
                    sent,
                    fetched.manifest.size,
                )
            # Whoever failed, the body is short of Content-Length: close rather than let a
            # kept-alive connection carry on after a truncated body.
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write_eof()
        return response
    finally:
        await _close(chunks)


async def _close(chunks: AsyncIterator[bytes]) -> None:
    """Release the upstream stream (a gRPC call, a blob file) whatever happened."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
