"""Finding the forest from another machine: DNS, LDAP's port, the DC locator; and shutdown.exe.

- DnsClient `Resolve-DnsName -Name <n> -Type SRV -Server <address> -DnsOnly -QuickTimeout`: the DNS server at
  `<address>` is a world node; the lab's DC serves its forest's zone once the forest answers (F-NET-01). Answers are
  DnsRecord_SRV objects (Name, Type, Section, NameTarget, Priority, Weight, Port, TTL) with the target's A record in
  the Additional section; a name the server does not have is "DNS name does not exist" (DNS_ERROR_RCODE_NAME_ERROR,
  9003); a server that does not answer is a timeout (ERROR_TIMEOUT, 1460). `Clear-DnsClientCache` empties a cache
  the world does not keep (F-NET-02).
- NetTCPIP `Test-NetConnection -ComputerName <address> -Port <n> -InformationLevel Quiet`: True when a node at that
  address is up and listens on the port (LDAP 389, DNS 53, Kerberos 88 on a DC whose forest answers; WinRM 5985)
  (F-NET-03).
- `nltest.exe /dsgetdc:<domain> [/force]`: DsGetDcName from this node; exit code 0 and the DC's lines, or
  "Getting DC name failed: Status = 1355 0x54b ERROR_NO_SUCH_DOMAIN" and exit code 1355 (F-NET-04).
- `shutdown.exe /r /t <s> [/d p:x:y] [/c <text>]`: schedules the restart; 1190 ERROR_SHUTDOWN_IS_SCHEDULED when
  one is already scheduled (F-AD-13). The restart itself is the world's (a test or the host restarts the node).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.machine import NativeResult
from simulator.powershell.types import to_string
from simulator.world import surface
from simulator.world.model import Node, World, key
from simulator.world.surface.ad import forest_answers

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

DNS_MODULE = "DnsClient"
NETTCPIP_MODULE = "NetTCPIP"
surface.module(DNS_MODULE, installed=surface.always)  # inbox modules of Windows Server 2012 and later
surface.module(NETTCPIP_MODULE, installed=surface.always)

DC_PORTS = (53, 88, 135, 389, 445, 464, 636, 3268, 3269, 9389)  # learn.microsoft.com/troubleshoot/windows-server/
# networking/service-overview-and-network-port-requirements (Active Directory, DNS, ADWS 9389)
NODE_PORTS = (135, 445, 5985)


def _node_machine(cmdlet: Cmdlet) -> NodeMachine:
    from simulator.world.machine import NodeMachine

    machine = cmdlet.machine
    assert isinstance(machine, NodeMachine)
    return machine


def node_at(world: World, address: str) -> Node | None:
    return next((n for n in world.nodes.values() if n.ip == address.strip()), None)


def serves_forest(world: World, node: Node) -> bool:
    """The node is the forest's DC and the forest answers: its DNS server has the AD-integrated zone (F-NET-01)."""
    return bool(world.domain.dc) and key(world.domain.dc) == key(node.name) and forest_answers(world)


def listens(world: World, node: Node, port: int) -> bool:
    if not node.up:
        return False
    if port in DC_PORTS and serves_forest(world, node):
        return True
    if world.sql.host and key(world.sql.host) == key(node.name) and port == 1433:
        return world.sql.tcp_enabled and _sql_running(node)
    return port in NODE_PORTS


def _sql_running(node: Node) -> bool:
    service = node.service("MSSQLSERVER")
    return service is not None and service.state == "Running"


class DnsRecord(v.DotNetObject):
    """Microsoft.DnsClient.Commands.DnsRecord_SRV / DnsRecord_A, with the properties Resolve-DnsName shows."""

    BASE_TYPES = ("Microsoft.DnsClient.Commands.DnsRecord", "System.Object")

    def __init__(self, type_name: str, values: dict[str, object]) -> None:
        self._type = type_name
        self._values = values

    def ps_type_name(self) -> str:
        return f"Microsoft.DnsClient.Commands.{self._type}"

    def ps_property_names(self) -> list[str]:
        return list(self._values)

    def ps_get(self, name: str) -> object:
        return self._values[name]

    def ps_to_string(self) -> str:
        return self.ps_type_name()


class ResolveDnsName(Cmdlet):
    SIGNATURE = CommandSignature(
        "Resolve-DnsName",
        (
            parameter("Name", "string", mandatory=True, position=0, pipeline=True, by_property_name=True),
            parameter("Type", "string", position=1, by_property_name=True),
            parameter("Server", "string[]", by_property_name=True),
            parameter("DnsOnly", "switch"),
            parameter("QuickTimeout", "switch"),
            parameter("NoHostsFile", "switch"),
            parameter("CacheOnly", "switch"),
            parameter("TcpOnly", "switch"),
            parameter("NoRecursion", "switch"),
            parameter("DnssecOk", "switch"),
            parameter("LlmnrOnly", "switch"),
            parameter("NetbiosFallback", "switch"),
        ),
        None,
        "Microsoft.DnsClient.Commands.ResolveDnsName",
    )
    MODELLED: ClassVar[frozenset[str]] = frozenset({"Name", "Type", "Server", "DnsOnly", "QuickTimeout", "NoHostsFile"})

    def process(self) -> None:
        unmodelled = sorted(set(self.params) - self.MODELLED)
        if unmodelled or not self.has("Server"):
            what = (
                f"-{', -'.join(unmodelled)}" if unmodelled else "without -Server (the node's own DNS client settings)"
            )
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model Resolve-DnsName {what}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        machine = _node_machine(self)
        world = machine.world
        name = to_string(self.get("Name")).rstrip(".")
        record_type = to_string(self.get("Type") or "A_AAAA").upper()
        address = to_string((self.get("Server") or [""])[0])
        server = node_at(world, address)
        if server is None or not server.up or not serves_forest(world, server):
            # implements F-NET-01: no DNS server answers at that address (ERROR_TIMEOUT)
            self.write_error(
                self.error(
                    "System.ComponentModel.Win32Exception",
                    f"{name} : This operation returned because the timeout period expired",
                    "ERROR_TIMEOUT",
                    "OperationTimeout",
                    target=name,
                )
            )
            return
        domain = world.domain
        dc_fqdn = f"{domain.dc}.{domain.fqdn}".lower()
        srv_names = {
            f"_ldap._tcp.dc._msdcs.{domain.fqdn}".lower(): 389,
            f"_ldap._tcp.{domain.fqdn}".lower(): 389,
            f"_kerberos._tcp.{domain.fqdn}".lower(): 88,
            f"_kerberos._tcp.dc._msdcs.{domain.fqdn}".lower(): 88,
        }
        hosts = {n.name.lower() + "." + domain.fqdn.lower(): n.ip for n in world.nodes.values() if n.domain_role >= 3}
        hosts[domain.fqdn.lower()] = server.ip
        if record_type == "SRV" and name.lower() in srv_names:
            self.write_object(
                DnsRecord(
                    "DnsRecord_SRV",
                    {
                        "Name": name,
                        "Type": "SRV",
                        "TTL": v.UInt32(600),
                        "Section": "Answer",
                        "NameTarget": dc_fqdn,
                        "Priority": v.UInt16(0),
                        "Weight": v.UInt16(100),
                        "Port": v.UInt16(srv_names[name.lower()]),
                    },
                )
            )
            self.write_object(
                DnsRecord(
                    "DnsRecord_A",
                    {
                        "Name": dc_fqdn,
                        "Type": "A",
                        "TTL": v.UInt32(3600),
                        "Section": "Additional",
                        "IP4Address": server.ip,
                    },
                )
            )
            return
        if record_type in ("A", "A_AAAA") and name.lower() in hosts:
            self.write_object(
                DnsRecord(
                    "DnsRecord_A",
                    {
                        "Name": name,
                        "Type": "A",
                        "TTL": v.UInt32(3600),
                        "Section": "Answer",
                        "IP4Address": hosts[name.lower()],
                    },
                )
            )
            return
        # implements F-NET-01: DNS_ERROR_RCODE_NAME_ERROR (9003)
        self.write_error(
            self.error(
                "System.ComponentModel.Win32Exception",
                f"{name} : DNS name does not exist",
                "DNS_ERROR_RCODE_NAME_ERROR",
                "ResourceUnavailable",
                target=name,
            )
        )


class ClearDnsClientCache(Cmdlet):
    SIGNATURE = CommandSignature(
        "Clear-DnsClientCache",
        (parameter("CimSession", "psobject[]"), parameter("ThrottleLimit", "int"), parameter("AsJob", "switch")),
        None,
        "Clear-DnsClientCache",
        supports_should_process=True,
    )

    def process(self) -> None:
        # implements F-NET-02: the world keeps no resolver cache, so nothing stale can linger
        return None


class TestNetConnection(Cmdlet):
    SIGNATURE = CommandSignature(
        "Test-NetConnection",
        (
            parameter("ComputerName", "string", position=0, pipeline=True, aliases=["RemoteAddress", "cn"]),
            parameter("Port", "int", mandatory=True, sets=["RemotePort"], aliases=["RemotePort"]),
            parameter(
                "CommonTCPPort",
                "string",
                position=1,
                sets=["CommonTCPPort"],
                validate_set=["HTTP", "RDP", "SMB", "WINRM"],
            ),
            parameter("InformationLevel", "string", validate_set=["Quiet", "Detailed"]),
            parameter("TraceRoute", "switch", sets=["NetRouteDiagnostics"]),
        ),
        "CommonTCPPort",
        "Test-NetConnection",
    )

    def process(self) -> None:
        machine = _node_machine(self)
        world = machine.world
        target = to_string(self.get("ComputerName") or "internetbeacon.msedge.net")
        port = int(
            self.get("Port")
            or {"HTTP": 80, "RDP": 3389, "SMB": 445, "WINRM": 5985}.get(to_string(self.get("CommonTCPPort") or ""), 0)
        )
        if not port:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models Test-NetConnection -Port only.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        node = node_at(world, target) or world.node(target.split(".", 1)[0])
        answered = node is not None and listens(world, node, port)
        if not answered:
            # implements F-NET-03: the warning Test-NetConnection writes for a closed port (its text)
            self.write_warning(f"TCP connect to ({target} : {port}) failed")
        if to_string(self.get("InformationLevel") or "") == "Quiet":
            self.write_object(answered)
            return
        result = v.PSCustomObject()
        for name, value in (
            ("ComputerName", target),
            ("RemoteAddress", node.ip if node else target),
            ("RemotePort", port),
            ("TcpTestSucceeded", answered),
        ):
            result.add(name, value)
        self.write_object(result)


class Native:
    def __init__(self, name: str, machine: NodeMachine) -> None:
        self.name = name
        self.machine = machine


class NlTest(Native):
    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        switches = [a.strip() for a in arguments]
        wanted = next((a.split(":", 1)[1] for a in switches if a.lower().startswith("/dsgetdc:")), None)
        if wanted is None:
            return NativeResult(87, [], ["The simulated nltest.exe models /dsgetdc:<domain> only."])
        world = self.machine.world
        domain = world.domain
        if wanted and key(wanted) in (key(domain.fqdn), key(domain.netbios)) and domain.fqdn and forest_answers(world):
            dc = world.node(domain.dc) if domain.dc else None
            dc_fqdn = f"{domain.dc}.{domain.fqdn}" if dc is not None else f"DC.{domain.fqdn}"
            lines = [
                f"           DC: \\\\{dc_fqdn}",
                f"      Address: \\\\{dc.ip if dc is not None else ''}",
                f"     Dom Guid: {_guid_text(domain.fqdn)}",
                f"     Dom Name: {domain.fqdn}",
                f"  Forest Name: {domain.fqdn}",
                " Dc Site Name: Default-First-Site-Name",
                "Our Site Name: Default-First-Site-Name",
                "        Flags: PDC GC DS LDAP KDC TIMESERV WRITABLE DNS_DC DNS_DOMAIN DNS_FOREST CLOSE_SITE "
                "FULL_SECRET WS DS_8 DS_9 DS_10",
                "The command completed successfully",
            ]
            return NativeResult(0, lines, [])
        # implements F-NET-04: DsGetDcName's ERROR_NO_SUCH_DOMAIN as nltest prints it
        return NativeResult(1355, ["Getting DC name failed: Status = 1355 0x54b ERROR_NO_SUCH_DOMAIN"], [])


def _guid_text(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_DNS, seed))


class Shutdown(Native):
    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        switches = [a.lower() for a in arguments]
        node = self.machine.node
        if "/a" in switches:
            if not node.restart_scheduled:
                # ERROR_NO_SHUTDOWN_IN_PROGRESS (1116)
                return NativeResult(
                    1116, [], ["Unable to abort the system shutdown because no shutdown was in progress.(1116)"]
                )
            node.restart_scheduled = False
            return NativeResult(0, [], [])
        if "/r" not in switches:
            return NativeResult(87, [], ["The simulated shutdown.exe models /r and /a only."])
        if not self.machine.identity().is_admin:
            return NativeResult(5, [], ["Access is denied.(5)"])
        if node.restart_scheduled:
            # implements F-AD-13: ERROR_SHUTDOWN_IS_SCHEDULED
            return NativeResult(1190, [], ["A system shutdown has already been scheduled.(1190)"])
        node.restart_scheduled = True
        return NativeResult(0, [], [])


@surface.executable(r"C:\Windows\System32\nltest.exe", on_path=True)
def nltest(machine: NodeMachine) -> NlTest:
    return NlTest("nltest.exe", machine)


@surface.executable(r"C:\Windows\System32\shutdown.exe", on_path=True)
def shutdown(machine: NodeMachine) -> Shutdown:
    return Shutdown("shutdown.exe", machine)


surface.command(ResolveDnsName, module=DNS_MODULE)
surface.command(ClearDnsClientCache, module=DNS_MODULE)
surface.command(TestNetConnection, module=NETTCPIP_MODULE)
