"""cmd.exe on a simulated node of the sim stack, through an unmodified WinRM client (pywinrm, NTLM).

What a person types to look at a node answers from the node's world state, in Windows' words and
layout; anything else is "not recognized", as cmd.exe says it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import winrm
from providers_support import CONFIG

from ops import simstack

INSTALL = CONFIG.domain.install_account  # CORP\svc-install
PASSWORD = CONFIG.secret("installPassword")


@pytest.fixture(scope="module")
def sim() -> Iterator[simstack.SimulatedStack]:
    stack = simstack.start(CONFIG, ports="any")
    try:
        yield stack
    finally:
        stack.stop()


def run(sim: simstack.SimulatedStack, node: str, command: str, user: str = INSTALL) -> winrm.Response:
    client = winrm.Session(sim.endpoints[node], auth=(user, PASSWORD), transport="ntlm")
    return client.run_cmd(command)


def test_hostname_prints_the_computer_name(sim: simstack.SimulatedStack) -> None:
    answer = run(sim, "MSSNODE2", "hostname")
    assert (answer.std_out, answer.std_err, answer.status_code) == (b"MSSNODE2\r\n", b"", 0)


@pytest.mark.parametrize("logon", [INSTALL, "svc-install@corp.contoso.test", "CORP\\SVC-INSTALL"])
def test_whoami_prints_domain_and_user_in_lower_case_however_one_logged_on(
    sim: simstack.SimulatedStack, logon: str
) -> None:
    answer = run(sim, "MSSNODE1", "whoami", user=logon)
    assert (answer.std_out, answer.status_code) == (b"corp\\svc-install\r\n", 0)


def test_ipconfig_prints_the_nodes_address_mask_and_gateway_in_windows_layout(
    sim: simstack.SimulatedStack,
) -> None:
    answer = run(sim, "MSSNODE1", "ipconfig")
    # Pulumi.sim.yaml: MSSNODE1 10.10.1.11 in nodeSubnetCidr 10.10.1.0/24; Azure's gateway is .1.
    assert answer.std_out == (
        b"\r\n"
        b"Windows IP Configuration\r\n"
        b"\r\n"
        b"\r\n"
        b"Ethernet adapter Ethernet:\r\n"
        b"\r\n"
        b"   Connection-specific DNS Suffix  . : \r\n"
        b"   IPv4 Address. . . . . . . . . . . : 10.10.1.11\r\n"
        b"   Subnet Mask . . . . . . . . . . . : 255.255.255.0\r\n"
        b"   Default Gateway . . . . . . . . . : 10.10.1.1\r\n"
    )
    assert (answer.std_err, answer.status_code) == (b"", 0)


def test_ipconfig_reads_the_world_not_the_settings(sim: simstack.SimulatedStack) -> None:
    node = sim.world.nodes["MSSNODE2"]
    before = (node.ip, node.prefix_length, node.gateway)
    node.ip, node.prefix_length, node.gateway = "10.10.1.70", 26, "10.10.1.65"
    try:
        out = run(sim, "MSSNODE2", "ipconfig").std_out.decode()
    finally:
        node.ip, node.prefix_length, node.gateway = before
    assert "IPv4 Address. . . . . . . . . . . : 10.10.1.70\r\n" in out
    assert "Subnet Mask . . . . . . . . . . . : 255.255.255.192\r\n" in out
    assert "Default Gateway . . . . . . . . . : 10.10.1.65\r\n" in out


def test_ipconfig_switches_the_world_does_not_model_fail_loudly(sim: simstack.SimulatedStack) -> None:
    answer = run(sim, "MSSNODE1", "ipconfig /all")
    assert answer.status_code == 1 and answer.std_out == b""
    assert b"not modelled" in answer.std_err


def test_echo_prints_its_text(sim: simstack.SimulatedStack) -> None:
    assert run(sim, "MSSNODE1", "echo hello world").std_out == b"hello world\r\n"


@pytest.mark.parametrize("command", ["frobnicate", "ipconfg /all", "C:\\Tools\\missing.exe /q"])
def test_any_other_command_is_not_recognized_with_exit_code_1(
    sim: simstack.SimulatedStack, command: str
) -> None:
    answer = run(sim, "MSSNODE1", command)
    program = command.split(" ")[0]
    assert answer.std_err == (
        f"'{program}' is not recognized as an internal or external command,\r\n"
        "operable program or batch file.\r\n"
    ).encode()
    assert (answer.std_out, answer.status_code) == (b"", 1)
