"""Typed settings, loaded from a TOML file with environment overrides.

Every setting is documented in ``docs/configuration.md`` (a test checks that). Errors name
the offending key, e.g. ``host.web_listen: expected host:port``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.config_sections import (
    AccountSettings,
    AppraisalSettings,
    OaiSettings,
    PreservationSettings,
    RequestSettings,
    account_settings,
    appraisal_settings,
    oai_settings,
    preservation_settings,
    request_settings,
)
from node.config_values import parse_duration as parse_duration  # re-exported
from node.config_values import section, setting, table
from node.errors import ConfigError, InvalidCode
from node.identity import validate_code
from node.records import MAX_BATCH_ENTRIES

_ADDRESS = re.compile(r"\[?[A-Za-z0-9.:_-]*\]?:[0-9]{1,5}")

ENV_OVERRIDES = {
    "ARCHIVE_NODE_GRPC_LISTEN": ("host", "grpc_listen"),
    "ARCHIVE_NODE_WEB_LISTEN": ("host", "web_listen"),
    "ARCHIVE_NODE_ADMIN_LISTEN": ("host", "admin_listen"),
    "ARCHIVE_NODE_DATA_DIR": ("host", "data_dir"),
    "ARCHIVE_NODE_LOG_LEVEL": ("host", "log_level"),
}


_LOCAL_HOSTS = ("", "0.0.0.0", "::", "localhost")


def is_local_address(address: str) -> bool:
    """Whether ``address`` (host:port) names no machine another one could dial: unspecified
    (``0.0.0.0``, ``[::]``, no host) or loopback (``127.x``, ``[::1]``, ``localhost``)."""
    host = address.rpartition(":")[0].strip("[]").lower()
    return host in _LOCAL_HOSTS or host.startswith("127.") or host == "::1"


def _address(value: object, path: str, *, optional: bool = False) -> str:
    text = str(value or "")
    if optional and not text:
        return ""
    if not _ADDRESS.fullmatch(text):
        raise ConfigError(f"expected host:port, got {text!r}", path)
    return text


DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class OutboxSettings:
    """How one link pushes (derived from ``[sync]`` by ``SyncSettings.outbox``)."""

    batch_size: int = 2_000  # changes per batch (the parent accepts up to 5,000)
    debounce_s: float = 0.02  # wait after a change, so a burst goes as one batch
    backoff_start_s: float = 1.0
    backoff_cap_s: float = 300.0
    call_retries: int = 2  # immediate retries of a failed call before backing off


@dataclass(frozen=True)
class SyncSettings:
    # scheduled push, besides the push on every change
    interval_s: float = setting(10.0, "interval", "seconds")
    # deadline of every unary federation call
    call_timeout_s: float = setting(10.0, "call_timeout", "seconds")
    # deadline of a whole content stream
    fetch_timeout_s: float = setting(120.0, "fetch_timeout", "seconds")
    # catalogue changes per push batch
    batch_size: int = setting(OutboxSettings.batch_size, "batch_size", "int")
    # wait after a change before pushing, so a burst is one batch
    debounce_s: float = setting(OutboxSettings.debounce_s, "debounce", "seconds")
    # first wait after a failed push
    backoff_start_s: float = setting(OutboxSettings.backoff_start_s, "backoff_start", "seconds")
    # longest wait between attempts
    backoff_cap_s: float = setting(OutboxSettings.backoff_cap_s, "backoff_cap", "seconds")
    # compare the subtree catalogue with the parent's
    anti_entropy_interval_s: float = setting(3600.0, "anti_entropy_interval", "seconds")

    def outbox(self) -> OutboxSettings:
        """What each link's outbox needs of these settings."""
        return OutboxSettings(
            batch_size=self.batch_size,
            debounce_s=self.debounce_s,
            backoff_start_s=self.backoff_start_s,
            backoff_cap_s=self.backoff_cap_s,
        )


@dataclass(frozen=True)
class TrustSettings:
    # directory pull from the parent, besides announcements
    refresh_interval_s: float = setting(300.0, "refresh_interval", "seconds")
    # what this node grants its children
    cert_lifetime_ms: int = setting(365 * DAY_MS, "cert_lifetime", "ms")
    # renew this node's own certificate this long ahead
    renew_before_ms: int = setting(30 * DAY_MS, "renew_before", "ms")
    # new enrolment applications (a code, or a new key) taken from one address per hour
    enrol_applications_per_hour: int = setting(10, "enrol_applications_per_hour", "int")
    # enrolment calls of any kind (the applicant asking how it was decided) per address
    enrol_calls_per_minute: int = setting(30, "enrol_calls_per_minute", "int")
    # the root registry mints a new identity index key once the newest is this old
    index_key_rotation_ms: int = setting(365 * DAY_MS, "index_key_rotation", "ms")
    # a new index key indexes records once it is this old (every node has pulled it by then)
    index_key_settle_ms: int = setting(15 * 60 * 1000, "index_key_settle", "ms")


DEFAULT_TRUST = TrustSettings()
MAX_ENROL_RATE = 100_000  # per address and period: past this the limit means nothing


@dataclass(frozen=True)
class AuditSettings:
    # sign a checkpoint of the audit log and send it to the parent, the witness
    checkpoint_interval_s: float = setting(300.0, "checkpoint_interval", "seconds")


@dataclass(frozen=True)
class NodeSettings:
    code: str
    name: str
    parent_address: str = ""  # where the parent listens, if this daemon does not host it
    # where other machines reach this node (its certificate names it); "" = not said
    advertise: str = ""


@dataclass(frozen=True)
class HostSettings:
    data_dir: Path
    root_public_key: bytes
    grpc_listen: str = "0.0.0.0:50051"
    web_listen: str = "127.0.0.1:8080"
    admin_listen: str = ""  # gRPC health + reflection for operators; "" = off
    log_level: str = "INFO"
    # serve federation gRPC over TLS pinned by the node certificates; never dial in clear.
    # Off here so in-process and test networks need no TLS files; `init` writes `tls = true`.
    tls: bool = False
    sync: SyncSettings = field(default_factory=SyncSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    nodes: tuple[NodeSettings, ...] = ()
    audit: AuditSettings = field(default_factory=AuditSettings)
    # Host names (``name`` or ``name:port``) the web listener answers to; () = the web_listen
    # host, localhost, 127.0.0.1 and [::1] on the bound port (``web_host_names``)
    web_hosts: tuple[str, ...] = ()
    accounts: AccountSettings = field(default_factory=AccountSettings)
    oai: OaiSettings = field(default_factory=OaiSettings)
    appraisal: AppraisalSettings = field(default_factory=AppraisalSettings)
    requests: RequestSettings = field(default_factory=RequestSettings)
    preservation: PreservationSettings = field(default_factory=PreservationSettings)


def _sync_settings(table: Mapping[str, Any]) -> SyncSettings:
    batch_size = table.get("batch_size", SyncSettings.batch_size)
    if (
        not isinstance(batch_size, int)
        or isinstance(batch_size, bool)
        or not 1 <= batch_size <= MAX_BATCH_ENTRIES
    ):
        raise ConfigError(
            f"expected a whole number from 1 to {MAX_BATCH_ENTRIES}, got {batch_size!r}",
            "sync.batch_size",
        )
    settings = section(SyncSettings, table, "sync")
    if settings.backoff_cap_s < settings.backoff_start_s:
        raise ConfigError("must not be shorter than sync.backoff_start", "sync.backoff_cap")
    return settings


_WEB_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)


def _web_hosts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            'expected a list of host names, e.g. ["archive.example", "10.0.0.5:8080"]',
            "host.web_hosts",
        )
    for name in value:
        if not _WEB_HOST.fullmatch(name):
            raise ConfigError(f"not a host name or host:port: {name!r}", "host.web_hosts")
    return tuple(name.lower() for name in value)


def web_host_names(web_listen: str, port: int, configured: tuple[str, ...] = ()) -> frozenset[str]:
    """The ``Host`` values the web listener accepts: the configured names, else its own.

    A name without a port matches on any port. Refusing every other name is what stops a
    DNS-rebinding page (its own name pointed at 127.0.0.1) from reaching the API.
    """
    if configured:
        return frozenset(configured)
    host = web_listen.rpartition(":")[0].strip("[]").lower()
    names = {"localhost", "127.0.0.1", "[::1]"}
    if host and host not in ("0.0.0.0", "::"):
        names.add(f"[{host}]" if ":" in host else host)
    return frozenset(f"{name}:{port}" for name in names)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> HostSettings:
    """Read a daemon's TOML file; ``environ`` (default ``os.environ``) overrides host keys."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"配置文件不存在: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件不是有效的 TOML: {exc}", str(path)) from None
    return settings_from_mapping(data, environ if environ is not None else os.environ, path.parent)


def settings_from_mapping(
    data: Mapping[str, Any], environ: Mapping[str, str], base: Path
) -> HostSettings:
    host = dict(table(data, "host"))
    for env, (_, key) in ENV_OVERRIDES.items():
        if env in environ:
            host[key] = environ[env]
    unknown = set(host) - {
        "data_dir",
        "root_public_key",
        "grpc_listen",
        "web_listen",
        "admin_listen",
        "log_level",
        "tls",
        "web_hosts",
    }
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)}", "host")
    if "root_public_key" not in host:
        raise ConfigError(
            "the province root public key (hex) must be pinned", "host.root_public_key"
        )
    try:
        root = bytes.fromhex(str(host["root_public_key"]))
    except ValueError:
        root = b""
    if len(root) != 32:
        raise ConfigError("expected 64 hex digits (an Ed25519 public key)", "host.root_public_key")
    tls = host.get("tls", HostSettings.tls)
    if not isinstance(tls, bool):
        raise ConfigError(f"expected true or false, got {tls!r}", "host.tls")
    sync = _sync_settings(table(data, "sync"))
    trust = section(TrustSettings, table(data, "trust"), "trust")
    for key, value in (
        ("enrol_applications_per_hour", trust.enrol_applications_per_hour),
        ("enrol_calls_per_minute", trust.enrol_calls_per_minute),
    ):
        if not 1 <= value <= MAX_ENROL_RATE:
            raise ConfigError(f"expected 1 to {MAX_ENROL_RATE}, got {value}", f"trust.{key}")
    audit = section(AuditSettings, table(data, "audit"), "audit")
    accounts = account_settings(table(data, "accounts"))
    oai = oai_settings(table(data, "oai"))
    appraisal = appraisal_settings(table(data, "appraisal"))
    requests = request_settings(table(data, "requests"))
    preservation = preservation_settings(table(data, "preservation"))
    raw_nodes = data.get("node", [])
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ConfigError("at least one [[node]] table is required", "node")
    nodes = []
    for index, raw in enumerate(raw_nodes):
        path = f"node[{index}]"
        try:
            code = validate_code(str(raw.get("code", "")))
        except InvalidCode as exc:
            raise ConfigError(str(exc), f"{path}.code") from None
        name = str(raw.get("name", "")).strip()
        if not name:
            raise ConfigError("the archive's name is required", f"{path}.name")
        parent_address = _address(
            raw.get("parent_address"), f"{path}.parent_address", optional=True
        )
        advertise = _address(raw.get("advertise"), f"{path}.advertise", optional=True)
        nodes.append(
            NodeSettings(code=code, name=name, parent_address=parent_address, advertise=advertise)
        )
    data_dir = Path(str(host.get("data_dir", "data")))
    return HostSettings(
        data_dir=data_dir if data_dir.is_absolute() else base / data_dir,
        root_public_key=root,
        grpc_listen=_address(host.get("grpc_listen", HostSettings.grpc_listen), "host.grpc_listen"),
        web_listen=_address(host.get("web_listen", HostSettings.web_listen), "host.web_listen"),
        admin_listen=_address(host.get("admin_listen"), "host.admin_listen", optional=True),
        log_level=str(host.get("log_level", HostSettings.log_level)).upper(),
        tls=tls,
        sync=sync,
        trust=trust,
        nodes=tuple(nodes),
        audit=audit,
        web_hosts=_web_hosts(host.get("web_hosts", [])),
        accounts=accounts,
        oai=oai,
        appraisal=appraisal,
        requests=requests,
        preservation=preservation,
    )
