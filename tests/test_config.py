"""Settings from TOML: defaults, overrides, and errors that name the offending key."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import load_settings, parse_duration, settings_from_mapping
from node.config_sections import AppraisalSettings
from node.errors import ConfigError

ROOT = "ab" * 32


def _minimal(**tables: dict[str, object]) -> dict[str, object]:
    data: dict[str, object] = {
        "host": {"root_public_key": ROOT},
        "node": [{"code": "330106", "name": "西湖区档案馆"}],
    }
    data.update(tables)
    return data


def test_defaults_and_durations() -> None:
    settings = settings_from_mapping(_minimal(), {}, Path("/etc/archive"))
    assert settings.data_dir == Path("/etc/archive/data")
    assert settings.trust.refresh_interval_s == 300
    assert settings.trust.cert_lifetime_ms == 365 * 86_400_000
    assert settings.trust.renew_before_ms == 30 * 86_400_000
    assert [parse_duration(v, "x") for v in ("250ms", "10s", "5m", "1h", "2d", 3)] == [
        0.25, 10, 300, 3600, 172_800, 3
    ]  # fmt: skip


def test_trust_settings_are_read() -> None:
    data = _minimal(trust={"refresh_interval": "3s", "cert_lifetime": "90d", "renew_before": "7d"})
    trust = settings_from_mapping(data, {}, Path(".")).trust
    assert (trust.refresh_interval_s, trust.cert_lifetime_ms, trust.renew_before_ms) == (
        3.0,
        90 * 86_400_000,
        7 * 86_400_000,
    )


def test_enrolment_limits_are_read() -> None:
    data = _minimal(trust={"enrol_applications_per_hour": 200, "enrol_calls_per_minute": 5})
    trust = settings_from_mapping(data, {}, Path(".")).trust
    assert (trust.enrol_applications_per_hour, trust.enrol_calls_per_minute) == (200, 5)
    defaults = settings_from_mapping(_minimal(), {}, Path(".")).trust
    assert (defaults.enrol_applications_per_hour, defaults.enrol_calls_per_minute) == (10, 30)


def test_environment_overrides_host_keys() -> None:
    env = {"ARCHIVE_NODE_WEB_LISTEN": "0.0.0.0:9000", "ARCHIVE_NODE_LOG_LEVEL": "debug"}
    settings = settings_from_mapping(_minimal(), env, Path("."))
    assert (settings.web_listen, settings.log_level) == ("0.0.0.0:9000", "DEBUG")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"trust": {"refresh_interval": "soon"}}, "trust.refresh_interval"),
        ({"trust": {"lifetime": "1d"}}, "trust"),
        ({"sync": {"interval": "-1s"}}, "sync.interval"),
        ({"host": {"root_public_key": "12"}}, "host.root_public_key"),
        ({"host": {"root_public_key": ROOT, "web_listen": "8080"}}, "host.web_listen"),
        ({"host": {"root_public_key": ROOT, "colour": "blue"}}, "host"),
        ({"node": [{"code": "33010", "name": "x"}]}, "node[0].code"),
        ({"node": [{"code": "330106", "name": " "}]}, "node[0].name"),
        ({"node": []}, "node"),
        ({"trust": {"enrol_applications_per_hour": 0}}, "trust.enrol_applications_per_hour"),
        ({"trust": {"enrol_calls_per_minute": 10**9}}, "trust.enrol_calls_per_minute"),
        ({"trust": {"enrol_calls_per_minute": "many"}}, "trust.enrol_calls_per_minute"),
    ],
)
def test_errors_name_the_offending_key(change: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping({**_minimal(), **change}, {}, Path("."))
    assert key in str(caught.value)


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("[host\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_settings(config)
    with pytest.raises(ConfigError, match="不存在"):
        load_settings(tmp_path / "missing.toml")


def test_account_settings_and_web_hosts_are_read() -> None:
    data = _minimal(accounts={"session_idle": "10m", "login_failures_per_account": 3})
    data["host"] = {**data["host"], "web_hosts": ["Archive.Example", "10.0.0.5:8080"]}  # type: ignore[dict-item]
    settings = settings_from_mapping(data, {}, Path("."))
    assert settings.accounts.session_idle_s == 600 and settings.accounts.failures_per_account == 3
    assert settings.accounts.lockout_s == 900  # a key left out keeps its default
    assert settings.web_hosts == ("archive.example", "10.0.0.5:8080")


@pytest.mark.parametrize(
    ("accounts", "web_hosts", "key"),
    [
        ({"session_lifetime": "1m"}, None, "accounts.session_lifetime"),
        ({"login_failures_per_address": 0}, None, "accounts.login_failures_per_address"),
        ({"login_lockout": "soon"}, None, "accounts.login_lockout"),
        ({"colour": 1}, None, "accounts"),
        ({}, "archive.example", "host.web_hosts"),
        ({}, ["http://archive.example/"], "host.web_hosts"),
    ],
)
def test_bad_account_settings_name_their_key(
    accounts: dict[str, object], web_hosts: object, key: str
) -> None:
    data = _minimal(accounts=accounts)
    if web_hosts is not None:
        data["host"] = {**data["host"], "web_hosts": web_hosts}  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        settings_from_mapping(data, {}, Path("."))


def test_the_default_web_hosts_are_the_listeners_own_names() -> None:
    from node.config import web_host_names
    from node.web.hosts import WebHosts

    names = WebHosts(web_host_names("127.0.0.1:0", 8123))
    assert names.allows("127.0.0.1:8123") and names.allows("localhost:8123")
    assert names.allows("[::1]:8123")
    assert not names.allows("127.0.0.1:8124") and not names.allows("evil.example:8123")
    assert not names.allows("") and not names.allows("attacker.example")
    configured = WebHosts(web_host_names("0.0.0.0:80", 80, ("archive.example",)))
    assert configured.allows("archive.example") and configured.allows("ARCHIVE.example:8443")
    assert not configured.allows("0.0.0.0:80") and not configured.allows("localhost:80")


def test_the_settings_table_per_category(tmp_path: Path) -> None:
    base = {"host": {"root_public_key": "00" * 32}, "node": [{"code": "33", "name": "x"}]}
    table = {"opening_years": 30, "opening_years_by_category": {"婚姻登记": 50}}
    settings = settings_from_mapping({**base, "appraisal": table}, {}, tmp_path).appraisal
    assert settings.opening_after("婚姻登记") == 50 and settings.opening_after("社保") == 30
    assert AppraisalSettings().opening_after("社保") == 25
    for bad in ({"opening_years_by_category": {"猫": 3}}, {"opening_years": -1}):
        with pytest.raises(ConfigError):
            settings_from_mapping({**base, "appraisal": bad}, {}, tmp_path)


def test_oai_settings_are_checked(tmp_path: Path) -> None:
    base = {"host": {"root_public_key": "00" * 32}, "node": [{"code": "33", "name": "x"}]}
    settings = settings_from_mapping({**base, "oai": {"page_size": 50}}, {}, tmp_path).oai
    assert settings.page_size == 50 and settings.sets
    for bad in ({"page_size": 0}, {"page_size": 5000}, {"admin_email": "nobody"},
                {"sets": "yes"}, {"admin_email": 3}):  # fmt: skip
        with pytest.raises(ConfigError):
            settings_from_mapping({**base, "oai": bad}, {}, tmp_path)


def test_requests_settings_are_read_and_checked(tmp_path: Path) -> None:
    from node.config import settings_from_mapping

    base = {"host": {"root_public_key": "00" * 32}, "node": [{"code": "33", "name": "省档案馆"}]}
    got = settings_from_mapping(
        {**base, "requests": {"holder_days": 5, "holidays": ["2027-01-01"]}}, {}, tmp_path
    )
    assert got.requests.holder_days == 5 and got.requests.holidays == ("2027-01-01",)
    assert got.requests.receiver_days == 2
    for bad, key in (
        ({"holder_days": 0}, "requests.holder_days"),
        ({"holidays": ["2027-1-1"]}, "requests.holidays"),
        ({"workdays": "2027-01-02"}, "requests.workdays"),
        ({"backoff_start": "10s", "backoff_cap": "1s"}, "requests.backoff_cap"),
        ({"nonsense": 1}, "requests"),
    ):
        with pytest.raises(ConfigError) as caught:
            settings_from_mapping({**base, "requests": bad}, {}, tmp_path)
        assert key in str(caught.value)
