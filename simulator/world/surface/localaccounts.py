"""Microsoft.PowerShell.LocalAccounts: the local Administrators group of a node (`Node.administrators`).

`Get-LocalGroupMember -SID S-1-5-32-544` lists the members as LocalPrincipal objects (Name `DOMAIN\\name` or
`COMPUTER\\name`, SID, PrincipalSource, ObjectClass); `Add-LocalGroupMember -SID ... -Member DOMAIN\\name` adds a
domain principal, which the node resolves through its domain: a workgroup server, or a member whose domain does not
answer, cannot find it ("Principal X was not found.", PrincipalNotFound), and a member already there is
MemberExists (F-NET-05; PSD reference/5.1/Microsoft.PowerShell.LocalAccounts/Get-LocalGroupMember.md,
Add-LocalGroupMember.md; texts from the module's resources, PowerShell/PowerShell v6.0.0-alpha.10
src/Microsoft.PowerShell.LocalAccounts/resources/Strings.resx).
Only the Administrators group (S-1-5-32-544, "BUILTIN\\Administrators") is modelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import enumerate_items, to_string
from simulator.world import surface
from simulator.world.model import Node, World, key
from simulator.world.surface.ad import forest_answers
from simulator.world.surface.ad_types import SecurityIdentifier

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

MODULE = "Microsoft.PowerShell.LocalAccounts"
ADMINISTRATORS_SID = "S-1-5-32-544"
QUALIFIER = "Microsoft.PowerShell.Commands"
surface.module(MODULE, installed=surface.always)  # inbox in Windows PowerShell 5.1


def _node_machine(cmdlet: Cmdlet) -> NodeMachine:
    from simulator.world.machine import NodeMachine

    machine = cmdlet.machine
    assert isinstance(machine, NodeMachine)
    return machine


class LocalPrincipal(v.DotNetObject):
    TYPE_NAME = "Microsoft.PowerShell.Commands.LocalPrincipal"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Name", "SID", "PrincipalSource", "ObjectClass")

    def __init__(self, name: str, sid: str, source: str, object_class: str) -> None:
        self.Name = name
        self.SID = SecurityIdentifier(sid) if sid else v.NULL
        self.PrincipalSource = source
        self.ObjectClass = object_class

    def ps_to_string(self) -> str:
        return self.Name


def resolve_member(world: World, node: Node, written: str) -> tuple[str, str, str, str] | None:
    """(name as Windows spells it, SID, source, class) of a principal the node can resolve, or None."""
    domain = world.domain
    if "\\" in written:
        authority, name = written.split("\\", 1)
    else:
        authority, name = node.name, written
    if key(authority) == key(node.name):
        local = node.local_users.get(key(name))
        return (f"{node.name}\\{local.name}", local.sid, "Local", "User") if local is not None else None
    if node.domain_role not in (1, 3, 4, 5) or not forest_answers(world):
        return None
    if key(authority) not in (key(domain.netbios), key(domain.fqdn)):
        return None
    user = domain.users.get(key(name))
    if user is not None:
        return f"{domain.netbios}\\{user.name}", user.sid, "ActiveDirectory", "User"
    group = domain.groups.get(key(name))
    if group is not None:
        return f"{domain.netbios}\\{group.name}", group.sid, "ActiveDirectory", "Group"
    return None


class _LocalGroupCmdlet(Cmdlet):
    def group_ok(self) -> bool:
        wanted = self.get("SID")
        sid = wanted.Value if isinstance(wanted, SecurityIdentifier) else to_string(wanted or "")
        name = to_string(self.get("Name") or self.get("Group") or "")
        if key(sid) == ADMINISTRATORS_SID or key(name) in ("ADMINISTRATORS", "BUILTIN\\ADMINISTRATORS"):
            return True
        self.throw_terminating_error(
            self.error(
                "System.Management.Automation.RuntimeException",
                "The simulated node models the local Administrators group (S-1-5-32-544) only.",
                "SimulatorCommandNotModelled",
                "NotImplemented",
            )
        )
        return False


class GetLocalGroupMember(_LocalGroupCmdlet):
    SIGNATURE = CommandSignature(
        "Get-LocalGroupMember",
        (
            parameter("Group", "psobject", mandatory=True, position=0, pipeline=True, sets=["Group"]),
            parameter("Name", "string", mandatory=True, position=0, sets=["Default"]),
            parameter(
                "SID",
                "System.Security.Principal.SecurityIdentifier",
                mandatory=True,
                position=0,
                sets=["SecurityIdentifier"],
            ),
            parameter("Member", "string", position=1),
        ),
        "Default",
        f"{QUALIFIER}.GetLocalGroupMemberCommand",
    )

    def process(self) -> None:
        self.group_ok()
        machine = _node_machine(self)
        world, node = machine.world, machine.node
        for member in node.administrators:
            found = resolve_member(world, node, member)
            if found is None:
                # An orphaned or unresolvable member still lists, by its stored name (assumed)
                self.write_object(LocalPrincipal(member, "", "Unknown", "Unknown"))
                continue
            self.write_object(LocalPrincipal(*found))


class AddLocalGroupMember(_LocalGroupCmdlet):
    SIGNATURE = CommandSignature(
        "Add-LocalGroupMember",
        (
            parameter("Group", "psobject", mandatory=True, position=0, sets=["Group"]),
            parameter("Name", "string", mandatory=True, position=0, sets=["Default"]),
            parameter(
                "SID",
                "System.Security.Principal.SecurityIdentifier",
                mandatory=True,
                position=0,
                sets=["SecurityIdentifier"],
            ),
            parameter("Member", "psobject[]", mandatory=True, position=1, pipeline=True, by_property_name=True),
        ),
        "Default",
        f"{QUALIFIER}.AddLocalGroupMemberCommand",
        supports_should_process=True,
    )

    def process(self) -> None:
        self.group_ok()
        machine = _node_machine(self)
        world, node = machine.world, machine.node
        if not machine.identity().is_admin:
            self.throw_terminating_error(
                self.error("System.UnauthorizedAccessException", "Access denied.", "AccessDenied", "PermissionDenied")
            )
        for item in enumerate_items(self.get("Member")) or [self.get("Member")]:
            written = to_string(item.Name if isinstance(item, LocalPrincipal) else item)
            found = resolve_member(world, node, written)
            if found is None:
                # implements F-NET-05: PrincipalNotFound ("Principal {0} was not found.")
                self.write_error(
                    self.error(
                        "Microsoft.PowerShell.Commands.PrincipalNotFoundException",
                        f"Principal {written} was not found.",
                        "PrincipalNotFound",
                        "ObjectNotFound",
                        target=written,
                    )
                )
                continue
            name = found[0]
            if key(name) in {key(m) for m in node.administrators}:
                # implements F-NET-05: MemberExists ("{0} is already a member of group {1}.")
                self.write_error(
                    self.error(
                        "Microsoft.PowerShell.Commands.MemberExistsException",
                        f"{name} is already a member of group Administrators.",
                        "MemberExists",
                        "ResourceExists",
                        target=name,
                    )
                )
                continue
            if self.should_process(f"Administrators: {name}", "Add member"):
                node.administrators.append(name)


for _exception, _base in (
    (
        "Microsoft.PowerShell.Commands.PrincipalNotFoundException",
        "Microsoft.PowerShell.Commands.AccountManagementException",
    ),
    ("Microsoft.PowerShell.Commands.MemberExistsException", "Microsoft.PowerShell.Commands.AccountManagementException"),
    ("Microsoft.PowerShell.Commands.AccountManagementException", "System.Exception"),
):
    from simulator.powershell.errors import register_exception_type

    register_exception_type(_exception, _base)
surface.command(GetLocalGroupMember, module=MODULE)
surface.command(AddLocalGroupMember, module=MODULE)
