"""The feature sections of the settings: ``[accounts]``, ``[oai]``, ``[appraisal]``,
``[requests]`` and ``[preservation]``, each a dataclass with its defaults and the function that
reads and range-checks its TOML table.

Split from ``node/config.py``, which keeps the host, node, sync, trust and audit sections and
the loader that assembles ``HostSettings`` from these; the other modules import a section
from here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from node.config_values import section, setting
from node.errors import ConfigError


@dataclass(frozen=True)
class PreservationSettings:
    # re-hash a slice of the stored content this often (the content checked longest ago)
    fixity_interval_s: float = setting(3600.0, "fixity_interval", "seconds")
    # contents re-hashed per run: the whole store is covered over (stored / this) runs
    fixity_batch: int = setting(500, "fixity_batch", "int")
    # a transfer package: at most this many files, bytes per file and in all, and the zip
    # expansion ratio past which an entry is taken for a zip bomb
    max_package_files: int = setting(100_000, "max_package_files", "int")
    max_file_bytes: int = setting(4 << 30, "max_file_bytes", "int")
    max_package_bytes: int = setting(64 << 30, "max_package_bytes", "int")
    max_zip_ratio: int = setting(200, "max_zip_ratio", "int")


DEFAULT_PRESERVATION = PreservationSettings()


@dataclass(frozen=True)
class AccountSettings:
    """Staff sessions and login rate limits (``[accounts]``), the same at every hosted node."""

    # a session unused this long ends (the clerk stepped away)
    session_idle_s: float = setting(1800.0, "session_idle", "seconds")
    # a session ends this long after login, however busy (one working day)
    session_lifetime_s: float = setting(12 * 3600.0, "session_lifetime", "seconds")
    # failed logins of one account before its logins pause
    failures_per_account: int = setting(5, "login_failures_per_account", "int")
    # failed logins from one client address (any account) before its logins pause
    failures_per_address: int = setting(20, "login_failures_per_address", "int")
    # how long failures are counted, and how long logins then pause
    lockout_s: float = setting(900.0, "login_lockout", "seconds")


DEFAULT_ACCOUNTS = AccountSettings()

MAX_OAI_PAGE = 1_000  # records per OAI-PMH list response


@dataclass(frozen=True)
class OaiSettings:
    """The OAI-PMH feed every hosted node serves at ``/n/CODE/oai`` (``[oai]``)."""

    # records (or headers, or sets) per list response; the rest follow by resumption token
    page_size: int = setting(100, "page_size", "int")
    # the address Identify gives harvesters for questions about the feed
    admin_email: str = setting("archives@example.invalid", "admin_email", "text")
    # sets by division code; false: ListSets and set= answer noSetHierarchy
    sets: bool = setting(True, "sets", "flag")


DEFAULT_OAI = OaiSettings()


@dataclass(frozen=True)
class AppraisalSettings:
    """The appraisal jobs (``[appraisal]``): records due for opening or disposal review."""

    # how often each node looks for records that reached their opening or retention date
    interval_s: float = setting(86400.0, "interval", "seconds")
    # years after formation when a record that is not open comes up for opening review
    opening_years: int = setting(25, "opening_years", "int")
    # per category (门类), years that replace opening_years: {"婚姻登记" = 30}
    opening_years_by_category: tuple[tuple[str, int], ...] = setting(
        (), "opening_years_by_category", "table"
    )

    def opening_after(self, category: str) -> int:
        """Years after formation that a record of ``category`` comes up for opening."""
        return dict(self.opening_years_by_category).get(category, self.opening_years)


DEFAULT_APPRAISAL = AppraisalSettings()


@dataclass(frozen=True)
class RequestSettings:
    """Utilisation requests (``[requests]``): deadlines in working days, the calendar's
    overrides, how long an approval waits to be fetched, and the outbox's retries."""

    # working days the holder has to decide, from receipt (the platform's rule: 4)
    holder_days: int = setting(4, "holder_days", "int")
    # working days the receiving node has, after the decision, to hand the result over (2)
    receiver_days: int = setting(2, "receiver_days", "int")
    # extra public holidays (a year the calendar package does not know yet), yyyy-mm-dd
    holidays: tuple[str, ...] = setting((), "holidays", "dates")
    # extra make-up working days (调休上班), yyyy-mm-dd
    workdays: tuple[str, ...] = setting((), "workdays", "dates")
    # an approval not fetched within this long lapses (state expired)
    approval_lifetime_s: float = setting(30 * 86400.0, "approval_lifetime", "seconds")
    # first wait after a failed delivery of a request or its update; doubles up to the cap
    backoff_start_s: float = setting(1.0, "backoff_start", "seconds")
    backoff_cap_s: float = setting(300.0, "backoff_cap", "seconds")


DEFAULT_REQUESTS = RequestSettings()


def account_settings(table: Mapping[str, Any]) -> AccountSettings:
    settings = section(AccountSettings, table, "accounts")
    for name in ("failures_per_account", "failures_per_address"):
        if getattr(settings, name) < 1:
            key = next(f.metadata["key"] for f in dataclasses.fields(settings) if f.name == name)
            raise ConfigError("must be at least 1", f"accounts.{key}")
    if settings.session_lifetime_s < settings.session_idle_s:
        raise ConfigError(
            "must not be shorter than accounts.session_idle", "accounts.session_lifetime"
        )
    return settings


def oai_settings(table: Mapping[str, Any]) -> OaiSettings:
    settings = section(OaiSettings, table, "oai")
    if not 1 <= settings.page_size <= MAX_OAI_PAGE:
        raise ConfigError(
            f"expected 1 to {MAX_OAI_PAGE}, got {settings.page_size}", "oai.page_size"
        )
    if not re.fullmatch(r"[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+", settings.admin_email):
        raise ConfigError(
            f"expected an e-mail address, got {settings.admin_email!r}", "oai.admin_email"
        )
    return settings


def appraisal_settings(table: Mapping[str, Any]) -> AppraisalSettings:
    settings = section(AppraisalSettings, table, "appraisal")
    if not 0 <= settings.opening_years <= 200:
        raise ConfigError(
            f"expected 0 to 200 years, got {settings.opening_years}", "appraisal.opening_years"
        )
    return settings


def request_settings(table: Mapping[str, Any]) -> RequestSettings:
    settings = section(RequestSettings, table, "requests")
    for name in ("holder_days", "receiver_days"):
        if not 1 <= getattr(settings, name) <= 60:
            raise ConfigError("expected 1 to 60 working days", f"requests.{name}")
    if settings.backoff_cap_s < settings.backoff_start_s:
        raise ConfigError("must not be shorter than requests.backoff_start", "requests.backoff_cap")
    return settings


def preservation_settings(table: Mapping[str, Any]) -> PreservationSettings:
    settings = section(PreservationSettings, table, "preservation")
    for f in dataclasses.fields(settings):
        if getattr(settings, f.name) < 1:
            raise ConfigError("must be at least 1", f"preservation.{f.metadata['key']}")
    return settings
