"""providers/runner.py end to end: unmodified pywinrm against the simulator's WS-Man server."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import logging
import pickle
import shutil
import ssl
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
import winrm
from pydantic import ValidationError
from winrm.exceptions import WinRMOperationTimeoutError
from winrm.protocol import Protocol

from providers import runner as runner_module
from providers import runner_wire
from providers.runner import NodeConnection, RemoteOperationError, RunnerConfig, WinRmRunner, load_script
from providers.runner_transport import build_protocol
from simulator.powershell.syntax import check
from simulator.shell import SimulatedShell, StandInHost
from simulator.wsman import Directive, TlsMaterial, WsManServer
from simulator.wsman.backend import PreparedCommand, Session

USER, PASSWORD = "CORP\\svc-runner", "Runn3r-Pa55word!"
LOCAL_USER, LOCAL_PASSWORD = "runner-local", "L0cal-Runn3r-Pa55!"  # Basic logs on local accounts only
SECRET = "Sup3r-S3cret-Value-42"
STANDIN = Path(__file__).parent / "data" / "standin"
ECHO = (STANDIN / "echo.ps1").read_text(encoding="utf-8")
FAIL = (STANDIN / "fail.ps1").read_text(encoding="utf-8")
SLEEP = (STANDIN / "sleep.ps1").read_text(encoding="utf-8")
HOSTILE = (
    'it\'s "quoted" `$(Remove-Item C:\\ -Recurse)` ; & | >nul\r\nnext line\ttab \x1b[31m Ünïcødé ✓ 日本 😀'
)
FAST = RunnerConfig(
    operation_timeout_s=2,
    read_timeout_s=5,
    deadline_s=20,
    retry_attempts=3,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
    backoff_jitter_s=0.0,
)


@pytest.fixture
def host() -> StandInHost:
    return StandInHost(sleep_seconds=0.1)


@pytest.fixture
def make_server(host: StandInHost) -> Iterator[Callable[..., WsManServer]]:
    servers: list[WsManServer] = []

    def make(**options: Any) -> WsManServer:
        users = {USER: PASSWORD, LOCAL_USER: LOCAL_PASSWORD}
        server = WsManServer("MSSNODE1", SimulatedShell(host), users, **options).start()
        servers.append(server)
        return server

    yield make
    runner_module.CONNECTIONS.clear()  # the pooled connections to these servers go with them
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls(ca: trustme.CA) -> TlsMaterial:
    cert = ca.issue_cert("127.0.0.1")
    return TlsMaterial(b"".join(p.bytes() for p in cert.cert_chain_pems), cert.private_key_pem.bytes())


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def node(server: WsManServer, **options: Any) -> NodeConnection:
    fields: dict[str, Any] = {
        "name": "MSSNODE1",
        "endpoint": server.url,
        "transport": "ntlm",
        "username": USER,
        "password": PASSWORD,
        "allow_http": server.url.startswith("http:"),
    }
    fields.update(options)
    return NodeConnection(**fields)


def fingerprint(tls: TlsMaterial, algorithm: str) -> str:
    der = ssl.PEM_cert_to_DER_cert(tls.certificate_chain_pem.decode())
    return hashlib.new(algorithm, der).hexdigest()


def commands(server: WsManServer) -> int:
    return server.counters.snapshot().actions.count("Command")


def handshake_requests(server: WsManServer) -> int:
    """HTTP requests that carried no SOAP action: NTLM's 401 legs and the empty POST that sets up encryption."""
    counts = server.counters.snapshot()
    return counts.http_requests - len(counts.actions)


def counting(built: list[Protocol]) -> Callable[[NodeConnection, RunnerConfig], Protocol]:
    """A protocol factory that notes every new (to-be-authenticated) connection; a key of its own in the pool."""

    def factory(connection: NodeConnection, config: RunnerConfig) -> Protocol:
        protocol = build_protocol(connection, config)
        built.append(protocol)
        return protocol

    return factory


# --- the wire --------------------------------------------------------------------------------------


def test_bootstrap_parses_and_its_command_line_fits_cmd_exe_with_room_to_spare() -> None:
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    assert check(bootstrap) is None
    assert bootstrap.splitlines()[0] == "# entsso-bootstrap v2"
    # cmd.exe's 8,191 characters, with room left for the bootstrap to grow (issue 12, finding 23).
    assert len(runner_wire.bootstrap_command_line()) <= 8191 - 1500


def test_the_envelope_carries_the_script_library() -> None:
    document = json.loads(base64.b64decode(runner_wire.envelope("echo", "param()", {})).decode("utf-8"))
    assert list(document) == ["v", "operation", "library", "script", "parameters"]
    assert document["library"] == runner_wire.LIBRARY_PATH.read_text(encoding="utf-8")
    assert "function Invoke-Delegated" in document["library"]


def test_the_envelope_is_base64_json_and_refuses_names_that_differ_only_in_case() -> None:
    stdin = runner_wire.envelope("echo", "param()", {"Text": HOSTILE})
    assert stdin.endswith(b"\r\n")
    assert stdin.isascii()
    assert base64.b64decode(stdin).decode("utf-8").startswith('{"v": 1, "operation": "echo"')
    with pytest.raises(ValueError, match="differ only in case"):
        runner_wire.envelope("echo", "param()", {"Text": "a", "TEXT": "b"})


def test_pywinrm_run_ps_gets_powershell_errors_it_can_clean(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    session = winrm.Session(server.url, auth=(USER, PASSWORD), transport="ntlm")
    unknown = session.run_ps("Get-Service ENTSSO")
    assert unknown.status_code == 1
    assert unknown.std_err.decode().startswith("Get-Service : The term 'Get-Service' is not recognized")
    broken = session.run_ps("if ($true) {")
    assert (
        broken.std_err.decode().splitlines()[3]
        == "Missing closing '}' in statement block or type definition."
    )


# --- transports ------------------------------------------------------------------------------------


def test_http_basic_runs_a_script_and_the_command_line_is_only_the_bootstrap(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    # `winrm set winrm/config/service/auth @{Basic="true"}` and `... service @{AllowUnencrypted="true"}`
    server = make_server(mechanisms={"basic"}, allow_unencrypted=True)
    basic = node(server, transport="basic", username=LOCAL_USER, password=LOCAL_PASSWORD)
    with WinRmRunner(FAST).session(basic, "create echo") as remote:
        answer = remote.run("echo", ECHO, {"Text": "hello", "Count": 3})
    assert answer["Text"] == "hello"
    assert answer["Count"] == 3
    counts = server.counters.snapshot()
    assert counts.command_lines == (("powershell.exe", (" ".join(runner_wire.bootstrap_arguments()),)),)
    # Done after one Receive: no terminate Signal, the shell's Delete releases the command.
    assert counts.actions == ("Create", "Command", "Send", "Receive", "Delete")


def test_http_ntlm_encrypts_every_message(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()  # Windows' default: AllowUnencrypted=false
    with WinRmRunner(FAST).session(node(server), "read echo") as remote:
        assert remote.run("echo", ECHO, {"Text": "x"})["Text"] == "x"
    counts = server.counters.snapshot()
    assert counts.plaintext_messages == 0
    assert counts.encrypted_messages >= 5


def test_one_shell_serves_every_script_of_a_resource_operation(
    make_server: Callable[..., WsManServer],
) -> None:
    server = make_server()
    with WinRmRunner(FAST).session(node(server), "update") as remote:
        for count in range(3):
            assert remote.run("echo", ECHO, {"Text": "x", "Count": count})["Count"] == count
    counts = server.counters.snapshot()
    assert (counts.shells_created, counts.commands_run, counts.actions[-1]) == (1, 3, "Delete")


def test_https_ntlm_with_channel_binding_validates_the_certificate(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_bundle: Path
) -> None:
    server = make_server(tls=tls)
    with WinRmRunner(FAST).session(node(server, ca_bundle=ca_bundle), "create") as remote:
        assert remote.run("echo", ECHO, {"Text": "over tls"})["Text"] == "over tls"
    assert server.counters.snapshot().tls_requests > 0


def test_an_unknown_ca_is_refused_without_retrying(
    make_server: Callable[..., WsManServer], tls: TlsMaterial
) -> None:
    server = make_server(tls=tls)
    with (
        pytest.raises(RemoteOperationError) as failed,
        WinRmRunner(FAST).session(node(server), "create") as remote,
    ):
        remote.run("echo", ECHO, {"Text": "x"})
    assert (failed.value.kind, failed.value.attempts) == ("certificate", 1)
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert server.counters.snapshot().http_requests == 0


@pytest.mark.parametrize("algorithm", ["sha256", "sha1"])
def test_a_pinned_thumbprint_is_accepted(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, algorithm: str
) -> None:
    server = make_server(tls=tls)
    pinned = node(server, validation="pin", thumbprint=fingerprint(tls, algorithm).upper())
    with WinRmRunner(FAST).session(pinned, "create") as remote:
        assert remote.run("echo", ECHO, {"Text": "pinned"})["Text"] == "pinned"


def test_a_wrong_thumbprint_is_refused(make_server: Callable[..., WsManServer], tls: TlsMaterial) -> None:
    server = make_server(tls=tls)
    wrong = "ab" * 32
    with pytest.raises(RemoteOperationError) as failed:
        _run_echo(node(server, validation="pin", thumbprint=wrong))
    assert (failed.value.kind, failed.value.attempts) == ("certificate", 1)
    assert "Fingerprints did not match" in failed.value.message
    assert server.counters.snapshot().http_requests == 0


def _run_echo(
    connection: NodeConnection, runner: WinRmRunner | None = None, **parameters: object
) -> dict[str, object]:
    with (runner or WinRmRunner(FAST)).session(connection, "test") as remote:
        return remote.run("echo", ECHO, {"Text": "x", **parameters})


def test_credssp_delegates_the_credentials(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server(mechanisms={"credssp", "negotiate", "ntlm"})  # Enable-WSManCredSSP -Role Server
    assert _run_echo(node(server, transport="credssp"))["Text"] == "x"
    assert server.counters.snapshot().commands_run == 1


# --- failures --------------------------------------------------------------------------------------


def test_plain_http_is_refused_before_any_request(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    with pytest.raises(ValidationError, match="plain http"):
        node(server, allow_http=False)
    assert server.counters.snapshot().http_requests == 0


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"validation": "pin"}, "needs the thumbprint"),
        ({"validation": "pin", "thumbprint": "12:34"}, "SHA-1"),
        ({"validation": "ignore"}, "allow_insecure"),
        ({"thumbprint": "ab" * 20}, "only used with validation=pin"),
        ({"username": ""}, "needs a username"),
    ],
)
def test_unsafe_or_incomplete_connections_are_refused(options: dict[str, Any], complaint: str) -> None:
    fields: dict[str, Any] = {"name": "N1", "endpoint": "https://10.0.0.4:5986/wsman", "username": USER}
    with pytest.raises(ValidationError, match=complaint):
        NodeConnection(**{**fields, **options})


def test_a_bad_password_fails_at_once_without_retrying(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    with pytest.raises(RemoteOperationError) as failed:
        _run_echo(node(server, password="wrong-password"))
    error = failed.value
    assert (error.kind, error.attempts, error.exit_code) == ("auth", 1, None)
    assert USER in str(error)
    assert "wrong-password" not in str(error)
    assert server.counters.snapshot().shells_created == 0


def test_a_script_error_is_not_retried(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    with (
        pytest.raises(RemoteOperationError) as failed,
        WinRmRunner(FAST).session(node(server), "x") as remote,
    ):
        remote.run("fail", FAIL, {"Message": "SSO is not configured", "ErrorId": "SsoNotConfigured"})
    error = failed.value
    assert (error.kind, error.exit_code, error.error_id, error.category) == (
        "script",
        1,
        "SsoNotConfigured",
        "InvalidOperation",
    )
    assert str(error).startswith(
        "fail on MSSNODE1 failed (script, exit code 1, SsoNotConfigured, line 11): SSO is not"  # fail.ps1's Write-Error
    )
    assert commands(server) == 1


def test_the_error_survives_pickling_with_its_details() -> None:
    error = RemoteOperationError("N1", "sso_get", 1, "boom", "script", error_id="X", line=3, attempts=2)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (str(copy), copy.kind, copy.error_id, copy.line) == (str(error), "script", "X", 3)


def test_a_refused_parameter_is_a_script_error_naming_it(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    with pytest.raises(RemoteOperationError) as failed:
        _run_echo(node(server), Colour="red")
    assert failed.value.error_id == "NamedParameterNotFound"
    assert "'Colour'" in failed.value.message
    assert commands(server) == 1


def test_a_hung_command_ends_at_the_deadline(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server()
    host.plan("sleep", Directive(hang=True))
    config = FAST.model_copy(update={"operation_timeout_s": 1, "read_timeout_s": 3, "deadline_s": 1.5})
    with (
        pytest.raises(RemoteOperationError) as failed,
        WinRmRunner(config).session(node(server), "x") as remote,
    ):
        remote.run("sleep", SLEEP, {})
    assert failed.value.kind == "timeout"
    assert "timed out after 1.5 s" in str(failed.value)
    actions = server.counters.snapshot().actions
    assert actions[-2:] == ("Signal", "Delete")
    assert commands(server) == 1


def test_operation_timeouts_while_running_are_waited_out(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server()
    host.plan("echo", Directive(timeouts=3))
    assert _run_echo(node(server))["Text"] == "x"
    assert (commands(server), server.counters.snapshot().actions.count("Receive")) == (1, 4)


@pytest.mark.parametrize(
    ("fault", "runs"),
    [
        (Directive(reset_before=True), 1),  # the connection drops on the last Send: the command never ran
        (Directive(http_500=True), 1),
        (Directive(reset_after=True), 2),  # it ran, the answer was lost: the idempotent script runs again
    ],
)
def test_a_transient_fault_is_retried_in_a_fresh_shell(
    make_server: Callable[..., WsManServer],
    host: StandInHost,
    caplog: pytest.LogCaptureFixture,
    fault: Directive,
    runs: int,
) -> None:
    server = make_server()
    host.plan("echo", fault)
    with caplog.at_level(logging.WARNING, logger="entsso.runner"):
        assert _run_echo(node(server))["Text"] == "x"
    counts = server.counters.snapshot()
    assert (commands(server), counts.commands_run, counts.shells_created) == (2, runs, 2)
    assert "transient fault" in caplog.text


def test_transient_faults_give_up_after_the_configured_attempts(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server()
    host.plan("echo", *[Directive(http_500=True)] * 5)
    with pytest.raises(RemoteOperationError) as failed:
        _run_echo(node(server))
    assert (failed.value.kind, failed.value.attempts) == ("transport", 3)
    assert "WS-Management fault 1359" in failed.value.message
    assert commands(server) == 3


def test_an_operation_timeout_storm_at_shell_creation_is_retried(
    make_server: Callable[..., WsManServer],
) -> None:
    server = make_server()
    storms = iter([True, True])

    def stormy(connection: NodeConnection, config: RunnerConfig) -> Protocol:
        protocol = build_protocol(connection, config)
        if next(storms, False):

            def refuse(*args: object, **kwargs: object) -> str:
                raise WinRMOperationTimeoutError()

            protocol.open_shell = refuse  # type: ignore[method-assign]
        return protocol

    assert _run_echo(node(server), WinRmRunner(FAST, protocol_factory=stormy))["Text"] == "x"
    assert server.counters.snapshot().shells_created == 1


# --- secrets and hostile values --------------------------------------------------------------------


def test_a_hostile_parameter_arrives_unchanged(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server()
    items = [HOSTILE, "", "'", '"', "\\", "$null"]
    answer = _run_echo(node(server), Text=HOSTILE, Items=items, Data={"nested": {"value": HOSTILE}})
    assert (answer["Text"], answer["Items"], answer["Data"]) == (
        HOSTILE,
        items,
        {"nested": {"value": HOSTILE}},
    )
    assert host.invocations[0][2]["Text"] == HOSTILE


def test_secrets_stay_out_of_command_lines_errors_and_logs(
    make_server: Callable[..., WsManServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server()
    failing = {"Message": f"logon failed for password {SECRET}", "Secret": SECRET}
    with caplog.at_level(logging.DEBUG), WinRmRunner(FAST).session(node(server), "create") as remote:
        assert remote.run("echo", ECHO, {"Text": "x", "Secret": SECRET}, {"secret"})["Secret"] == SECRET
        with pytest.raises(RemoteOperationError) as failed:
            remote.run("fail", FAIL, failing, {"Secret"})
    recorded = repr(server.counters.snapshot().command_lines)
    for secret in (SECRET, PASSWORD):
        assert secret not in recorded
        assert secret not in str(failed.value)
        assert secret not in repr(failed.value.args)
        assert secret not in caplog.text
    assert "logon failed for password ***" in str(failed.value)


def test_masking_covers_escaped_forms_and_clixml_stderr() -> None:
    secret = 'pa"ss\\wörd'
    masker = runner_wire.Masker(
        runner_wire.Masker.values({"Password": [secret], "Other": "visible"}, ["password"])
    )
    clixml = (
        b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        b'<S S="Error">bad value pa"ss\\w\xc3\xb6rd_x000D__x000A_</S></Objs>'
    )
    assert masker(runner_wire.stderr_text(clixml)) == "bad value ***"
    assert masker('{"p": "pa\\"ss\\\\w\\u00f6rd"} visible') == '{"p": "***"} visible'


# --- scripts by name -------------------------------------------------------------------------------


def test_run_script_loads_providers_scripts_by_operation_name(
    make_server: Callable[..., WsManServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server()
    shutil.copy(STANDIN / "echo.ps1", tmp_path / "echo.ps1")
    monkeypatch.setattr(runner_module, "SCRIPTS_DIR", tmp_path)
    assert WinRmRunner(FAST).run_script(node(server), "echo", {"Text": "by name"})["Text"] == "by name"
    with pytest.raises(ValueError, match="not an operation name"):
        load_script("../bootstrap")


def test_a_large_script_travels_in_several_sends(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    big = ECHO + "\n# " + "padding " * 40_000 + "\n"
    with WinRmRunner(FAST).session(node(server), "create") as remote:
        assert remote.run("echo", big, {"Text": "big"})["Text"] == "big"
    assert server.counters.snapshot().actions.count("Send") > 2


# --- connections kept between resource operations ----------------------------------------------------


def test_sessions_on_a_node_share_one_authenticated_connection(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()  # NTLM with message encryption over http
    for count in range(3):
        assert _run_echo(node(server), Count=count)["Count"] == count
    counts = server.counters.snapshot()
    assert handshake_requests(server) == 3  # one NTLM handshake (401, challenge, authenticate): not three
    assert counts.shells_created == 3 and counts.actions.count("Delete") == 3  # still a shell per session
    assert counts.plaintext_messages == 0
    assert runner_module.CONNECTIONS.idle(WinRmRunner(FAST).pool_key(node(server))) == 1


def test_https_connections_are_reused_with_their_channel_binding(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_bundle: Path
) -> None:
    server = make_server(tls=tls)
    built: list[Protocol] = []
    runner = WinRmRunner(FAST, protocol_factory=counting(built))
    for text in ("one", "two"):
        assert _run_echo(node(server, ca_bundle=ca_bundle), runner, Text=text)["Text"] == text
    assert len(built) == 1
    assert handshake_requests(server) == 2  # 401 and challenge; the authenticate leg carries the first Create


def test_a_pooled_connection_never_serves_another_password(make_server: Callable[..., WsManServer]) -> None:
    server = make_server()
    assert _run_echo(node(server))["Text"] == "x"
    with pytest.raises(RemoteOperationError) as failed:
        _run_echo(node(server, password="wrong-password"))
    assert (failed.value.kind, failed.value.attempts) == ("auth", 1)
    assert server.counters.snapshot().shells_created == 1  # the wrong password opened nothing
    # and the connection of the right one was closed, not kept
    assert runner_module.CONNECTIONS.idle(WinRmRunner(FAST).pool_key(node(server))) == 0


@pytest.mark.parametrize(
    "fault", [Directive(reset_after=True), Directive(reset_before=True), Directive(http_500=True)]
)
def test_a_connection_that_met_a_fault_is_closed_and_the_retry_authenticates_anew(
    make_server: Callable[..., WsManServer], host: StandInHost, fault: Directive
) -> None:
    server = make_server()
    built: list[Protocol] = []
    runner = WinRmRunner(FAST, protocol_factory=counting(built))
    assert _run_echo(node(server), runner)["Text"] == "x"
    first = built[0]
    host.plan("echo", fault)
    assert _run_echo(node(server), runner)["Text"] == "x"  # on the pooled connection, then on a new one
    assert len(built) == 2
    assert first.transport.session is None  # closed after the fault, never pooled again
    assert _run_echo(node(server), runner)["Text"] == "x"  # the retry's healthy connection serves the next
    assert len(built) == 2 and runner_module.CONNECTIONS.idle(runner.pool_key(node(server))) == 1


@pytest.mark.parametrize("noticed", [True, False], ids=["seen-closed-at-check-out", "closed-after-check-out"])
def test_a_pooled_connection_the_node_closed_is_replaced(
    make_server: Callable[..., WsManServer], monkeypatch: pytest.MonkeyPatch, noticed: bool
) -> None:
    built: list[Protocol] = []
    runner = WinRmRunner(FAST, protocol_factory=counting(built))
    before = make_server()
    assert _run_echo(node(before), runner)["Text"] == "x"
    port = int(before.url.rsplit(":", 1)[1].split("/", 1)[0])
    before.stop()  # the WinRM service restarts: its connections are gone
    after = make_server(port=port)
    if not noticed:  # the node closes it between the pool's look and the first request
        monkeypatch.setattr(runner_module, "_connection_alive", lambda _protocol: True)
    assert _run_echo(node(after), runner)["Text"] == "x"  # neither an auth error nor a retry
    assert len(built) == 2 and after.counters.snapshot().shells_created == 1
    assert built[0].transport.session is None
    # A fresh handshake (3 requests); when the pool could not tell, the old connection's one try first
    # (a 401, then requests-ntlm's two legs whose message, sealed for the old context, the node refuses).
    assert handshake_requests(after) == (3 if noticed else 6)


def test_idle_connections_expire(
    make_server: Callable[..., WsManServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server()
    built: list[Protocol] = []
    runner = WinRmRunner(FAST, protocol_factory=counting(built))
    monkeypatch.setattr(runner_module.CONNECTIONS, "idle_limit_s", -1.0)
    _run_echo(node(server), runner)
    _run_echo(node(server), runner)
    assert len(built) == 2 and built[0].transport.session is None


def test_provider_threads_share_the_pool_one_user_per_connection(
    make_server: Callable[..., WsManServer],
) -> None:
    server = make_server()
    built: list[Protocol] = []
    runner = WinRmRunner(FAST, protocol_factory=counting(built))
    answers: list[object] = []
    problems: list[BaseException] = []

    def provider_thread(index: int) -> None:
        try:
            for count in range(3):
                answers.append(_run_echo(node(server), runner, Text=f"t{index}", Count=count)["Text"])
        except BaseException as problem:  # reported below, in the test's thread
            problems.append(problem)

    threads = [threading.Thread(target=provider_thread, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert problems == []
    assert sorted(map(str, answers)) == sorted(f"t{index}" for index in range(4) for _ in range(3))
    assert 1 <= len(built) <= 4  # never more connections than threads using them at once
    assert server.counters.snapshot().shells_created == 12
    assert runner_module.CONNECTIONS.idle(runner.pool_key(node(server))) == len(built)


class _Watching:
    """A node's shell backend that keeps a weak reference to every command it prepares."""

    def __init__(self, inner: SimulatedShell) -> None:
        self.inner = inner
        self.prepared: list[weakref.ref[PreparedCommand]] = []

    def request_delay(self) -> float:
        return self.inner.request_delay()

    def prepare(self, session: Session, command: str, arguments: list[str], stdin: bytes) -> PreparedCommand:
        prepared = self.inner.prepare(session, command, arguments, stdin)
        self.prepared.append(weakref.ref(prepared))
        return prepared


def test_no_signal_after_done_and_deleting_the_shell_frees_its_commands(host: StandInHost) -> None:
    watching = _Watching(SimulatedShell(host))
    with WsManServer("MSSNODE1", watching, {USER: PASSWORD}) as server:
        with WinRmRunner(FAST).session(node(server), "update") as remote:
            remote.run("echo", ECHO, {"Text": "a"})
            remote.run("echo", ECHO, {"Text": "b"})
            assert server.shells.open_commands() == 2  # Done, not signalled: the shell holds them
        assert server.shells.open_commands() == 0
        gc.collect()
        assert len(watching.prepared) == 2 and all(ref() is None for ref in watching.prepared)
        assert server.counters.snapshot().actions == (
            "Create",
            "Command",
            "Send",
            "Receive",
            "Command",
            "Send",
            "Receive",
            "Delete",
        )
        runner_module.CONNECTIONS.clear()


def test_the_deadline_still_signals_the_command_and_closes_the_connection(
    make_server: Callable[..., WsManServer], host: StandInHost
) -> None:
    server = make_server()
    host.plan("sleep", Directive(hang=True))
    built: list[Protocol] = []
    config = FAST.model_copy(update={"operation_timeout_s": 1, "read_timeout_s": 3, "deadline_s": 1.5})
    runner = WinRmRunner(config, protocol_factory=counting(built))
    with pytest.raises(RemoteOperationError) as failed, runner.session(node(server), "x") as remote:
        remote.run("sleep", SLEEP, {})
    assert failed.value.kind == "timeout"
    assert server.counters.snapshot().actions[-2:] == ("Signal", "Delete")
    assert server.shells.open_commands() == 0
    assert built[0].transport.session is None and runner_module.CONNECTIONS.idle(runner.pool_key(node(server))) == 0
