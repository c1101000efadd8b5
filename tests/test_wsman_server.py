"""The simulator's WS-Management server against unmodified pywinrm 0.5.0 and pypsrp 0.9.1.

A server made with no options has the WinRM service's default configuration (Basic and CredSSP off,
AllowUnencrypted false, CbtHardeningLevel Relaxed); a test that needs more says so, as `winrm set` would.
"""

from __future__ import annotations

import base64
import random
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import spnego
import trustme
import winrm
import xmltodict  # type: ignore[import-untyped]
from pypsrp.client import Client
from pypsrp.exceptions import AuthenticationError as PsrpAuthError
from pypsrp.exceptions import WSManFaultError as PsrpFault
from requests_credssp.exceptions import AuthenticationException, NTStatusException
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from simulator.wsman import Directive, Outcome, Session, TlsMaterial, WsManServer
from simulator.wsman.auth import MECHANISMS, channel_bindings

USERS = {"CORP\\svc-wsman": "Inst4ll-Secr3t!", "localadmin": "L0cal-Adm1n!"}
SVC, SVC_PASSWORD = "CORP\\svc-wsman", "Inst4ll-Secr3t!"
LOCAL, LOCAL_PASSWORD = "localadmin", "L0cal-Adm1n!"
ALL = MECHANISMS  # `winrm set winrm/config/service/auth @{Basic="true";CredSSP="true"}`
SHELL_NOT_FOUND = 2150858843
CMD_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"


def big_output(size: int) -> bytes:
    return random.Random(size).randbytes(size)


@dataclass
class Prepared:
    directive: Directive
    operation: str | None
    outcome: Outcome
    backend: EchoBackend

    def execute(self) -> Outcome:
        self.backend.executed += 1
        return self.outcome


@dataclass
class EchoBackend:
    """Test double of simulator/shell: `big N` prints N bytes, `exit N` exits N, anything else echoes."""

    directives: dict[str, Directive] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    stdins: list[bytes] = field(default_factory=list)
    executed: int = 0
    delay_calls: int = 0

    def prepare(self, session: Session, command: str, arguments: list[str], stdin: bytes) -> Prepared:
        self.sessions.append(session)
        self.stdins.append(stdin)
        if not arguments:  # pypsrp sends "big 20000" as one Command, as cmd.exe would see it
            command, *arguments = command.split(" ")
        if command == "big":
            outcome = Outcome(big_output(int(arguments[0])), b"", 0)
        elif command == "exit":
            outcome = Outcome(b"", b"leaving\r\n", int(arguments[0]))
        else:
            outcome = Outcome(stdin or " ".join([command, *arguments]).encode(), b"", 0)
        return Prepared(self.directives.get(command, Directive()), None, outcome, self)

    def request_delay(self) -> float:
        self.delay_calls += 1
        return 0.0


@pytest.fixture
def backend() -> EchoBackend:
    return EchoBackend()


@pytest.fixture
def make_server(backend: EchoBackend) -> Iterator[Callable[..., WsManServer]]:
    servers: list[WsManServer] = []

    def make(**options: Any) -> WsManServer:
        options.setdefault("users", USERS)
        server = WsManServer("MSSNODE1", options.pop("backend", backend), **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., WsManServer]) -> WsManServer:
    return make_server()  # Windows' defaults: AllowUnencrypted=false


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls(ca: trustme.CA) -> TlsMaterial:
    cert = ca.issue_cert("127.0.0.1")
    return TlsMaterial(b"".join(p.bytes() for p in cert.cert_chain_pems), cert.private_key_pem.bytes())


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def protocol(server: WsManServer, user: str = SVC, password: str = SVC_PASSWORD, **kw: Any) -> Protocol:
    kw.setdefault("transport", "ntlm")
    return Protocol(server.url, username=user, password=password, **kw)


def session(server: WsManServer, user: str = SVC, password: str = SVC_PASSWORD, **kw: Any) -> winrm.Session:
    kw.setdefault("transport", "ntlm")
    return winrm.Session(server.url, auth=(user, password), **kw)


def port_of(server: WsManServer) -> int:
    return int(server.url.rsplit(":", 1)[1].split("/")[0])


# --- transports and authentication ---------------------------------------------------------------


def test_run_cmd_over_http_basic(make_server: Callable[..., WsManServer], backend: EchoBackend) -> None:
    server = make_server(mechanisms=ALL, allow_unencrypted=True)
    result = session(server, LOCAL, LOCAL_PASSWORD, transport="basic").run_cmd("ipconfig", ["/all"])
    assert (result.status_code, result.std_out) == (0, b"ipconfig /all")
    assert backend.sessions == [
        Session("MSSNODE1", LOCAL, "basic", encrypted=False, delegated=False, account="MSSNODE1\\localadmin")
    ]
    assert server.counters.snapshot().actions == ("Create", "Command", "Receive", "Signal", "Delete")


def test_basic_is_off_by_default_even_over_https(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls)  # Service/Auth/Basic = false
    client = session(server, LOCAL, LOCAL_PASSWORD, transport="ssl", ca_trust_path=ca_file)
    with pytest.raises(InvalidCredentialsError):
        client.run_cmd("hostname")
    assert server.counters.snapshot().shells_created == 0


def test_basic_over_plain_http_is_refused_like_allow_unencrypted_false(
    make_server: Callable[..., WsManServer],
) -> None:
    server = make_server(mechanisms=ALL)  # Basic on, AllowUnencrypted left at false
    with pytest.raises(InvalidCredentialsError):
        session(server, LOCAL, LOCAL_PASSWORD, transport="basic").run_cmd("ipconfig")
    assert server.counters.snapshot().shells_created == 0


def test_basic_is_for_local_accounts_only(
    make_server: Callable[..., WsManServer], backend: EchoBackend, tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(mechanisms=ALL, tls=tls)
    with pytest.raises(InvalidCredentialsError):  # the right password of a domain account: still 401
        session(server, transport="ssl", ca_trust_path=ca_file).run_cmd("hostname")
    assert server.counters.snapshot().shells_created == 0
    local = session(server, LOCAL, LOCAL_PASSWORD, transport="ssl", ca_trust_path=ca_file)
    assert local.run_cmd("hostname").status_code == 0
    assert backend.sessions[0].account == "MSSNODE1\\localadmin"


def test_ntlm_over_http_encrypts_every_message(server: WsManServer, backend: EchoBackend) -> None:
    result = session(server).run_cmd("hostname")
    assert result.std_out == b"hostname"
    counts = server.counters.snapshot()
    assert (counts.encrypted_messages, counts.plaintext_messages) == (5, 0)
    assert backend.sessions[0] == Session(
        "MSSNODE1", SVC, "ntlm", encrypted=True, delegated=False, account="CORP\\svc-wsman"
    )


def test_plaintext_soap_after_ntlm_is_refused_without_allow_unencrypted(
    server: WsManServer, backend: EchoBackend
) -> None:
    with pytest.raises(WinRMTransportError) as refused:
        session(server, message_encryption="never").run_cmd("hostname")
    assert refused.value.code == 500
    assert server.counters.snapshot().plaintext_messages == 1
    assert backend.sessions == []


DOMAIN_FORMS = [
    ("CORP\\svc-wsman", SVC_PASSWORD),
    ("corp\\SVC-WSMAN", SVC_PASSWORD),
    ("corp.example.com\\svc-wsman", SVC_PASSWORD),
    ("svc-wsman@CORP", SVC_PASSWORD),
    ("svc-wsman@corp.example.com", SVC_PASSWORD),
    ("svc-wsman", SVC_PASSWORD),
]
LOCAL_FORMS = [(".\\localadmin", LOCAL_PASSWORD), ("MSSNODE1\\localadmin", LOCAL_PASSWORD), (LOCAL, LOCAL_PASSWORD)]


@pytest.mark.parametrize(
    ("transport", "user", "password"),
    [("ntlm", u, p) for u, p in DOMAIN_FORMS + LOCAL_FORMS] + [("basic", u, p) for u, p in LOCAL_FORMS],
)
def test_windows_logon_name_forms_are_accepted(
    make_server: Callable[..., WsManServer], backend: EchoBackend, transport: str, user: str, password: str
) -> None:
    server = make_server(
        mechanisms=ALL, allow_unencrypted=True, domain="CORP", dns_domains={"CORP": "corp.example.com"}
    )
    assert session(server, user, password, transport=transport).run_cmd("hostname").status_code == 0
    assert backend.sessions[0].user == user
    local = (user, password) in LOCAL_FORMS
    assert backend.sessions[0].account == ("MSSNODE1\\localadmin" if local else "CORP\\svc-wsman")


@pytest.mark.parametrize(("user", "password"), DOMAIN_FORMS)
def test_no_form_of_a_domain_account_logs_on_with_basic(
    make_server: Callable[..., WsManServer], user: str, password: str
) -> None:
    server = make_server(
        mechanisms=ALL, allow_unencrypted=True, domain="CORP", dns_domains={"CORP": "corp.example.com"}
    )
    with pytest.raises(InvalidCredentialsError):
        session(server, user, password, transport="basic").run_cmd("hostname")


@pytest.mark.parametrize("transport", ["basic", "ntlm", "credssp"])
def test_wrong_password_is_rejected(make_server: Callable[..., WsManServer], transport: str) -> None:
    server = make_server(mechanisms=ALL, allow_unencrypted=True)
    # CredSSP's acceptor answers with a TSRequest errorCode, SEC_E_LOGON_DENIED, as Windows does.
    expected = NTStatusException if transport == "credssp" else InvalidCredentialsError
    user = LOCAL if transport == "basic" else SVC
    with pytest.raises(expected) as refused:
        session(server, user, "wrong", transport=transport).run_cmd("hostname")
    if transport == "credssp":
        assert refused.value.args[0] == 0x8009030C
    assert server.counters.snapshot().shells_created == 0


def test_ntlm_account_of_another_node_is_rejected(make_server: Callable[..., WsManServer]) -> None:
    make_server(users={"CORP\\sql-admin": "Sql-Secr3t!"})
    server = make_server()  # same process, shared NTLM_USER_FILE: it must still refuse sql-admin
    with pytest.raises(InvalidCredentialsError):
        session(server, "CORP\\sql-admin", "Sql-Secr3t!").run_cmd("hostname")


def test_several_servers_with_the_same_users_in_one_process(make_server: Callable[..., WsManServer]) -> None:
    first, second = make_server(), make_server()
    assert session(first).run_cmd("a").std_out == b"a"
    assert session(second).run_cmd("b").std_out == b"b"
    with pytest.raises(ValueError, match="another password"):
        make_server(users={SVC: "a different password"})


def test_https_ntlm_with_channel_binding(
    make_server: Callable[..., WsManServer], backend: EchoBackend, tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls)
    assert server.url.startswith("https://")
    result = session(server, server_cert_validation="validate", ca_trust_path=ca_file).run_cmd("hostname")
    assert result.std_out == b"hostname"
    counts = server.counters.snapshot()
    assert counts.encrypted_messages == 0  # TLS protects the body; no message encryption on HTTPS
    assert counts.tls_requests == counts.http_requests
    assert backend.sessions[0].encrypted


def test_relaxed_channel_binding_accepts_a_client_that_sends_none(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls)  # CbtHardeningLevel = Relaxed, Windows' default
    client = session(server, server_cert_validation="validate", ca_trust_path=ca_file, send_cbt=False)
    assert client.run_cmd("hostname").status_code == 0


def test_strict_channel_binding_refuses_a_client_that_sends_none(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls, cbt_hardening_level="Strict")
    client = session(server, server_cert_validation="validate", ca_trust_path=ca_file, send_cbt=False)
    with pytest.raises(InvalidCredentialsError):
        client.run_cmd("hostname")
    assert server.counters.snapshot().shells_created == 0
    assert session(server, server_cert_validation="validate", ca_trust_path=ca_file).run_cmd("x").std_out == b"x"


@pytest.fixture(scope="module")
def relay_certificate(ca: trustme.CA) -> bytes:
    """The certificate of a TLS endpoint in the middle: the client binds to it, the node has its own."""
    cert = ca.issue_cert("127.0.0.1", "relay.example.com")
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())


@pytest.mark.parametrize("level", ["Relaxed", "Strict"])
def test_a_channel_binding_token_for_another_certificate_is_refused(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_file: str, relay_certificate: bytes, level: str
) -> None:
    server = make_server(tls=tls, cbt_hardening_level=level)
    server.bindings = channel_bindings(relay_certificate)  # a relayed logon: bound to the relay's TLS
    with pytest.raises(InvalidCredentialsError):  # raw NTLM (pywinrm)
        session(server, server_cert_validation="validate", ca_trust_path=ca_file).run_cmd("hostname")
    psrp = Client("127.0.0.1", port=port_of(server), username=SVC, password=SVC_PASSWORD, cert_validation=ca_file)
    with pytest.raises(PsrpAuthError):  # NTLM inside SPNEGO (pypsrp)
        psrp.execute_cmd("hostname")
    assert server.counters.snapshot().shells_created == 0


def test_channel_binding_level_none_does_not_check(
    make_server: Callable[..., WsManServer], tls: TlsMaterial, ca_file: str, relay_certificate: bytes
) -> None:
    server = make_server(tls=tls, cbt_hardening_level="None")
    server.bindings = channel_bindings(relay_certificate)
    assert session(server, server_cert_validation="validate", ca_trust_path=ca_file).run_cmd("x").std_out == b"x"


def test_an_unknown_channel_binding_level_is_refused(make_server: Callable[..., WsManServer]) -> None:
    with pytest.raises(ValueError, match="CbtHardeningLevel"):
        make_server(cbt_hardening_level="relaxed-ish")


# --- the NTLM challenge names the node -------------------------------------------------------------


def _av_pairs(challenge: bytes) -> tuple[str, int, dict[int, bytes]]:
    """(TargetName, NegotiateFlags, AV pairs) of a CHALLENGE_MESSAGE, decoded by MS-NLMP 2.2.1.2 and 2.2.2.1."""
    assert challenge[:8] == b"NTLMSSP\x00" and struct.unpack("<I", challenge[8:12])[0] == 2
    name_len, _, name_offset = struct.unpack("<HHI", challenge[12:20])
    (flags,) = struct.unpack("<I", challenge[20:24])
    info_len, _, info_offset = struct.unpack("<HHI", challenge[40:48])
    target_name = challenge[name_offset : name_offset + name_len].decode("utf-16-le")
    info, pairs = challenge[info_offset : info_offset + info_len], {}
    while True:
        av_id, av_len = struct.unpack("<HH", info[:4])
        if av_id == 0:  # MsvAvEOL
            return target_name, flags, pairs
        pairs[av_id] = info[4 : 4 + av_len]
        info = info[4 + av_len :]


def _negotiate(server: WsManServer, client: Any, token: bytes | None, web: requests.Session) -> requests.Response:
    header = "Negotiate " + base64.b64encode(client.step(token)).decode()
    return web.post(server.url, headers={"Authorization": header, "Content-Length": "0"})


def test_the_ntlm_challenge_carries_the_nodes_own_names(make_server: Callable[..., WsManServer]) -> None:
    server = make_server(domain="CORP", dns_domains={"CORP": "corp.example.com"})
    client = spnego.client(SVC, SVC_PASSWORD, protocol="ntlm")  # what pywinrm's requests-ntlm runs
    with requests.Session() as web:
        answer = _negotiate(server, client, None, web)
        assert answer.status_code == 401
        challenge = base64.b64decode(answer.headers["WWW-Authenticate"].split(" ", 1)[1])
        target_name, flags, pairs = _av_pairs(challenge)
        assert target_name == "CORP"
        assert flags & 0x00010000 and not flags & 0x00020000  # NTLMSSP_TARGET_TYPE_DOMAIN, not _SERVER
        names = {k: v.decode("utf-16-le") for k, v in pairs.items() if k in (1, 2, 3, 4, 5)}
        assert names == {
            1: "MSSNODE1",  # MsvAvNbComputerName
            2: "CORP",  # MsvAvNbDomainName
            3: "MSSNODE1.corp.example.com",  # MsvAvDnsComputerName
            4: "corp.example.com",  # MsvAvDnsDomainName
            5: "corp.example.com",  # MsvAvDnsTreeName: a one-domain forest
        }
        assert list(pairs) == [2, 1, 4, 3, 5, 7]  # Windows' order; 7 = MsvAvTimestamp
        (filetime,) = struct.unpack("<Q", pairs[7])
        now = (time.time() + 11_644_473_600) * 10_000_000  # FILETIME: 100 ns since 1601
        assert abs(filetime - now) < 600 * 10_000_000
        # The client finishes the handshake on this challenge (its MIC covers it): the node accepts it.
        assert _negotiate(server, client, challenge, web).status_code == 200


def test_a_workgroup_node_names_itself_everywhere(make_server: Callable[..., WsManServer]) -> None:
    server = make_server(users={"localadmin": LOCAL_PASSWORD})
    client = spnego.client(LOCAL, LOCAL_PASSWORD, protocol="ntlm")
    with requests.Session() as web:
        answer = _negotiate(server, client, None, web)
        challenge = base64.b64decode(answer.headers["WWW-Authenticate"].split(" ", 1)[1])
        target_name, flags, pairs = _av_pairs(challenge)
        assert target_name == "MSSNODE1" and flags & 0x00020000  # NTLMSSP_TARGET_TYPE_SERVER
        assert {pairs[k].decode("utf-16-le") for k in (1, 2, 3, 4)} == {"MSSNODE1"}
        assert _negotiate(server, client, challenge, web).status_code == 200


def test_the_spnego_challenge_carries_the_nodes_names_too(make_server: Callable[..., WsManServer]) -> None:
    server = make_server(domain="CORP", dns_domains={"CORP": "corp.example.com"})
    client = spnego.client(SVC, SVC_PASSWORD, protocol="negotiate")  # what pypsrp runs
    with requests.Session() as web:
        answer = _negotiate(server, client, None, web)
        token = base64.b64decode(answer.headers["WWW-Authenticate"].split(" ", 1)[1])
        for name in ("MSSNODE1", "CORP", "MSSNODE1.corp.example.com", "corp.example.com"):
            assert name.encode("utf-16-le") in token
        assert _negotiate(server, client, token, web).status_code == 200


def test_https_certificate_is_validated(make_server: Callable[..., WsManServer], tls: TlsMaterial) -> None:
    server = make_server(tls=tls)
    with pytest.raises(requests.exceptions.SSLError):
        session(server, server_cert_validation="validate", ca_trust_path=None).run_cmd("hostname")


def test_credssp_delegates_and_encrypts_large_messages(
    make_server: Callable[..., WsManServer], backend: EchoBackend
) -> None:
    server = make_server(mechanisms=ALL)  # `Enable-WSManCredSSP -Role Server`
    payload = big_output(50_000)  # over 16 KiB both ways: multipart/x-multi-encrypted
    p = protocol(server, transport="credssp")
    shell = p.open_shell()
    command = p.run_command(shell, "findstr", ["x"])
    p.send_command_input(shell, command, payload, end=True)
    stdout, _, code = p.get_command_output(shell, command)
    p.cleanup_command(shell, command)
    p.close_shell(shell)
    assert (stdout, code) == (payload, 0)
    assert backend.sessions[0] == Session(
        "MSSNODE1", SVC, "credssp", encrypted=True, delegated=True, account="CORP\\svc-wsman"
    )


def test_credssp_over_https(
    make_server: Callable[..., WsManServer], backend: EchoBackend, tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls, mechanisms=ALL)
    client = session(server, transport="credssp", server_cert_validation="validate", ca_trust_path=ca_file)
    assert client.run_cmd("hostname").std_out == b"hostname"
    assert backend.sessions[0].delegated


def test_credssp_is_off_by_default(server: WsManServer) -> None:
    with pytest.raises(AuthenticationException):  # Service/Auth/CredSSP = false: no CredSSP challenge
        session(server, transport="credssp").run_cmd("hostname")
    assert server.counters.snapshot().shells_created == 0


@pytest.mark.parametrize("auth", ["basic", "ntlm", "negotiate", "credssp"])
def test_pypsrp_execute_cmd(make_server: Callable[..., WsManServer], backend: EchoBackend, auth: str) -> None:
    server = make_server(mechanisms=ALL, allow_unencrypted=auth == "basic")
    client = Client(
        "127.0.0.1",
        port=port_of(server),
        username=LOCAL if auth == "basic" else SVC,
        password=LOCAL_PASSWORD if auth == "basic" else SVC_PASSWORD,
        ssl=False,
        auth=auth,
        encryption="never" if auth == "basic" else "auto",
    )
    assert client.execute_cmd("exit 7") == ("", "leaving\r\n", 7)
    assert backend.sessions[0].auth == auth
    assert server.counters.snapshot().actions == ("Create", "Command", "Receive", "Signal", "Delete")


def test_pypsrp_negotiate_over_https_with_channel_binding(
    make_server: Callable[..., WsManServer], backend: EchoBackend, tls: TlsMaterial, ca_file: str
) -> None:
    server = make_server(tls=tls)
    client = Client(
        "127.0.0.1", port=port_of(server), username=SVC, password=SVC_PASSWORD, cert_validation=ca_file
    )
    assert client.execute_cmd("hostname") == ("hostname", "", 0)
    assert (backend.sessions[0].auth, backend.sessions[0].encrypted) == ("negotiate", True)


# --- the WinRS shell resource --------------------------------------------------------------------


def test_unknown_shell_gets_windows_fault(server: WsManServer) -> None:
    with pytest.raises(WSManFaultError) as fault:
        protocol(server).run_command("0D6FCA9D-2D40-44C3-B691-E665BE7AA687", "hostname")
    assert fault.value.code == 500
    assert fault.value.wsman_fault_code == SHELL_NOT_FOUND
    assert fault.value.fault_subcode == "w:InvalidSelectors"


def test_unknown_command_gets_windows_fault(server: WsManServer) -> None:
    p = protocol(server)
    shell = p.open_shell()
    with pytest.raises(WSManFaultError) as fault:
        p.get_command_output_raw(shell, "87E77BEB-6761-4C48-9D70-A00266B8459A")
    assert fault.value.wsman_fault_code == SHELL_NOT_FOUND
    assert "command identifier that does not exist" in (fault.value.response or "")
    p.close_shell(shell)


def test_unsupported_resource_uri_and_action_get_faults(server: WsManServer) -> None:
    client = Client(
        "127.0.0.1", port=port_of(server), username=SVC, password=SVC_PASSWORD, ssl=False, auth="ntlm"
    )
    with pytest.raises(PsrpFault) as psrp:
        client.execute_ps("Get-Service")  # PSRP's resource URI: not served
    assert psrp.value.code == 2150858752
    p = protocol(server)
    request = {"env:Envelope": p.build_wsman_header("urn:nope", CMD_SHELL)}
    request["env:Envelope"]["env:Body"] = {}
    with pytest.raises(WSManFaultError) as fault:
        p.send_message(xmltodict.unparse(request))
    assert fault.value.wsman_fault_code == 2150858771


def test_drop_shells_is_a_reboot(server: WsManServer) -> None:
    p = protocol(server)
    shell = p.open_shell()
    server.drop_shells()
    with pytest.raises(WSManFaultError) as fault:
        p.run_command(shell, "hostname")
    assert fault.value.wsman_fault_code == SHELL_NOT_FOUND


def test_chunked_output_arrives_intact(server: WsManServer) -> None:
    result = session(server).run_cmd("big", ["300000"])
    assert result.std_out == big_output(300_000)
    assert server.counters.snapshot().actions.count("Receive") == 3  # 153600-byte envelopes


def test_output_pieces_fit_the_clients_max_envelope_size(server: WsManServer) -> None:
    client = Client(
        "127.0.0.1",
        port=port_of(server),
        username=SVC,
        password=SVC_PASSWORD,
        ssl=False,
        max_envelope_size=8192,
    )
    stdout, _, _ = client.execute_cmd("big 20000", encoding="latin-1")
    assert stdout.encode("latin-1") == big_output(20_000)
    assert server.counters.snapshot().actions.count("Receive") == 5


def test_stdin_in_several_chunks_arrives_byte_for_byte(server: WsManServer, backend: EchoBackend) -> None:
    data = bytes(range(256)) * 40 + "Ünïcødé ✓ 秘密".encode()
    p = protocol(server)
    shell = p.open_shell()
    command = p.run_command(shell, "powershell.exe", ["-NoProfile", "-Command", "-"])
    for start in range(0, len(data), 4000):
        p.send_command_input(shell, command, data[start : start + 4000], end=start + 4000 >= len(data))
    stdout, _, code = p.get_command_output(shell, command)
    p.cleanup_command(shell, command)
    p.close_shell(shell)
    assert (stdout, code, backend.stdins) == (data, 0, [data])


def test_request_over_the_servers_envelope_quota_gets_413(make_server: Callable[..., WsManServer]) -> None:
    server = make_server(max_envelope_size_kb=32)
    p = protocol(server)
    shell = p.open_shell()
    command = p.run_command(shell, "findstr", ["x"])
    with pytest.raises(WinRMTransportError) as refused:
        p.send_command_input(shell, command, b"x" * 40_000, end=True)
    assert refused.value.code == 413


def test_counters_count_and_record_command_lines(server: WsManServer, backend: EchoBackend) -> None:
    session(server).run_cmd("cmd.exe", ["/c", "echo", "hi"])
    counts = server.counters.snapshot()
    assert (counts.shells_created, counts.commands_run) == (1, 1)
    assert counts.command_lines == (("cmd.exe", ("/c echo hi",)),)  # pywinrm joins the arguments
    assert counts.http_requests == 8 == backend.delay_calls  # 3 NTLM handshake POSTs + 5 SOAP requests
    server.counters.reset()
    assert server.counters.snapshot().http_requests == 0


# --- fault directives ----------------------------------------------------------------------------


def test_operation_timeouts_are_retried_by_pywinrm(server: WsManServer, backend: EchoBackend) -> None:
    backend.directives["slow"] = Directive(timeouts=2)
    result = session(server).run_cmd("slow")
    assert result.std_out == b"slow"
    assert server.counters.snapshot().actions.count("Receive") == 3


def test_hanging_command_times_out_but_can_be_signalled(server: WsManServer, backend: EchoBackend) -> None:
    backend.directives["hang"] = Directive(hang=True)
    p = protocol(server, operation_timeout_sec=1, read_timeout_sec=5)
    shell = p.open_shell()
    command = p.run_command(shell, "hang")
    for _ in range(2):
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, command)
    p.cleanup_command(shell, command)
    p.close_shell(shell)
    assert backend.executed == 0


def test_duration_delays_completion(server: WsManServer, backend: EchoBackend) -> None:
    backend.directives["backup"] = Directive(duration=1.5)
    p = protocol(server, operation_timeout_sec=1, read_timeout_sec=5)
    shell = p.open_shell()
    command = p.run_command(shell, "backup")
    with pytest.raises(WinRMOperationTimeoutError):
        p.get_command_output_raw(shell, command)
    assert p.get_command_output_raw(shell, command) == (b"backup", b"", 0, True)
    assert backend.executed == 1
    p.close_shell(shell)


@pytest.mark.parametrize(
    ("directive", "runs"), [(Directive(reset_before=True), 0), (Directive(reset_after=True), 1)]
)
def test_connection_resets(
    server: WsManServer, backend: EchoBackend, directive: Directive, runs: int
) -> None:
    backend.directives["fragile"] = directive
    with pytest.raises(requests.exceptions.ConnectionError):
        session(server).run_cmd("fragile")
    assert backend.executed == runs
    assert session(server).run_cmd("after").std_out == b"after"  # the server itself carries on


def test_http_500_is_an_internal_error_fault(server: WsManServer, backend: EchoBackend) -> None:
    backend.directives["broken"] = Directive(http_500=True)
    with pytest.raises(WSManFaultError) as fault:
        session(server).run_cmd("broken")
    assert (fault.value.code, fault.value.fault_subcode) == (500, "w:InternalError")
    assert backend.executed == 0


def test_stop_ends_waiting_requests_and_threads(
    make_server: Callable[..., WsManServer], backend: EchoBackend
) -> None:
    backend.directives["hang"] = Directive(hang=True)
    server = make_server()
    before = set(threading.enumerate())
    p = protocol(server, operation_timeout_sec=30, read_timeout_sec=40)
    shell = p.open_shell()
    command = p.run_command(shell, "hang")
    outcome: list[BaseException] = []

    def receive() -> None:
        try:
            p.get_command_output_raw(shell, command)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=receive)
    waiter.start()
    while server.counters.snapshot().actions.count("Receive") == 0:
        time.sleep(0.01)
    server.stop()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert len(outcome) == 1
    assert set(threading.enumerate()) <= before
