"""``archive-node`` against a real aiohttp server (fake nodes) running in a background thread."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from node.actors import Role
from node.cli import cli
from node.errors import AccessDenied, ConfigError
from node.simulate import free_port
from node.web import create_app


def _fakes() -> types.ModuleType:
    """``tests/web/fake_service.py``, shared with the web tests (tests/ is not a package)."""
    name = "fake_service"
    web_tests = str(Path(__file__).parent / "web")
    if web_tests not in sys.path:  # fake_service imports its neighbour fake_accounts
        sys.path.insert(0, web_tests)
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).parent / "web" / "fake_service.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class BackgroundServer:
    """Serves an aiohttp app on a free loopback port from its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(app)

    def __enter__(self) -> str:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> str:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def nodes() -> dict[str, Any]:
    return dict(_fakes().network())


@pytest.fixture
def api(nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with BackgroundServer(create_app(_fakes().hosted(nodes))) as url:
        monkeypatch.setenv("ARCHIVE_NODE_API", url)
        yield url


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_error_line(result: Result) -> str:
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("错误: ")
    return lines[0]


def test_search_json_prints_one_object_per_hit(api: str, nodes: dict[str, Any]) -> None:
    result = invoke("search", "--as", "330106001001", "--category", "婚姻登记", "--json", "张三")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    hit = json.loads(lines[0])
    assert hit["ref"] == "330106/HY-2015-0001"
    assert hit["title"] == "张三与李四结婚登记"
    assert "张三" in lines[0]  # not \u-escaped
    (query,) = nodes["330106001001"].queries
    assert (query.text, query.category, query.limit) == ("张三", "婚姻登记", 20)


def test_search_table_in_chinese_with_total(api: str, nodes: dict[str, Any]) -> None:
    result = invoke(
        "search", "--as", "330106", "--scope", "3301", "--year-from", "1990",
        "--year-to", "2020", "--limit", "2", "--offset", "1", "张三",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["档案", "题名", "年度", "门类", "开放状态", "馆藏单位"]
    assert "330106001/TD-2003-0002" in lines[2]
    assert "张三家庭土地承包合同" in lines[2] and "留下街道（330106001）" in lines[2]
    assert lines[-1] == "共 3 条，显示第 2–3 条，由 33 应答"
    query = nodes["330106"].queries[0]
    assert (query.scope, query.year_from, query.year_to) == ("3301", 1990, 2020)
    assert (query.limit, query.offset) == (2, 1)


def test_search_with_no_hits_says_so(api: str) -> None:
    result = invoke("search", "--as", "330106", "无此人")
    assert result.exit_code == 0
    assert result.stdout == "共 0 条，未找到匹配的档案，由 33 应答\n"


def test_api_option_overrides_environment(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_API", f"http://127.0.0.1:{free_port()}")
    assert invoke("search", "--api", api, "--as", "330106", "张三").exit_code == 0
    assert invoke("--api", api, "search", "--as", "330106", "张三").exit_code == 0


def test_connection_refused_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_NODE_API", raising=False)
    url = f"http://127.0.0.1:{free_port()}"
    line = one_error_line(invoke("search", "--api", url, "--as", "330106", "张三"))
    assert line == (
        f"错误: 无法连接 {url}：守护进程是否在运行？可用 --api 或 ARCHIVE_NODE_API 指定地址"
    )


def test_unknown_node_is_one_line_404_message(api: str) -> None:
    line = one_error_line(invoke("search", "--as", "330110", "张三"))
    assert "本服务未托管节点 330110" in line


def test_bad_parameters_from_the_api_are_one_line(api: str) -> None:
    line = one_error_line(invoke("search", "--as", "330106", "--year-from", "2020",
                                 "--year-to", "2000", "张三"))  # fmt: skip
    assert "起始年度 2020 晚于终止年度 2000" in line


def test_search_needs_words_or_a_filter(api: str) -> None:
    assert "请给出查询词" in one_error_line(invoke("search", "--as", "330106"))


def test_search_filters_and_the_next_page_by_cursor(api: str, nodes: dict[str, Any]) -> None:
    fakes = _fakes()
    nodes["330106"].entries.extend(
        fakes.entry("330106", f"W{i:02d}", f"王五档案{i}") for i in range(25)
    )
    args = ["search", "--as", "330106", "--retention", "永久", "--access", "open", "王五"]
    first = invoke(*args)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[-1] == "下一页：在同一命令后加 --cursor 20"
    query = nodes["330106"].queries[-1]
    assert (query.retention, query.access, query.cursor) == ("永久", "open", "")
    second = invoke(*args, "--cursor", "20")
    assert "共 25 条，本页 5 条" in second.stdout and "下一页" not in second.stdout
    assert nodes["330106"].queries[-1].cursor == "20"
    as_json = invoke(*args, "--json")
    assert len(as_json.stdout.splitlines()) == 20  # stdout: only the hits
    assert as_json.stderr == "下一页：--cursor 20\n"
    # the filters only, without words
    assert invoke("search", "--as", "330106", "--access", "controlled").exit_code == 0
    bad = invoke("search", "--as", "330106", "--retention", "永远", "王五")
    assert bad.exit_code != 0 and "永远" in bad.stderr


def test_fetch_saves_verified_file_under_its_own_name(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("fetch", "--as", "330106001001", "330106/HY-2015-0001")
    assert result.exit_code == 0, result.stderr
    saved = tmp_path / "结婚登记证明.pdf"
    data = saved.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert result.stdout == f"已保存 {saved}（{len(data)} 字节，sha256 {sha}）\n"
    assert [p.name for p in tmp_path.iterdir()] == ["结婚登记证明.pdf"]


def test_fetch_json_and_output_file(api: str, tmp_path: Path, nodes: dict[str, Any]) -> None:
    target = tmp_path / "copy.pdf"
    result = invoke("fetch", "--as", "330106001001", "-o", str(target), "--json",
                    "330106/HY-2015-0001")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    expected = nodes["330106001001"].contents["330106/HY-2015-0001"].data
    assert target.read_bytes() == expected
    assert json.loads(result.stdout) == {
        "holder": "330106",
        "record_id": "HY-2015-0001",
        "file": str(target),
        "sha256": hashlib.sha256(expected).hexdigest(),
        "bytes": len(expected),
        "media_type": "application/pdf",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.pdf"]


def test_fetch_to_stdout(api: str, nodes: dict[str, Any]) -> None:
    result = invoke("fetch", "--as", "330106", "-o", "-", "330106/HY-2015-0001")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == nodes["330106"].contents["330106/HY-2015-0001"].data
    assert result.stderr.startswith("已保存 -（")


@pytest.mark.parametrize("fault", ["wrong_sha256", "corrupt_after"])
def test_fetch_leaves_nothing_behind_when_content_is_wrong(
    api: str, tmp_path: Path, nodes: dict[str, Any], fault: str
) -> None:
    setattr(nodes["330106001001"], fault, True if fault == "wrong_sha256" else 10)
    result = invoke("fetch", "--as", "330106001001", "-o", str(tmp_path / "x.pdf"),
                    "330106/HY-2015-0001")  # fmt: skip
    line = one_error_line(result)
    assert "内容校验失败" in line or "下载" in line
    assert list(tmp_path.iterdir()) == []


def test_fetch_access_denied_is_one_line_403_message(api: str, nodes: dict[str, Any]) -> None:
    nodes["330106001001"].fetch_error = AccessDenied("档案 330106/SB-2010-0007 为控制使用")
    line = one_error_line(invoke("fetch", "--as", "330106001001", "330106/SB-2010-0007"))
    assert "控制使用" in line and "利用申请" in line


@pytest.mark.parametrize("ref", ["330106", "/X", "330106/", "abc/X", "330106/a/b"])
def test_fetch_rejects_a_malformed_reference(ref: str) -> None:
    assert one_error_line(invoke("fetch", "--as", "330106", ref))


def test_demo_and_run_call_through(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[Any, ...]] = []
    demo = types.ModuleType("node.demo")
    demo.run_demo = lambda *args: calls.append(("demo", *args))  # type: ignore[attr-defined]
    daemon = types.ModuleType("node.daemon")

    def run_config(path: Path) -> None:
        calls.append(("run", path))
        raise ConfigError("端口应为整数", "web.port")

    daemon.run_config = run_config  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "node.demo", demo)
    monkeypatch.setitem(sys.modules, "node.daemon", daemon)
    assert invoke("demo").exit_code == 0
    assert (
        invoke("demo", "--data", str(tmp_path), "--grpc-port", "1", "--web-port", "2").exit_code
        == 0
    )
    config = tmp_path / "node.toml"
    config.write_text("")
    line = one_error_line(invoke("run", "--config", str(config)))
    assert line == "错误: web.port: 端口应为整数"
    assert calls == [
        ("demo", None, 50051, 8080),
        ("demo", tmp_path, 1, 2),
        ("run", config),
    ]


def test_usage_errors_are_one_line_too() -> None:
    line = one_error_line(invoke("search", "张三"))
    assert "--as" in line and "archive-node search --help" in line


def test_audit_verify_names_the_first_bad_entry_and_fails(
    api: str, nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", "fake-token-archivist-330106-0123456789")
    audit = nodes["330106"].audit
    audit.add("account:wang@330106", "search", "33")
    ok = invoke("audit", "verify", "--as", "330106")
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith("330106 的审计日志完好：共 1 条")
    audit.finding = _fakes().AuditFinding(7, "deleted", "第 7 条日志缺失", 7)
    line = one_error_line(invoke("audit", "verify", "--as", "330106"))
    assert "第 7 条日志缺失" in line and "第一条有问题的日志：第 7 条" in line


def test_audit_list_filters_and_prints_a_table(
    api: str, nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", "fake-token-archivist-330106-0123456789")
    audit = nodes["330106"].audit
    audit.add("account:wang@330106", "fetch", "330106/R-1", '{"file": "1.pdf"}')
    audit.add("account:li@330106", "search", "33")
    result = invoke("audit", "list", "--as", "330106", "--person", "wang", "--act", "fetch")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["序号", "时间", "人员", "操作", "对象", "详情"]
    assert "330106/R-1" in lines[1] and "li@" not in result.stdout
    query = audit.queries[-1]
    assert (query.actor, query.act) == ("wang", "fetch")


def _operator_token() -> str:
    return "fake-token-operator-330106-0123456789"  # fake_accounts.token("330106", OPERATOR)


def test_account_bootstrap_offline_against_the_data_folder(tmp_path: Path) -> None:
    from node.crypto import SigningKey
    from node.federation.trust.files import key_path
    from node.node import offline_accounts

    SigningKey.generate().save(key_path(tmp_path / "330106"))
    where = ["--data", str(tmp_path), "--node", "330106"]
    made = CliRunner().invoke(
        cli, ["account", "create", *where, "--role", "operator", "--password-stdin", "wang"],
        input="correct horse battery\n",
    )  # fmt: skip
    assert made.exit_code == 0 and "已在 330106 开设账号 wang" in made.output, made.output
    issued = CliRunner().invoke(cli, ["account", "token", *where, "wang"])
    assert issued.exit_code == 0 and "只显示这一次" in issued.stderr
    token = issued.stdout.strip()

    async def check() -> tuple[str, bool]:
        async with offline_accounts(tmp_path, "330106") as accounts:
            actor = await accounts.token_actor(token)
            session = await accounts.login("wang", "correct horse battery", "127.0.0.1")
            return actor.name, session.actor.has(Role.OPERATOR)

    assert asyncio.run(check()) == ("wang", True)
    again = CliRunner().invoke(
        cli, ["account", "create", *where, "--role", "clerk", "--password-stdin", "wang"],
        input="another password\n",
    )  # fmt: skip
    assert "已存在" in one_error_line(again)


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (
            ["--data", "nowhere", "--node", "330106", "--role", "operator"],
            "long enough!",
            "node.key",
        ),
        (["--data", ".", "--node", "330106", "--as", "330106", "--role", "clerk"], "", "--as"),
        (["--role", "clerk"], "", "--as CODE"),
    ],
)
def test_account_create_mistakes_are_one_line(args: list[str], stdin: str, words: str) -> None:
    result = CliRunner().invoke(
        cli, ["account", "create", *args, "--password-stdin", "wang"], input=stdin + "\n"
    )
    assert words in one_error_line(result)


def test_online_account_commands_send_the_token(
    api: str, monkeypatch: pytest.MonkeyPatch, nodes: dict[str, Any]
) -> None:
    monkeypatch.delenv("ARCHIVE_NODE_TOKEN", raising=False)
    refused = one_error_line(invoke("account", "list", "--as", "330106"))
    assert "--token" in refused and "archive-node account token" in refused
    listed = invoke("account", "list", "--as", "330106", "--token", _operator_token())
    assert listed.exit_code == 0 and "archivist" in listed.output and "档案员" in listed.output
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", _operator_token())
    made = CliRunner().invoke(
        cli, ["account", "create", "--as", "330106", "--role", "clerk", "--password-stdin", "li"],
        input="a long password\n",
    )  # fmt: skip
    assert made.exit_code == 0 and "已在 330106 开设账号 li" in made.output, made.output
    assert nodes["330106"].accounts.passwords["li"] == "a long password"
    granted = invoke("account", "grant", "--as", "330106", "li", "archivist")
    assert granted.exit_code == 0 and "clerk, archivist" in granted.output
    clerk = "fake-token-clerk-330106-0123456789"
    line = one_error_line(invoke("account", "list", "--as", "330106", "--token", clerk))
    assert "operator" in line and "角色" in line


CITIZEN_DIGITS = "330110196603150027"  # synthetic, valid check digit


def test_search_by_id_number_reads_it_from_stdin_and_posts_it(
    api: str, nodes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", "fake-token-clerk-330106001001-0123456789")
    village = nodes["330106001001"]
    village.subjects_by_id[CITIZEN_DIGITS] = ("330106/HY-2015-0001",)
    result = CliRunner().invoke(
        cli,
        ["search", "--as", "330106001001", "--id-number", "-", "--json"],
        input=CITIZEN_DIGITS + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["ref"] for line in result.stdout.splitlines()] == [
        "330106/HY-2015-0001"
    ]
    (number,) = village.id_searches
    assert number.digits == CITIZEN_DIGITS
    assert CITIZEN_DIGITS not in result.stdout + result.stderr


def test_search_refuses_an_id_number_on_the_command_line(api: str) -> None:
    result = invoke("search", "--as", "330106001001", "--id-number", CITIZEN_DIGITS)
    line = one_error_line(result)
    assert "--id-number -" in line and CITIZEN_DIGITS not in line


def test_search_by_a_wrong_id_number_is_one_chinese_line(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", "fake-token-clerk-330106001001-0123456789")
    wrong = CITIZEN_DIGITS[:-1] + "1"
    result = CliRunner().invoke(
        cli, ["search", "--as", "330106001001", "--id-number", "-"], input=wrong + "\n"
    )
    line = one_error_line(result)
    assert "校验位" in line and wrong not in line


def test_registry_rotate_index_key_below_the_province_is_refused(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_NODE_TOKEN", _operator_token())
    line = one_error_line(invoke("registry", "rotate-index-key", "--as", "330106"))
    assert "省级根注册节点" in line
    shown = invoke("registry", "index-keys", "--as", "330106")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["newest_version"] == 1
