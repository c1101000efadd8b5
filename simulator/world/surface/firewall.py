"""Windows Firewall rules on a simulated node: the NetSecurity cmdlets that components/scripts use.

`New-NetFirewallRule`, `Get-NetFirewallRule`, `Set-NetFirewallRule` and `Remove-NetFirewallRule` (WPD
NetSecurity/*.md, winserver2022-ps) over `Node.firewall_rules`, as `components/scripts/enable_winrm_https.ps1`
calls them (a rule per name, `-Name` lookups, `-ErrorAction SilentlyContinue` when absent). These are CDXML
cmdlets: a missing name is the cmdletization query's not-found error (by analogy with the observed
Get-ScheduledTask one, F-FS-11: assumed), a duplicate name ERROR_ALREADY_EXISTS as a CimException (assumed).
Whether the rules let traffic in is not modelled (the probe port's reachability, F-AZ-01, is Azure's side).
"""

from __future__ import annotations

from typing import ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import ErrorRecord
from simulator.powershell.types import to_string
from simulator.world import surface
from simulator.world.machine import NodeMachine
from simulator.world.model import FirewallRule, Node, key
from simulator.world.surface.tasks import CIM_EXCEPTION, CIM_JOB_EXCEPTION

MODULE = "NetSecurity"
DIRECTIONS = ["Inbound", "Outbound"]
ACTIONS = ["NotConfigured", "Allow", "Block"]
PROFILES = ["Any", "Domain", "Private", "Public", "NotApplicable"]


class RuleObject(v.DotNetObject):
    """MSFT_NetFirewallRule (its port and address filters are separate objects on Windows: FilterObject)."""

    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Name",
        "ID",
        "DisplayName",
        "Description",
        "Group",
        "DisplayGroup",
        "Enabled",
        "Profile",
        "Direction",
        "Action",
        "PrimaryStatus",
        "PSComputerName",
    )
    BASE_TYPES: ClassVar[tuple[str, ...]] = ("Microsoft.Management.Infrastructure.CimInstance", "System.Object")

    def __init__(self, rule: FirewallRule) -> None:
        self.Name = rule.name
        self.ID = rule.name
        self.DisplayName = rule.display_name
        self.Description = ""
        self.Group = rule.group
        self.DisplayGroup = rule.group
        self.rule = rule
        self.Enabled = "True" if rule.enabled else "False"
        self.Profile = rule.profile
        self.Direction = rule.direction
        self.Action = rule.action
        self.PrimaryStatus = "OK"
        self.PSComputerName = None

    def ps_type_name(self) -> str:
        return "Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/MSFT_NetFirewallRule"

    def ps_to_string(self) -> str:
        return "MSFT_NetFirewallRule"


def _settings() -> tuple[ParameterSpec, ...]:  # the parameters New and Set share
    return (
        parameter("Direction", "string", validate_set=DIRECTIONS),
        parameter("Action", "string", validate_set=ACTIONS),
        parameter("Profile", "string", validate_set=PROFILES),
        parameter("Enabled", "string", validate_set=["True", "False"]),
        parameter("Protocol", "string"),
        parameter("LocalPort", "string[]"),
        parameter("RemoteAddress", "string[]"),
        parameter("Description", "string"),
    )


class _RuleCmdlet(Cmdlet):
    @property
    def node(self) -> Node:
        machine = self.machine
        assert isinstance(machine, NodeMachine)
        return machine.node

    def not_found(self, name: str) -> ErrorRecord:
        return self.error(
            CIM_JOB_EXCEPTION,
            f"No MSFT_NetFirewallRule objects found with property 'Name' equal to '{name}'.  Verify the value of "
            "the property and retry.",
            "CmdletizationQuery_NotFound_Name",
            "ObjectNotFound",
            target=name,
        )

    def require_admin(self) -> bool:
        if self.machine.identity().is_admin:
            return True
        self.write_error(self.error(CIM_EXCEPTION, "Access is denied.", "Windows System Error 5", "PermissionDenied"))
        return False

    def named(self) -> list[FirewallRule]:
        found: list[FirewallRule] = []
        for name in [to_string(n) for n in (self.get("Name") or [])]:
            rule = self.node.firewall_rules.get(key(name))
            if rule is None:
                self.write_error(self.not_found(name))
            else:
                found.append(rule)
        return found

    def grouped(self) -> list[FirewallRule]:
        """The rules of each -DisplayGroup; a group with none is the cmdletization not-found error (assumed text)."""
        found: list[FirewallRule] = []
        for group in [to_string(g) for g in (self.get("DisplayGroup") or [])]:
            hits = [r for r in self.node.firewall_rules.values() if r.group and key(r.group) == key(group)]
            if not hits:
                self.write_error(
                    self.error(
                        CIM_JOB_EXCEPTION,
                        "No MSFT_NetFirewallRule objects found with property 'DisplayGroup' equal to "
                        f"'{group}'.  Verify the value of the property and retry.",
                        "CmdletizationQuery_NotFound_DisplayGroup",
                        "ObjectNotFound",
                        target=group,
                    )
                )
            found.extend(hits)
        return found

    def apply(self, rule: FirewallRule) -> None:
        if self.has("Direction"):
            rule.direction = to_string(self.get("Direction"))
        if self.has("Action"):
            rule.action = to_string(self.get("Action"))
        if self.has("Profile"):
            rule.profile = to_string(self.get("Profile"))
        if self.has("Enabled"):
            rule.enabled = to_string(self.get("Enabled")) == "True"
        if self.has("Protocol"):
            rule.protocol = to_string(self.get("Protocol"))
        if self.has("LocalPort"):
            rule.local_ports = [to_string(p) for p in self.get("LocalPort") or []]
        if self.has("RemoteAddress"):
            rule.remote_addresses = [to_string(a) for a in self.get("RemoteAddress") or []]


class NewNetFirewallRule(_RuleCmdlet):
    SIGNATURE = CommandSignature(
        "New-NetFirewallRule",
        (
            parameter("Name", "string", aliases=["ID"]),
            parameter("DisplayName", "string", mandatory=True),
            *_settings(),
        ),
        qualifier="New-NetFirewallRule",
    )

    def process(self) -> None:
        if not self.require_admin():
            return
        name = to_string(self.get("Name") or self.machine.new_guid())
        if key(name) in self.node.firewall_rules:
            self.write_error(
                self.error(
                    CIM_EXCEPTION,
                    "Cannot create a file when that file already exists.",
                    "Windows System Error 183",
                    "ResourceExists",
                    target=name,
                )
            )
            return
        rule = FirewallRule(name=name, display_name=to_string(self.get("DisplayName")))
        self.apply(rule)
        self.node.firewall_rules[key(name)] = rule
        self.write_object(RuleObject(rule))


class GetNetFirewallRule(_RuleCmdlet):
    SIGNATURE = CommandSignature(
        "Get-NetFirewallRule",
        (
            parameter("Name", "string[]", mandatory=True, position=0, sets=["ByName"], aliases=["ID"]),
            parameter("DisplayName", "string[]", mandatory=True, sets=["ByDisplayName"]),
            parameter("DisplayGroup", "string[]", mandatory=True, sets=["ByDisplayGroup"]),
            parameter(
                "AssociatedNetFirewallPortFilter",
                "ciminstance",
                mandatory=True,
                pipeline=True,
                sets=["ByAssociatedNetFirewallPortFilter"],
            ),
            parameter("All", "switch", sets=["GetAll"]),
        ),
        default_set="GetAll",
        qualifier="Get-NetFirewallRule",
    )

    def process(self) -> None:
        if self.has("AssociatedNetFirewallPortFilter"):  # bound from the pipeline: the set is decided per record
            port_filter = self.get("AssociatedNetFirewallPortFilter")
            if isinstance(port_filter, FilterObject) and key(port_filter.rule.name) in self.node.firewall_rules:
                self.write_object(RuleObject(port_filter.rule))
            return
        if self.parameter_set == "ByDisplayGroup":
            for rule in self.grouped():
                self.write_object(RuleObject(rule))
            return
        if self.parameter_set == "ByName":
            rules = self.named()
        elif self.parameter_set == "ByDisplayName":
            wanted = {key(to_string(n)) for n in self.get("DisplayName") or []}
            rules = [r for r in self.node.firewall_rules.values() if key(r.display_name) in wanted]
        else:
            rules = list(self.node.firewall_rules.values())
        for rule in rules:
            self.write_object(RuleObject(rule))


class SetNetFirewallRule(_RuleCmdlet):
    SIGNATURE = CommandSignature(
        "Set-NetFirewallRule",
        (
            parameter("Name", "string[]", mandatory=True, position=0, sets=["ByName"], aliases=["ID"]),
            parameter("NewDisplayName", "string"),
            *_settings(),
            parameter("PassThru", "switch"),
        ),
        default_set="ByName",
        qualifier="Set-NetFirewallRule",
    )

    def process(self) -> None:
        if not self.require_admin():
            return
        for rule in self.named():
            self.apply(rule)
            if self.has("NewDisplayName"):
                rule.display_name = to_string(self.get("NewDisplayName"))
            if self.flag("PassThru"):
                self.write_object(RuleObject(rule))


class RemoveNetFirewallRule(_RuleCmdlet):
    SIGNATURE = CommandSignature(
        "Remove-NetFirewallRule",
        (parameter("Name", "string[]", mandatory=True, position=0, sets=["ByName"], aliases=["ID"]),),
        default_set="ByName",
        qualifier="Remove-NetFirewallRule",
        supports_should_process=True,
    )

    def process(self) -> None:
        if not self.require_admin():
            return
        for rule in self.named():
            if self.should_process(rule.name, "Delete"):
                self.node.firewall_rules.pop(key(rule.name), None)


class EnableNetFirewallRule(_RuleCmdlet):
    SIGNATURE = CommandSignature(
        "Enable-NetFirewallRule",
        (
            parameter("Name", "string[]", mandatory=True, position=0, sets=["ByName"], aliases=["ID"]),
            parameter("DisplayGroup", "string[]", mandatory=True, sets=["ByDisplayGroup"]),
            parameter("PassThru", "switch"),
        ),
        default_set="ByName",
        qualifier="Enable-NetFirewallRule",
        supports_should_process=True,
    )

    def process(self) -> None:
        if not self.require_admin():
            return
        rules = self.grouped() if self.parameter_set == "ByDisplayGroup" else self.named()
        for rule in rules:
            if self.should_process(rule.name, "Enable"):
                rule.enabled = True
            if self.flag("PassThru"):
                self.write_object(RuleObject(rule))


class FilterObject(v.DotNetObject):
    """MSFT_NetAddressFilter / MSFT_NetProtocolPortFilter of one rule (the properties the scripts read)."""

    BASE_TYPES: ClassVar[tuple[str, ...]] = ("Microsoft.Management.Infrastructure.CimInstance", "System.Object")

    def __init__(self, class_name: str, values: dict[str, object], rule: FirewallRule) -> None:
        self.class_name = class_name
        self.rule = rule  # the filter to rule relationship is one-to-one (WPD Get-NetFirewallPortFilter)
        self._values = {**values, "PSComputerName": None}

    def ps_type_name(self) -> str:
        return f"Microsoft.Management.Infrastructure.CimInstance#root/standardcimv2/{self.class_name}"

    def ps_property_names(self) -> list[str]:
        return list(self._values)

    def ps_get(self, name: str) -> object:
        return self._values[name]


def _filter_signature(name: str, *query: ParameterSpec) -> CommandSignature:
    """GetAll (the default), ByQuery over the filter's own properties, ByAssociatedNetFirewallRule (WPD
    NetSecurity/Get-NetFirewallPortFilter.md and Get-NetFirewallAddressFilter.md, winserver2022-ps)."""
    return CommandSignature(
        name,
        (
            parameter(
                "AssociatedNetFirewallRule",
                "ciminstance",
                mandatory=True,
                pipeline=True,
                sets=["ByAssociatedNetFirewallRule"],
            ),
            *query,
            parameter("All", "switch", sets=["GetAll"]),
        ),
        default_set="GetAll",
        qualifier=name,
    )


class _FilterCmdlet(_RuleCmdlet):
    def rules(self) -> list[FirewallRule]:
        """The rules whose filters this call returns: the associated rule, or every rule on the node."""
        if self.has("AssociatedNetFirewallRule"):
            rule = self.get("AssociatedNetFirewallRule")
            return [rule.rule] if isinstance(rule, RuleObject) else []
        return list(self.node.firewall_rules.values())

    def port_filter(self, rule: FirewallRule) -> FilterObject:
        ports = rule.local_ports or ["Any"]
        return FilterObject(
            "MSFT_NetProtocolPortFilter",
            {
                "Protocol": rule.protocol,
                "LocalPort": ports[0] if len(ports) == 1 else list(ports),
                "RemotePort": "Any",
            },
            rule,
        )


class GetNetFirewallAddressFilter(_FilterCmdlet):
    SIGNATURE = _filter_signature("Get-NetFirewallAddressFilter")

    def process(self) -> None:
        for rule in self.rules():
            remote = rule.remote_addresses or ["Any"]
            self.write_object(
                FilterObject(
                    "MSFT_NetAddressFilter",
                    {"RemoteAddress": remote[0] if len(remote) == 1 else list(remote), "LocalAddress": "Any"},
                    rule,
                )
            )


class GetNetFirewallPortFilter(_FilterCmdlet):
    SIGNATURE = _filter_signature(
        "Get-NetFirewallPortFilter", parameter("Protocol", "string[]", sets=["ByQuery"])
    )

    def process(self) -> None:
        protocols = {key(to_string(p)) for p in self.get("Protocol") or []} if self.has("Protocol") else None
        for rule in self.rules():
            if protocols is None or key(rule.protocol or "Any") in protocols:
                self.write_object(self.port_filter(rule))


for _cmdlet in (
    NewNetFirewallRule,
    GetNetFirewallRule,
    SetNetFirewallRule,
    RemoveNetFirewallRule,
    EnableNetFirewallRule,
    GetNetFirewallAddressFilter,
    GetNetFirewallPortFilter,
):
    surface.command(_cmdlet, module=MODULE)
surface.module(MODULE, installed=surface.always)
