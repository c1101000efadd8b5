""".NET types of Windows security and the directory that the lab's scripts name, as data the machine applies.

`System.Security.Principal.SecurityIdentifier` (mscorlib), and System.DirectoryServices' `ActiveDirectoryRights`,
`ActiveDirectorySecurityInheritance`, `ActiveDirectoryAccessRule` and `ActiveDirectorySecurity` (what `Get-Acl` returns
for a path on the ActiveDirectory module's `AD:` drive). Windows PowerShell 5.1 has System.DirectoryServices loaded at
start: its `[adsi]` and `[adsisearcher]` accelerators name System.DirectoryServices types (implements F-AD-09).
Member names, constructor arguments and enum values: learn.microsoft.com/dotnet/api/system.directoryservices.
activedirectoryrights, .activedirectorysecurityinheritance, .activedirectoryaccessrule (.ctor(IdentityReference,
ActiveDirectoryRights, AccessControlType, Guid, ActiveDirectorySecurityInheritance)), .activedirectorysecurity, and
system.security.accesscontrol.commonobjectsecurity.getaccessrules (includeExplicit, includeInherited, targetType).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.dotnet import ACCESS_CONTROL_TYPE
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.types import PSType, TypeValue, enum_convert, is_true, to_guid, to_string
from simulator.world import surface
from simulator.world.model import DirectoryAce

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

AD_RIGHTS = v.EnumType(
    "System.DirectoryServices.ActiveDirectoryRights",
    (
        ("CreateChild", 1),
        ("DeleteChild", 2),
        ("ListChildren", 4),
        ("Self", 8),
        ("ReadProperty", 16),
        ("WriteProperty", 32),
        ("DeleteTree", 64),
        ("ListObject", 128),
        ("ExtendedRight", 256),
        ("Delete", 65536),
        ("ReadControl", 131072),
        ("GenericExecute", 131076),
        ("GenericWrite", 131112),
        ("GenericRead", 131220),
        ("WriteDacl", 262144),
        ("WriteOwner", 524288),
        ("GenericAll", 983551),
        ("Synchronize", 1048576),
        ("AccessSystemSecurity", 16777216),
    ),
    flags=True,
)
AD_INHERITANCE = v.EnumType(
    "System.DirectoryServices.ActiveDirectorySecurityInheritance",
    (("None", 0), ("All", 1), ("Descendents", 2), ("SelfAndChildren", 3), ("Children", 4)),
)
SID_PATTERN = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)


def _argument_error(message: str) -> DotNetError:
    return DotNetError(NetException("System.ArgumentException", message))


class SecurityIdentifier(v.DotNetObject):
    TYPE_NAME = "System.Security.Principal.SecurityIdentifier"
    BASE_TYPES = ("System.Security.Principal.IdentityReference", "System.Object")
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Value", "BinaryLength", "AccountDomainSid")
    METHODS: ClassVar[tuple[str, ...]] = ("ToString", "Equals", "IsAccountSid")

    def __init__(self, value: object) -> None:
        text = to_string(value).strip()
        if not SID_PATTERN.match(text):
            # SecurityIdentifier(string): "Value was invalid." (ArgumentException, parameter sddlForm)
            raise _argument_error("Value was invalid.\r\nParameter name: sddlForm")
        self.Value = text.upper()

    @property
    def BinaryLength(self) -> int:
        return 8 + 4 * (len(self.Value.split("-")) - 3)

    @property
    def AccountDomainSid(self) -> object:
        parts = self.Value.split("-")
        if len(parts) >= 8 and parts[2] == "21":
            return SecurityIdentifier("-".join(parts[:7]))
        return v.NULL

    def IsAccountSid(self) -> bool:
        return self.AccountDomainSid is not v.NULL

    def ToString(self) -> str:
        return self.Value

    def Equals(self, other: object) -> bool:
        return self == other

    def ps_to_string(self) -> str:
        return self.Value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecurityIdentifier) and other.Value == self.Value

    def __hash__(self) -> int:
        return hash(self.Value)


def _sid_of(value: object) -> SecurityIdentifier:
    if isinstance(value, SecurityIdentifier):
        return value
    if isinstance(value, str):
        return SecurityIdentifier(value)
    raise _argument_error("The IdentityReference is not a SecurityIdentifier.")


class ActiveDirectoryAccessRule(v.DotNetObject):
    TYPE_NAME = "System.DirectoryServices.ActiveDirectoryAccessRule"
    BASE_TYPES = (
        "System.Security.AccessControl.ObjectAccessRule",
        "System.Security.AccessControl.AccessRule",
        "System.Security.AccessControl.AuthorizationRule",
        "System.Object",
    )
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "ActiveDirectoryRights",
        "InheritanceType",
        "ObjectType",
        "InheritedObjectType",
        "ObjectFlags",
        "AccessControlType",
        "IdentityReference",
        "IsInherited",
        "InheritanceFlags",
        "PropagationFlags",
    )

    def __init__(self, *arguments: object) -> None:
        if len(arguments) not in (3, 4, 5, 6):
            raise TypeError("no such constructor")
        identity, rights, kind = arguments[0], arguments[1], arguments[2]
        self.IdentityReference = _sid_of(identity)
        self.ActiveDirectoryRights = enum_convert(AD_RIGHTS, rights)
        self.AccessControlType = enum_convert(ACCESS_CONTROL_TYPE, kind)
        object_type: uuid.UUID = uuid.UUID(int=0)
        inheritance = enum_convert(AD_INHERITANCE, 0)
        inherited_type: uuid.UUID = uuid.UUID(int=0)
        rest = list(arguments[3:])
        if rest and isinstance(rest[0], uuid.UUID | str) and not isinstance(rest[0], v.EnumValue):
            object_type = to_guid(rest.pop(0))
        if rest:
            inheritance = enum_convert(AD_INHERITANCE, rest.pop(0))
        if rest:
            inherited_type = to_guid(rest.pop(0))
        self.ObjectType = object_type
        self.InheritanceType = inheritance
        self.InheritedObjectType = inherited_type
        self.ObjectFlags = "ObjectAceTypePresent" if object_type.int else "None"
        self.IsInherited = False
        self.InheritanceFlags = "None" if inheritance.value == 0 else "ContainerInherit"
        self.PropagationFlags = "None"

    @classmethod
    def from_ace(cls, ace: DirectoryAce) -> ActiveDirectoryAccessRule:
        return cls(
            SecurityIdentifier(ace.sid),
            ace.rights,
            0 if ace.allow else 1,
            uuid.UUID(ace.object_type),
            ace.inheritance,
            uuid.UUID(ace.inherited_object_type),
        )

    def to_ace(self) -> DirectoryAce:
        return DirectoryAce(
            sid=self.IdentityReference.Value,
            rights=int(self.ActiveDirectoryRights.value),
            allow=self.AccessControlType.value == 0,
            object_type=str(self.ObjectType),
            inheritance=int(self.InheritanceType.value),
            inherited_object_type=str(self.InheritedObjectType),
        )


class ActiveDirectorySecurity(v.DotNetObject):
    """An AD object's security descriptor as data; Set-Acl on the AD: drive writes its explicit rules back."""

    TYPE_NAME = "System.DirectoryServices.ActiveDirectorySecurity"
    BASE_TYPES = (
        "System.Security.AccessControl.DirectoryObjectSecurity",
        "System.Security.AccessControl.ObjectSecurity",
        "System.Object",
    )
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Access", "AreAccessRulesProtected", "Path")
    METHODS: ClassVar[tuple[str, ...]] = ("GetAccessRules", "AddAccessRule", "RemoveAccessRule")

    def __init__(self, dn: str, rules: Iterable[ActiveDirectoryAccessRule]) -> None:
        self.dn = dn
        self.rules = list(rules)
        self.AreAccessRulesProtected = False
        self.Path = f"Microsoft.ActiveDirectory.Management.dll\\ActiveDirectory:://RootDSE/{dn}"

    @property
    def Access(self) -> list[object]:
        return list(self.rules)

    def GetAccessRules(self, include_explicit: object, include_inherited: object, target_type: object) -> list[object]:
        if isinstance(target_type, TypeValue) and target_type.pstype.full_name not in (
            "System.Security.Principal.SecurityIdentifier",
            "System.Security.Principal.NTAccount",
        ):
            raise _argument_error("Parameter name: targetType")
        # Only the explicit rules are modelled; inherited ones (from the domain head's descriptor) are not (F-AD-08).
        return list(self.rules) if is_true(include_explicit) else []

    def AddAccessRule(self, rule: object) -> None:
        if not isinstance(rule, ActiveDirectoryAccessRule):
            raise _argument_error("The access rule is not an ActiveDirectoryAccessRule.")
        self.rules.append(rule)

    def RemoveAccessRule(self, rule: object) -> bool:
        if rule in self.rules:
            self.rules.remove(rule)
            return True
        return False


def _sid_type() -> PSType:
    pstype = PSType(
        "System.Security.Principal.SecurityIdentifier",
        is_instance=lambda x: isinstance(x, SecurityIdentifier),
        convert=lambda x: x if isinstance(x, SecurityIdentifier) or x is None else SecurityIdentifier(x),
        bases=("System.Security.Principal.IdentityReference",),
    )
    pstype.constructor = SecurityIdentifier
    return pstype


def _enum_type(enum: v.EnumType) -> PSType:
    pstype = PSType(
        enum.full_name,
        is_instance=lambda value: isinstance(value, v.EnumValue) and value.enum.full_name == enum.full_name,
        convert=lambda value: None if value is None else enum_convert(enum, value),
        bases=("System.Enum", "System.ValueType"),
    )
    pstype.enum = enum
    for member, number in enum.members:
        pstype.add_static_property(member, (lambda n: lambda: v.EnumValue(enum, n))(number))
    return pstype


@surface.dotnet_types()
def security_types(_machine: NodeMachine) -> list[PSType]:
    rule = PSType(
        "System.DirectoryServices.ActiveDirectoryAccessRule",
        is_instance=lambda x: isinstance(x, ActiveDirectoryAccessRule),
    )
    rule.constructor = ActiveDirectoryAccessRule
    security = PSType(
        "System.DirectoryServices.ActiveDirectorySecurity", is_instance=lambda x: isinstance(x, ActiveDirectorySecurity)
    )
    return [_sid_type(), _enum_type(AD_RIGHTS), _enum_type(AD_INHERITANCE), rule, security]
