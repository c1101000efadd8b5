"""Invoke-Command on a simulated node: a script block run on another node, over WinRM, as the caller.

`Invoke-Command -ComputerName <node> -ScriptBlock {...} -ArgumentList ...` connects to the other node's WinRM
listener (HTTP 5985, Negotiate/Kerberos: F-REM-05) and runs the block in a new runspace there, as the caller
(or as -Credential). The connection needs credentials the caller's logon can present: a session without network
credentials (an NTLM network logon over WinRM) has none, and WinRM refuses with the Kerberos error 0x8009030e
"A specified logon session does not exist" (the second hop: F-REM-03). With credentials (CredSSP, a scheduled
task's stored password, -Credential) the block runs on the other node's `NodeMachine` as that user, whose own
logon there is a network logon again (no further hop). What comes back is deserialized (a snapshot) and carries
PSComputerName, RunspaceId and PSShowComputerName (F-REM-04); errors come back as error records of the caller,
non-terminating, with the remote record's message, category and id.

Not modelled, refused loudly: -Session, -FilePath, -AsJob, -UseSSL, -Port, disconnected sessions, VMs and
containers. The network between the nodes is not modelled (F-REM-05's NSG rule): reachable when the target is up
and its WinRM service runs.
"""

from __future__ import annotations

from typing import ClassVar

from simulator.powershell import clixml
from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, SetMembership, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.engine import run_file
from simulator.powershell.errors import register_exception_type
from simulator.powershell.machine import Identity
from simulator.powershell.types import to_string
from simulator.world import surface
from simulator.world.machine import NodeMachine
from simulator.world.model import Node
from simulator.wsman.backend import Session

TRANSPORT_EXCEPTION = "System.Management.Automation.Remoting.PSRemotingTransportException"
REMOTE_EXCEPTION = "System.Management.Automation.RemoteException"
register_exception_type(REMOTE_EXCEPTION, "System.Management.Automation.RuntimeException")

TROUBLESHOOTING = "For more information, see the about_Remote_Troubleshooting Help topic."
# The text WinRM's client gives for a logon that holds no credentials to present (observed: github.com/
# PowerShell/Win32-OpenSSH/issues/2100, an SSH key logon; github.com/MicrosoftDocs/windowsserverdocs/issues/3397
# gives the full text for Negotiate).
NO_CREDENTIALS = (
    "WinRM cannot process the request. The following error with errorcode 0x8009030e occurred while using Kerberos "
    "authentication: A specified logon session does not exist. It may already have been terminated. \r\n Possible "
    "causes are:\r\n  -The user name or password specified are invalid.\r\n  -Kerberos is used when no "
    "authentication method and no user name are specified.\r\n  -Kerberos accepts domain user names, but not local "
    "user names.\r\n  -The Service Principal Name (SPN) for the remote computer name and port does not exist.\r\n  "
    "-The client and remote computers are in different domains and there is no trust between the two domains.\r\n "
    "After checking for the above issues, try the following:\r\n  -Check the Event Viewer for events related to "
    "authentication.\r\n  -Change the authentication method; add the destination computer to the WinRM TrustedHosts "
    "configuration setting or use HTTPS transport.\r\n Note that computers in the TrustedHosts list might not be "
    "authenticated.\r\n   -For more information about WinRM configuration, run the following command: winrm help "
    "config."
)
UNREACHABLE = (
    "WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is "
    "accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access "
    "from this computer. By default, the WinRM firewall exception for public profiles limits access to remote "
    "computers within the same local subnet."
)
UNRESOLVED = "The WinRM client cannot process the request because the server name cannot be resolved."


class InvokeCommand(Cmdlet):
    """Invoke-Command (PSD reference/5.1/Microsoft.PowerShell.Core/Invoke-Command.md): InProcess and ComputerName."""

    SIGNATURE: ClassVar[CommandSignature] = CommandSignature(
        "Invoke-Command",
        (
            ParameterSpec(
                "ScriptBlock",
                "scriptblock",
                (
                    SetMembership("InProcess", mandatory=True, position=0),
                    SetMembership("ComputerName", mandatory=True, position=1),
                ),
                aliases=("Command",),
            ),
            parameter("ComputerName", "string[]", position=0, sets=["ComputerName"], aliases=["Cn"]),
            parameter("ArgumentList", "object[]", aliases=["Args"]),
            parameter("InputObject", "psobject", pipeline=True),
            parameter("NoNewScope", "switch", sets=["InProcess"]),
            parameter("Credential", "System.Management.Automation.PSCredential", sets=["ComputerName"]),
            parameter(
                "Authentication",
                "string",  # AuthenticationMechanism: a validated string here (a simplification)
                sets=["ComputerName"],
                validate_set=[
                    "Default",
                    "Basic",
                    "Negotiate",
                    "NegotiateWithImplicitCredential",
                    "Credssp",
                    "Digest",
                    "Kerberos",
                ],
            ),
            parameter("Port", "int", sets=["ComputerName"]),
            parameter("UseSSL", "switch", sets=["ComputerName"]),
            parameter("ConfigurationName", "string", sets=["ComputerName"]),
            parameter("ApplicationName", "string", sets=["ComputerName"]),
            parameter("ThrottleLimit", "int", sets=["ComputerName"]),
            parameter("AsJob", "switch", sets=["ComputerName"]),
            parameter("InDisconnectedSession", "switch", sets=["ComputerName"], aliases=["Disconnected"]),
            parameter("SessionName", "string[]", sets=["ComputerName"]),
            parameter("HideComputerName", "switch", sets=["ComputerName"], aliases=["HCN"]),
            parameter("JobName", "string", sets=["ComputerName"]),
            parameter("SessionOption", "object", sets=["ComputerName"]),
            parameter("EnableNetworkAccess", "switch", sets=["ComputerName"]),
            parameter("CertificateThumbprint", "string", sets=["ComputerName"]),
        ),
        default_set="InProcess",
        qualifier="Microsoft.PowerShell.Commands.InvokeCommandCommand",
    )

    def begin(self) -> None:
        for name in (
            "Port",
            "UseSSL",
            "AsJob",
            "InDisconnectedSession",
            "SessionName",
            "JobName",
            "SessionOption",
            "EnableNetworkAccess",
            "CertificateThumbprint",
            "ApplicationName",
            "ConfigurationName",
        ):
            if self.has(name):
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.RuntimeException",
                        f"The simulated node does not model Invoke-Command -{name}.",
                        "SimulatorNotModelled",
                        "NotImplemented",
                    )
                )
        self._input: list[object] = []

    def process(self) -> None:
        if self.has("InputObject"):
            self._input.append(self.get("InputObject"))

    def end(self) -> None:
        block = self.get("ScriptBlock")
        assert isinstance(block, v.ScriptBlock)
        arguments = list(self.get("ArgumentList") or [])
        if self.parameter_set == "InProcess":
            from simulator.powershell.binder import PositionalArgument

            self.interp.invoke_script_block(
                block.node,
                [PositionalArgument(a) for a in arguments],
                self.write_object,
                new_scope=not self.flag("NoNewScope"),
                input_items=self._input or None,
            )
            return
        for computer in [to_string(c) for c in (self.get("ComputerName") or ["localhost"])]:
            self._remote(computer, block, arguments)

    # --- one remote computer ---------------------------------------------------------------------------------

    def _refused(self, computer: str, text: str, error_id: str, hresult: int | None = None) -> None:
        record = self.error(
            TRANSPORT_EXCEPTION,
            f"Connecting to remote server {computer} failed with the following error message : {text} "
            f"{TROUBLESHOOTING}",
            "PSSessionStateBroken",
            "OpenError",
            target=computer,
            hresult=hresult,
        )
        record.error_id = f"{error_id},PSSessionStateBroken"
        record.error_details = f"[{computer}] {record.exception.Message}"
        self.write_error(record)

    def _target(self, computer: str) -> Node | None:
        machine = self.machine
        assert isinstance(machine, NodeMachine)
        name = computer.strip()
        if name in (".", "") or name.lower() == "localhost":
            return machine.node
        domain = machine.world.domain.fqdn.lower()
        if name.lower().endswith("." + domain):
            name = name[: -len(domain) - 1]
        return machine.world.node(name)

    def _remote(self, computer: str, block: v.ScriptBlock, arguments: list[object]) -> None:
        machine = self.machine
        assert isinstance(machine, NodeMachine)
        world = machine.world
        target = self._target(computer)
        if target is None:
            self._refused(computer, UNRESOLVED, "ComputerNotFound")  # assumed id (F-REM-05)
            return
        winrm = target.service("WinRM")
        if not target.up or winrm is None or winrm.state != "Running":
            self._refused(computer, UNREACHABLE, "WinRMOperationTimeout")  # assumed id (F-REM-05)
            return
        credential = self.get("Credential")
        if credential is not None:
            user = to_string(getattr(credential, "UserName", ""))
            password = _password(credential)
            if not world.domain.authenticate(user, password):
                self._refused(computer, "Access is denied.", "AccessDenied", hresult=-2147024891)
                return
        else:
            # implements F-REM-03: only a logon that holds credentials (CredSSP, a stored password) reaches on.
            if not machine.identity().network_credentials:
                self._refused(computer, NO_CREDENTIALS, "1312")  # ERROR_NO_SUCH_LOGON_SESSION (assumed id)
                return
            user = machine.identity().user
        admin = world.domain.in_any(user, target.administrators)
        if not admin:
            # The default session configuration admits Administrators (and Remote Management Users, not modelled).
            self._refused(computer, "Access is denied.", "AccessDenied", hresult=-2147024891)
            return
        session = Session(node=target.name, user=user, auth="kerberos", encrypted=True, delegated=False, account=user)
        # On the target the caller's logon is a network logon: no credentials for a further hop.
        remote = NodeMachine(world, target, session, Identity(user=user, is_admin=True, network_credentials=False))
        result = run_file(remote, block.text, {}, "", arguments)
        runspace = remote.new_guid()
        for item in result.output:
            self.write_object(_decorated(item, target.name, runspace, not self.flag("HideComputerName")))
        for record in [*result.errors, *([result.terminating] if result.terminating is not None else [])]:
            copy = self.error(
                record.exception.type_name,
                record.message,
                record.error_id,
                record.category_info.category,
                target=record.target_object,
            )
            copy.error_id = record.error_id
            copy.category_info.activity = record.category_info.activity
            copy.category_info.reason = record.category_info.reason
            self.write_error(copy)


def _password(credential: object) -> str:
    getter = getattr(credential, "GetNetworkCredential", None)
    if callable(getter):
        return to_string(getattr(getter(), "Password", ""))
    return ""


def _decorated(item: object, computer: str, runspace: object, show: bool) -> object:
    """The object as it arrives from a remote runspace: a deserialized snapshot with its origin attached."""
    if item is None or item is v.AUTOMATION_NULL:
        return item
    snapshot = clixml.deserialize(clixml.serialize(item, depth=1))
    notes = (("PSComputerName", computer), ("RunspaceId", runspace), ("PSShowComputerName", show))
    if isinstance(snapshot, str):
        return v.PSString(snapshot, notes)
    if isinstance(snapshot, v.PSCustomObject):
        for name, value in notes:
            snapshot.add(name, value)
        return snapshot
    # A number or a boolean keeps its value; the notes 5.1 would attach to it are not modelled here.
    return snapshot


surface.command(InvokeCommand)
