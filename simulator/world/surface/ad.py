"""Active Directory as the self-contained lab builds it: a new forest, its accounts, groups, OU, rights and joins.

- ADDSDeployment (`Install-ADDSForest`): a standalone server with the AD-Domain-Services role promotes itself to
  the first DC of a new forest. With `-NoRebootOnCompletion` the promotion is written (the directory database's
  location under NTDS\\Parameters) and the forest answers only after the server's restart (F-AD-01).
- ActiveDirectory (`Get-ADDomain`, `Get/New-ADUser`, `Set-ADUser -ServicePrincipalNames`, `Get/New-ADGroup`,
  `Get/Add-ADGroupMember`, `Get/New-ADOrganizationalUnit`, `Get/New-ADComputer`): what the module returns, and its
  refusals: ADServerDownException until Active Directory Web Services answers (F-AD-03), ADIdentityNotFoundException
  for a missing identity (F-AD-04), the domain's password policy (F-AD-05), a forest-wide duplicate SPN (F-AD-06).
- The module's `AD:` drive: `Get-Acl` / `Set-Acl` with an ActiveDirectorySecurity (F-AD-08).
- The domain join the JsonADDomainExtension performs (`join_domain`, F-AD-10): not a script; the extension is
  Azure's. Its refusals: error 1355 before the forest answers, 1326 for a wrong password, and no right to create the
  computer account.
- `Win32_ComputerSystem` (Domain, DomainRole, PartOfDomain) and `Import-Module` (F-AD-11).

Signatures: MicrosoftDocs/windows-powershell-docs `docset/winserver2022-ps/ActiveDirectory/<Cmdlet>.md` and
`ADDSDeployment/Install-ADDSForest.md`, reduced to the parameters whose behaviour is modelled; a parameter the real
cmdlet has but the world does not model is refused loudly (SimulatorCommandNotModelled).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import register_exception_type
from simulator.powershell.items import GetAcl, SetAcl
from simulator.powershell.types import PSType, enumerate_items, is_true, to_string
from simulator.world import surface
from simulator.world.model import (
    COMPUTER_CLASS,
    EMPTY_GUID,
    ComputerObject,
    Domain,
    Group,
    Node,
    OrganizationalUnit,
    Service,
    User,
    World,
    key,
)
from simulator.world.surface import features, services
from simulator.world.surface.ad_types import ActiveDirectoryAccessRule, ActiveDirectorySecurity, SecurityIdentifier

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

AD_MODULE = "ActiveDirectory"
DEPLOYMENT_MODULE = "ADDSDeployment"
AD_COMMANDS = "Microsoft.ActiveDirectory.Management.Commands"
NTDS_PARAMETERS = r"HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters"
DATABASE_VALUE = "DSA Database file"

SERVER_DOWN = "Microsoft.ActiveDirectory.Management.ADServerDownException"
NOT_FOUND = "Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException"
AD_EXCEPTION = "Microsoft.ActiveDirectory.Management.ADException"
PASSWORD_REFUSED = "Microsoft.ActiveDirectory.Management.ADPasswordComplexityException"
ALREADY_EXISTS = "Microsoft.ActiveDirectory.Management.ADIdentityAlreadyExistsException"
for _name, _base in (
    (AD_EXCEPTION, "System.InvalidOperationException"),
    (SERVER_DOWN, AD_EXCEPTION),
    ("Microsoft.ActiveDirectory.Management.ADIdentityResolutionException", AD_EXCEPTION),
    (NOT_FOUND, "Microsoft.ActiveDirectory.Management.ADIdentityResolutionException"),
    (PASSWORD_REFUSED, AD_EXCEPTION),
    (ALREADY_EXISTS, AD_EXCEPTION),
):
    register_exception_type(_name, _base)

# implements F-AD-11: ADDSDeployment comes with the AD-Domain-Services role (its management tools bring the
# ActiveDirectory module: features.MODULE_FEATURES).
surface.module(DEPLOYMENT_MODULE, installed=lambda node: features.installed(node, "AD-Domain-Services"))

# The well-known RIDs of a new domain's accounts (learn.microsoft.com/windows-server/identity/ad-ds/manage/
# understand-security-identifiers, "Well-known SIDs"): the built-in Administrator (500) and groups 512-519.
BUILTIN_GROUPS = {
    "Domain Admins": 512,
    "Domain Users": 513,
    "Domain Computers": 515,
    "Domain Controllers": 516,
    "Schema Admins": 518,
    "Enterprise Admins": 519,
}


def _node_machine(cmdlet: Cmdlet) -> NodeMachine:
    from simulator.world.machine import NodeMachine

    machine = cmdlet.machine
    assert isinstance(machine, NodeMachine)
    return machine


# --------------------------------------------------------------------------------------------- the forest


def domain_sid(fqdn: str) -> str:
    digest = hashlib.sha256(fqdn.lower().encode("utf-8")).digest()
    parts = [int.from_bytes(digest[i : i + 4], "little") for i in (0, 4, 8)]
    return "S-1-5-21-" + "-".join(str(p) for p in parts)


def new_sid(domain: Domain) -> str:
    rid = domain.next_rid
    domain.next_rid += 1
    return f"{domain.sid}-{rid}"


def promoted(node: Node) -> bool:
    """dcpromo has run here: the directory database's location is written (restart pending or done)."""
    values = node.registry_key(NTDS_PARAMETERS) or {}
    return any(name.lower() == DATABASE_VALUE.lower() for name in values)


def is_domain_controller(world: World, node: Node) -> bool:
    return bool(world.domain.dc) and key(world.domain.dc) == key(node.name) and node.domain_role >= 4


def forest_answers(world: World) -> bool:
    """The forest's DC is up, restarted since its promotion: DNS, LDAP, Kerberos and ADWS answer (F-AD-01)."""
    domain = world.domain
    if not domain.fqdn or not domain.online:
        return False
    if not domain.dc:
        return True  # a seeded world's domain: outside the simulated machines, always there
    dc = world.node(domain.dc)
    return dc is not None and dc.up and dc.domain_role >= 4


@surface.on_reboot
def _complete_promotion(world: World, node: Node) -> None:
    # implements F-AD-01: "-NoRebootOnCompletion ... the computer must be restarted to complete the promotion"; the
    # server starts as the forest's DC: DomainRole 5 (primary domain controller), the directory's services running.
    node.restart_scheduled = False
    domain = world.domain
    if not promoted(node) or key(domain.dc) != key(node.name):
        return
    node.domain_role = 5
    domain.online = True
    for name, display in (
        ("NTDS", "Active Directory Domain Services"),
        ("DNS", "DNS Server"),
        ("ADWS", "Active Directory Web Services"),
        ("Netlogon", "Netlogon"),
        ("Kdc", "Kerberos Key Distribution Center"),
    ):
        node.services[key(name)] = Service(name, display, "Running", "Auto", "LocalSystem", "scm")
    # A DC has no local accounts: its Administrators group is the domain's BUILTIN\Administrators.
    node.administrators = [f"{domain.netbios}\\{name}" for name in ("Domain Admins", "Enterprise Admins")]


def create_forest(world: World, node: Node, fqdn: str, netbios: str, database: str, sysvol: str) -> None:
    """What Install-ADDSForest writes before its restart (the rest happens at the restart: _complete_promotion)."""
    domain = world.domain
    domain.fqdn, domain.netbios = fqdn, netbios.upper()
    domain.dc, domain.online = node.name, False
    domain.sid = domain_sid(fqdn)
    dn = domain.dn
    for group_name, rid in BUILTIN_GROUPS.items():
        domain.groups[key(group_name)] = Group(
            group_name, [], sid=f"{domain.sid}-{rid}", dn=f"CN={group_name},CN=Users,{dn}"
        )
    # The local Administrator becomes the domain's Administrator (RID 500) with its password: on Azure it is the
    # renamed built-in Administrator, the adminUsername of the VM (F-AD-02).
    for local in node.local_users.values():
        user = User(local.name, local.nt_hash, True, sid=f"{domain.sid}-500", dn=f"CN={local.name},CN=Users,{dn}")
        domain.users[key(local.name)] = user
        for group_name in ("Domain Admins", "Enterprise Admins", "Schema Admins"):
            domain.groups[key(group_name)].members.append(local.name)
        break
    node.local_users.clear()
    domain.computers[key(node.name)] = ComputerObject(
        node.name, "computer", sid=new_sid(domain), dn=f"CN={node.name},OU=Domain Controllers,{dn}"
    )
    node.registry.setdefault(key(NTDS_PARAMETERS), {})[DATABASE_VALUE] = database.rstrip("\\") + "\\ntds.dit"
    node.registry[key(NTDS_PARAMETERS)]["DSA Working Directory"] = database
    for folder in (database, sysvol, sysvol.rstrip("\\") + "\\domain", sysvol.rstrip("\\") + "\\sysvol"):
        node.directories.setdefault(_path_key(folder), folder)
    for feature in ("DNS", "RSAT-DNS-Server"):
        if not features.installed(node, feature):
            node.features.append(feature)


def _path_key(path: str) -> str:
    from simulator.world.model import path_key

    return path_key(path)


# --------------------------------------------------------------------------------------------- objects


class ADObject(v.DotNetObject):
    """Microsoft.ActiveDirectory.Management.AD* objects: their default properties and those -Properties asked for."""

    CLASS: ClassVar[str] = "ADObject"

    def __init__(self, values: dict[str, object]) -> None:
        self._values = values

    def ps_type_name(self) -> str:
        return f"Microsoft.ActiveDirectory.Management.{self.CLASS}"

    def ps_base_types(self) -> tuple[str, ...]:
        return (
            "Microsoft.ActiveDirectory.Management.ADEntity",
            "Microsoft.ActiveDirectory.Management.ADPropertyCollection",
            "System.Object",
        )

    def ps_property_names(self) -> list[str]:
        return list(self._values)

    def ps_get(self, name: str) -> object:
        return self._values[name]

    def ps_to_string(self) -> str:
        return str(self._values.get("DistinguishedName", ""))


class ADUser(ADObject):
    CLASS = "ADUser"


class ADGroup(ADObject):
    CLASS = "ADGroup"


class ADComputer(ADObject):
    CLASS = "ADComputer"


class ADOrganizationalUnit(ADObject):
    CLASS = "ADOrganizationalUnit"


class ADDomain(ADObject):
    CLASS = "ADDomain"


class ADPrincipal(ADObject):
    CLASS = "ADPrincipal"


def _guid(dn: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "ldap:" + dn.lower())


def user_object(domain: Domain, user: User, extra: Iterable[str] = ()) -> ADUser:
    # implements F-AD-04: Get-ADUser's default properties (the module's "Default properties" list)
    values: dict[str, object] = {
        "DistinguishedName": user.dn,
        "Enabled": user.enabled,
        "GivenName": None,
        "Name": user.name,
        "ObjectClass": "user",
        "ObjectGUID": _guid(user.dn),
        "SamAccountName": user.name,
        "SID": SecurityIdentifier(user.sid),
        "Surname": None,
        "UserPrincipalName": user.upn or None,
    }
    for name in extra:
        if name.lower() == "serviceprincipalname":
            values["ServicePrincipalName"] = list(user.spns)
        elif name.lower() == "description":
            values["Description"] = user.description or None
    return ADUser(values)


def group_object(group: Group) -> ADGroup:
    return ADGroup(
        {
            "DistinguishedName": group.dn,
            "GroupCategory": group.category,
            "GroupScope": group.scope,
            "Name": group.name,
            "ObjectClass": "group",
            "ObjectGUID": _guid(group.dn),
            "SamAccountName": group.name,
            "SID": SecurityIdentifier(group.sid),
        }
    )


def computer_object(domain: Domain, computer: ComputerObject) -> ADComputer:
    return ADComputer(
        {
            "DistinguishedName": computer.dn,
            "DNSHostName": f"{computer.name}.{domain.fqdn}" if computer.kind == "computer" else None,
            "Enabled": computer.enabled,
            "Name": computer.name,
            "ObjectClass": "computer",
            "ObjectGUID": _guid(computer.dn),
            "SamAccountName": computer.name + "$",
            "SID": SecurityIdentifier(computer.sid),
            "UserPrincipalName": None,
        }
    )


def ou_object(ou: OrganizationalUnit) -> ADOrganizationalUnit:
    return ADOrganizationalUnit(
        {
            "City": None,
            "Country": None,
            "DistinguishedName": ou.dn,
            "LinkedGroupPolicyObjects": [],
            "ManagedBy": None,
            "Name": ou.name,
            "ObjectClass": "organizationalUnit",
            "ObjectGUID": _guid(ou.dn),
            "PostalCode": None,
            "State": None,
            "StreetAddress": None,
        }
    )


def domain_object(world: World) -> ADDomain:
    domain = world.domain
    dn = domain.dn
    dc_fqdn = f"{domain.dc}.{domain.fqdn}"
    return ADDomain(
        {
            "ComputersContainer": f"CN=Computers,{dn}",
            "DistinguishedName": dn,
            "DNSRoot": domain.fqdn,
            "DomainControllersContainer": f"OU=Domain Controllers,{dn}",
            "DomainMode": "Windows2016Domain",
            "DomainSID": SecurityIdentifier(domain.sid),
            "Forest": domain.fqdn,
            "InfrastructureMaster": dc_fqdn,
            "Name": domain.fqdn.split(".", 1)[0],
            "NetBIOSName": domain.netbios,
            "ObjectClass": "domainDNS",
            "ObjectGUID": _guid(dn),
            "PDCEmulator": dc_fqdn,
            "ReplicaDirectoryServers": [dc_fqdn],
            "RIDMaster": dc_fqdn,
            "UsersContainer": f"CN=Users,{dn}",
        }
    )


# --------------------------------------------------------------------------------------------- password policy


def password_problem(password: str, sam: str) -> bool:
    """implements F-AD-05: the Default Domain Policy of a new forest: at least 7 characters, complexity on (three of
    upper case, lower case, digits, other characters; not containing the sAMAccountName)."""
    classes = sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    contains_name = len(sam) > 2 and sam.lower() in password.lower()
    return len(password) < 7 or classes < 3 or contains_name


# --------------------------------------------------------------------------------------------- cmdlets


class ADCmdlet(Cmdlet):
    """What the ActiveDirectory cmdlets share: reaching ADWS, resolving identities, the module's error records."""

    MODELLED: ClassVar[frozenset[str]] = frozenset()

    @property
    def node_machine(self) -> NodeMachine:
        return _node_machine(self)

    @property
    def world(self) -> World:
        return self.node_machine.world

    @property
    def domain(self) -> Domain:
        return self.world.domain

    def begin(self) -> None:
        unmodelled = sorted(set(self.params) - self.MODELLED)
        if unmodelled:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model {self.call.signature.name} with -{', -'.join(unmodelled)}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        node = self.node_machine.node
        reachable = forest_answers(self.world) and (
            is_domain_controller(self.world, node) or node.domain_role in (1, 3)
        )
        if not reachable:
            # implements F-AD-03: the module reaches the directory through Active Directory Web Services
            self.throw_terminating_error(
                self.error(
                    SERVER_DOWN,
                    "Unable to contact the server. This may be because this server does not exist, it is currently "
                    "down, or it does not have the Active Directory Web Services running.",
                    f"ActiveDirectoryServer:0,{AD_COMMANDS}.{self.call.signature.name.replace('-', '')}",
                    "ResourceUnavailable",
                )
            )

    def qualified(self, error_id: str) -> str:
        return f"ActiveDirectoryCmdlet:{error_id}"

    def not_found(self, identity: str) -> None:
        # implements F-AD-04: "Cannot find an object with identity: '<x>' under: '<domain DN>'."
        self.throw_terminating_error(
            self.error(
                NOT_FOUND,
                f"Cannot find an object with identity: '{identity}' under: '{self.domain.dn}'.",
                self.qualified(NOT_FOUND),
                "ObjectNotFound",
                target=identity,
            )
        )

    def fail(self, exception: str, message: str, category: str, target: object = None) -> None:
        self.throw_terminating_error(self.error(exception, message, self.qualified(exception), category, target))

    def require_admin(self) -> None:
        # Writing the directory: SYSTEM on the DC, or a domain administrator (learn.microsoft.com/windows-server/
        # identity/ad-ds/plan/security-best-practices/appendix-b--privileged-accounts-and-groups-in-active-directory).
        user = self.machine.identity().user
        if is_domain_controller(self.world, self.node_machine.node) and key(user) in (
            "NT AUTHORITY\\SYSTEM",
            "SYSTEM",
        ):
            return
        if self.domain.in_any(user, ["Domain Admins", "Enterprise Admins"]):
            return
        self.fail(AD_EXCEPTION, "Insufficient access rights to perform the operation", "PermissionDenied")

    # --- identities ------------------------------------------------------------------------------------------

    def identity_text(self, name: str = "Identity") -> str:
        value = self.get(name)
        if isinstance(value, ADObject):
            return to_string(value.ps_get("DistinguishedName"))
        return to_string(value)

    def find_user(self, identity: str) -> User | None:
        wanted = key(identity)
        for user in self.domain.users.values():
            if wanted in (key(user.name), key(user.dn), key(user.sid), key(user.upn)):
                return user
        return None

    def find_group(self, identity: str) -> Group | None:
        wanted = key(identity)
        for group in self.domain.groups.values():
            if wanted in (key(group.name), key(group.dn), key(group.sid)):
                return group
        return None

    def find_computer(self, identity: str) -> ComputerObject | None:
        wanted = key(identity)
        for computer in self.domain.computers.values():
            if wanted in (key(computer.name + "$"), key(computer.dn), key(computer.sid)) or (
                wanted == key(computer.name) and not wanted.endswith("$")
            ):
                return computer
        return None

    def container_exists(self, dn: str) -> bool:
        wanted = key(dn)
        dn_domain = key(self.domain.dn)
        return (
            wanted == dn_domain
            or wanted in (key(f"CN=Users,{self.domain.dn}"), key(f"CN=Computers,{self.domain.dn}"))
            or wanted in self.domain.organizational_units
        )

    def name_taken(self, sam: str) -> bool:
        wanted = key(sam)
        return (
            wanted in self.domain.users
            or wanted in self.domain.groups
            or any(key(c.name + "$") == wanted for c in self.domain.computers.values())
        )


def _sig(name: str, *params: object, default_set: str | None = None) -> CommandSignature:
    return CommandSignature(
        name,
        tuple(params),  # type: ignore[arg-type]
        default_set,
        f"{AD_COMMANDS}.{name.replace('-', '')}",
        supports_should_process=name.split("-", 1)[0] in ("New", "Set", "Add", "Remove"),
    )


IDENTITY = parameter("Identity", "object", mandatory=True, position=0, pipeline=True, sets=["Identity"])
COMMON_AD = (
    parameter("Server", "string"),
    parameter("Credential", "System.Management.Automation.PSCredential"),
    parameter("AuthType", "string", validate_set=["Negotiate", "Basic"]),
)


class GetADDomain(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADDomain",
        parameter("Identity", "object", position=0, pipeline=True, sets=["Identity"]),
        parameter("Current", "string", validate_set=["LocalComputer", "LoggedOnUser"], sets=["Current"]),
        *COMMON_AD,
        default_set="Current",
    )
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        if self.has("Identity"):
            wanted = key(self.identity_text())
            if wanted not in (key(self.domain.fqdn), key(self.domain.netbios), key(self.domain.dn)):
                self.not_found(self.identity_text())
        self.write_object(domain_object(self.world))


class GetADUser(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADUser",
        IDENTITY,
        parameter("Filter", "string", mandatory=True, sets=["Filter"]),
        parameter("LDAPFilter", "string", mandatory=True, sets=["LdapFilter"]),
        parameter("Properties", "string[]", aliases=["Property"]),
        parameter("SearchBase", "string"),
        parameter("Partition", "string"),
        *COMMON_AD,
        default_set="Filter",
    )
    MODELLED = frozenset({"Identity", "Properties"})

    def process(self) -> None:
        identity = self.identity_text()
        user = self.find_user(identity)
        if user is None:
            self.not_found(identity)
            return
        self.write_object(user_object(self.domain, user, [to_string(p) for p in self.get("Properties") or []]))


class NewADUser(ADCmdlet):
    SIGNATURE = _sig(
        "New-ADUser",
        parameter("Name", "string", mandatory=True, position=0),
        parameter("SamAccountName", "string"),
        parameter("UserPrincipalName", "string"),
        parameter("AccountPassword", "securestring"),
        parameter("Enabled", "bool"),
        parameter("PasswordNeverExpires", "bool"),
        parameter("CannotChangePassword", "bool"),
        parameter("Description", "string"),
        parameter("Path", "string"),
        parameter("PassThru", "switch"),
        parameter("DisplayName", "string"),
        parameter("GivenName", "string"),
        parameter("Surname", "string"),
        *COMMON_AD,
    )
    MODELLED = frozenset(
        {
            "Name",
            "SamAccountName",
            "UserPrincipalName",
            "AccountPassword",
            "Enabled",
            "PasswordNeverExpires",
            "CannotChangePassword",
            "Description",
            "Path",
            "PassThru",
        }
    )

    def process(self) -> None:
        self.require_admin()
        domain = self.domain
        name = to_string(self.get("Name"))
        sam = to_string(self.get("SamAccountName") or name)
        container = to_string(self.get("Path") or f"CN=Users,{domain.dn}")
        if not self.container_exists(container):
            self.not_found(container)
        if self.name_taken(sam):
            # implements F-AD-07: a sAMAccountName is unique in the domain (the text is assumed)
            self.fail(ALREADY_EXISTS, "The specified account already exists", "ResourceExists", sam)
        if not self.should_process(f"CN={name},{container}", "New"):
            return
        secret = self.get("AccountPassword")
        password = secret.reveal() if isinstance(secret, v.SecureString) else None
        user = User(
            sam,
            "",
            False,
            sid=new_sid(domain),
            dn=f"CN={name},{container}",
            upn=to_string(self.get("UserPrincipalName") or ""),
            description=to_string(self.get("Description") or ""),
            password_never_expires=is_true(self.get("PasswordNeverExpires")),
            cannot_change_password=is_true(self.get("CannotChangePassword")),
        )
        domain.users[key(sam)] = user
        domain.groups[key("Domain Users")].members.append(sam) if key("Domain Users") in domain.groups else None
        if password is not None and password_problem(password, sam):
            # implements F-AD-05: the account is created, disabled and without a password, and the cmdlet fails
            self.fail(
                PASSWORD_REFUSED,
                "The password does not meet the length, complexity, or history requirement of the domain.",
                "InvalidData",
                sam,
            )
        if password is not None:
            user.nt_hash = User.with_password(sam, password).nt_hash
        wants_enabled = is_true(self.get("Enabled")) if self.has("Enabled") else False
        if wants_enabled and password is None:
            # an enabled account needs a password under the default policy (assumed wording)
            self.fail(
                PASSWORD_REFUSED,
                "The password does not meet the length, complexity, or history requirement of the domain.",
                "InvalidData",
                sam,
            )
        user.enabled = wants_enabled
        if self.flag("PassThru"):
            self.write_object(user_object(domain, user))


class SetADUser(ADCmdlet):
    SIGNATURE = _sig(
        "Set-ADUser",
        IDENTITY,
        parameter("ServicePrincipalNames", "hashtable"),
        parameter("Description", "string"),
        parameter("Enabled", "bool"),
        parameter("PassThru", "switch"),
        *COMMON_AD,
        default_set="Identity",
    )
    MODELLED = frozenset({"Identity", "ServicePrincipalNames", "Description", "Enabled", "PassThru"})

    def process(self) -> None:
        self.require_admin()
        identity = self.identity_text()
        user = self.find_user(identity)
        if user is None:
            self.not_found(identity)
            return
        if not self.should_process(user.dn, "Set"):
            return
        spns = self.get("ServicePrincipalNames")
        if isinstance(spns, v.Hashtable):
            for operation, values in spns.items():
                names = [to_string(s) for s in (enumerate_items(values) or [values])]
                if key(to_string(operation)) == "ADD":
                    for spn in names:
                        self._add_spn(user, spn)
                elif key(to_string(operation)) == "REMOVE":
                    user.spns = [s for s in user.spns if key(s) not in {key(n) for n in names}]
                else:
                    self.fail(
                        AD_EXCEPTION,
                        f"The simulated node does not model -ServicePrincipalNames @{{{operation}=...}}.",
                        "NotImplemented",
                    )
        if self.has("Description"):
            user.description = to_string(self.get("Description"))
        if self.has("Enabled"):
            user.enabled = is_true(self.get("Enabled"))
        if self.flag("PassThru"):
            self.write_object(user_object(self.domain, user))

    def _add_spn(self, user: User, spn: str) -> None:
        if key(spn) in {key(s) for s in user.spns}:
            return
        holders = [u for u in self.domain.users.values() if key(spn) in {key(s) for s in u.spns}]
        if holders:
            # implements F-AD-06: ERROR_DS_SPN_VALUE_NOT_UNIQUE_IN_FOREST (8647)
            self.fail(
                AD_EXCEPTION,
                "The operation failed because SPN value provided for addition/modification is not unique forest-wide",
                "InvalidOperation",
                spn,
            )
        user.spns.append(spn)


class RemoveADUser(ADCmdlet):
    SIGNATURE = _sig("Remove-ADUser", IDENTITY, parameter("Partition", "string"), *COMMON_AD, default_set="Identity")
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        self.require_admin()
        identity = self.identity_text()
        user = self.find_user(identity)
        if user is None:
            self.not_found(identity)
            return
        if self.should_process(user.dn, "Remove"):
            del self.domain.users[key(user.name)]
            for group in self.domain.groups.values():
                group.members = [m for m in group.members if key(m) != key(user.name)]


class GetADGroup(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADGroup",
        IDENTITY,
        parameter("Filter", "string", mandatory=True, sets=["Filter"]),
        parameter("Properties", "string[]", aliases=["Property"]),
        *COMMON_AD,
        default_set="Filter",
    )
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        identity = self.identity_text()
        group = self.find_group(identity)
        if group is None:
            self.not_found(identity)
            return
        self.write_object(group_object(group))


class NewADGroup(ADCmdlet):
    SIGNATURE = _sig(
        "New-ADGroup",
        parameter("Name", "string", mandatory=True, position=0),
        parameter(
            "GroupScope", "string", mandatory=True, position=1, validate_set=["DomainLocal", "Global", "Universal"]
        ),
        parameter("SamAccountName", "string"),
        parameter("GroupCategory", "string", validate_set=["Distribution", "Security"]),
        parameter("Description", "string"),
        parameter("Path", "string"),
        parameter("PassThru", "switch"),
        *COMMON_AD,
    )
    MODELLED = frozenset({"Name", "GroupScope", "SamAccountName", "GroupCategory", "Description", "Path", "PassThru"})

    def process(self) -> None:
        self.require_admin()
        domain = self.domain
        name = to_string(self.get("Name"))
        sam = to_string(self.get("SamAccountName") or name)
        container = to_string(self.get("Path") or f"CN=Users,{domain.dn}")
        if not self.container_exists(container):
            self.not_found(container)
        if self.name_taken(sam):
            self.fail(ALREADY_EXISTS, "The specified group already exists", "ResourceExists", sam)
        if not self.should_process(f"CN={name},{container}", "New"):
            return
        group = Group(
            sam,
            [],
            sid=new_sid(domain),
            dn=f"CN={name},{container}",
            scope=to_string(self.get("GroupScope")),
            category=to_string(self.get("GroupCategory") or "Security"),
            description=to_string(self.get("Description") or ""),
        )
        domain.groups[key(sam)] = group
        if self.flag("PassThru"):
            self.write_object(group_object(group))


class GetADGroupMember(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADGroupMember",
        IDENTITY,
        parameter("Recursive", "switch"),
        parameter("Partition", "string"),
        *COMMON_AD,
        default_set="Identity",
    )
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        identity = self.identity_text()
        group = self.find_group(identity)
        if group is None:
            self.not_found(identity)
            return
        for member in group.members:
            principal = self.find_user(member) or self.find_group(member) or self.find_computer(member)
            if isinstance(principal, User):
                values: dict[str, object] = {
                    "SamAccountName": principal.name,
                    "objectClass": "user",
                    "SID": SecurityIdentifier(principal.sid),
                }
                dn = principal.dn
            elif isinstance(principal, Group):
                values = {
                    "SamAccountName": principal.name,
                    "objectClass": "group",
                    "SID": SecurityIdentifier(principal.sid),
                }
                dn = principal.dn
            elif isinstance(principal, ComputerObject):
                values = {
                    "SamAccountName": principal.name + "$",
                    "objectClass": "computer",
                    "SID": SecurityIdentifier(principal.sid),
                }
                dn = principal.dn
            else:
                continue
            values.update(
                {"distinguishedName": dn, "name": to_string(values["SamAccountName"]), "objectGUID": _guid(dn)}
            )
            self.write_object(ADPrincipal(values))


class AddADGroupMember(ADCmdlet):
    SIGNATURE = _sig(
        "Add-ADGroupMember",
        IDENTITY,
        parameter("Members", "object[]", mandatory=True, position=1, pipeline=True),
        parameter("PassThru", "switch"),
        parameter("Partition", "string"),
        *COMMON_AD,
        default_set="Identity",
    )
    MODELLED = frozenset({"Identity", "Members", "PassThru"})

    def process(self) -> None:
        self.require_admin()
        identity = self.identity_text()
        group = self.find_group(identity)
        if group is None:
            self.not_found(identity)
            return
        for item in enumerate_items(self.get("Members")) or [self.get("Members")]:
            wanted = to_string(item.ps_get("SamAccountName")) if isinstance(item, ADObject) else to_string(item)
            principal = self.find_user(wanted) or self.find_group(wanted) or self.find_computer(wanted)
            if principal is None:
                self.not_found(wanted)
                return
            sam = principal.name + "$" if isinstance(principal, ComputerObject) else principal.name
            if key(sam) not in {key(m) for m in group.members} and self.should_process(group.dn, "Set"):
                group.members.append(sam)
        if self.flag("PassThru"):
            self.write_object(group_object(group))


class GetADOrganizationalUnit(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADOrganizationalUnit",
        IDENTITY,
        parameter("Filter", "string", mandatory=True, sets=["Filter"]),
        parameter("Properties", "string[]", aliases=["Property"]),
        *COMMON_AD,
        default_set="Filter",
    )
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        identity = self.identity_text()
        ou = self.domain.organizational_units.get(key(identity))
        if ou is None:
            self.not_found(identity)
            return
        self.write_object(ou_object(ou))


class NewADOrganizationalUnit(ADCmdlet):
    SIGNATURE = _sig(
        "New-ADOrganizationalUnit",
        parameter("Name", "string", mandatory=True, position=0),
        parameter("Path", "string"),
        parameter("ProtectedFromAccidentalDeletion", "bool"),
        parameter("Description", "string"),
        parameter("PassThru", "switch"),
        *COMMON_AD,
    )
    MODELLED = frozenset({"Name", "Path", "ProtectedFromAccidentalDeletion", "Description", "PassThru"})

    def process(self) -> None:
        self.require_admin()
        name = to_string(self.get("Name"))
        container = to_string(self.get("Path") or self.domain.dn)
        if not self.container_exists(container):
            self.not_found(container)
        dn = f"OU={name},{container}"
        if key(dn) in self.domain.organizational_units:
            # ERROR_DS_OBJ_STRING_NAME_EXISTS (8305): "An attempt was made to add an object to the directory with a
            # name that is already in use" (assumed as the module's message)
            self.fail(
                AD_EXCEPTION,
                "An attempt was made to add an object to the directory with a name that is already in use",
                "NotSpecified",
                dn,
            )
        if not self.should_process(dn, "New"):
            return
        # ProtectedFromAccidentalDeletion defaults to $true (New-ADOrganizationalUnit's page).
        protected = (
            is_true(self.get("ProtectedFromAccidentalDeletion"))
            if self.has("ProtectedFromAccidentalDeletion")
            else True
        )
        ou = OrganizationalUnit(name, dn, to_string(self.get("Description") or ""), protected)
        self.domain.organizational_units[key(dn)] = ou
        if self.flag("PassThru"):
            self.write_object(ou_object(ou))


class GetADComputer(ADCmdlet):
    SIGNATURE = _sig(
        "Get-ADComputer",
        IDENTITY,
        parameter("Filter", "string", mandatory=True, sets=["Filter"]),
        parameter("Properties", "string[]", aliases=["Property"]),
        *COMMON_AD,
        default_set="Filter",
    )
    MODELLED = frozenset({"Identity"})

    def process(self) -> None:
        identity = self.identity_text()
        computer = self.find_computer(identity)
        if computer is None:
            self.not_found(identity)
            return
        self.write_object(computer_object(self.domain, computer))


class NewADComputer(ADCmdlet):
    SIGNATURE = _sig(
        "New-ADComputer",
        parameter("Name", "string", mandatory=True, position=0),
        parameter("SamAccountName", "string"),
        parameter("Path", "string"),
        parameter("Enabled", "bool"),
        parameter("Description", "string"),
        parameter("PassThru", "switch"),
        *COMMON_AD,
    )
    MODELLED = frozenset({"Name", "SamAccountName", "Path", "Enabled", "Description", "PassThru"})

    def process(self) -> None:
        self.require_admin()
        domain = self.domain
        name = to_string(self.get("Name"))
        sam = to_string(self.get("SamAccountName") or name + "$")
        container = to_string(self.get("Path") or f"CN=Computers,{domain.dn}")
        if not self.container_exists(container):
            self.not_found(container)
        if self.name_taken(sam) or key(name) in domain.computers:
            self.fail(ALREADY_EXISTS, "The specified account already exists", "ResourceExists", sam)
        if not self.should_process(f"CN={name},{container}", "New"):
            return
        # New-ADComputer creates an enabled account unless -Enabled $false (its page; assumed default $true).
        enabled = is_true(self.get("Enabled")) if self.has("Enabled") else True
        computer = ComputerObject(
            sam.rstrip("$"),
            "cno" if not enabled else "computer",
            sid=new_sid(domain),
            dn=f"CN={name},{container}",
            enabled=enabled,
            description=to_string(self.get("Description") or ""),
        )
        domain.computers[key(computer.name)] = computer
        if self.flag("PassThru"):
            self.write_object(computer_object(domain, computer))


# --------------------------------------------------------------------------------------------- the AD: drive


def _ad_path(written: str) -> str | None:
    """The DN of an `AD:\\<DN>` path, or None for a path on another drive."""
    text = written.strip()
    if not text.lower().startswith("ad:"):
        return None
    return text[3:].lstrip("\\/")


def _ad_drive(cmdlet: Cmdlet) -> bool:
    return AD_MODULE.lower() in getattr(cmdlet.interp, "imported_modules", set())


def _object_exists(domain: Domain, dn: str) -> bool:
    wanted = key(dn)
    if wanted == key(domain.dn) or wanted in domain.organizational_units:
        return True
    return any(
        key(principal.dn) == wanted
        for table in (domain.users, domain.groups, domain.computers)
        for principal in table.values()  # type: ignore[attr-defined]
    )


class _DriveHelp:
    @staticmethod
    def missing_drive(cmdlet: Cmdlet, written: str) -> None:
        # DriveNotFoundException (SessionStateStrings.DriveNotFound): the AD: drive exists once the module is imported
        cmdlet.write_error(
            cmdlet.error(
                "System.Management.Automation.DriveNotFoundException",
                "Cannot find drive. A drive with the name 'AD' does not exist.",
                "DriveNotFound",
                "ObjectNotFound",
                target="AD",
            )
        )


class GetAclWithDirectory(GetAcl):
    """Get-Acl, which also reads the ActiveDirectory module's AD: drive (implements F-AD-08)."""

    def process(self) -> None:
        written = [(w, lit) for w, lit in self.paths()]
        others = [(w, lit) for w, lit in written if _ad_path(w) is None]
        for path, _ in written:
            dn = _ad_path(path)
            if dn is None:
                continue
            if not _ad_drive(self):
                _DriveHelp.missing_drive(self, path)
                continue
            world = _node_machine(self).world
            if not _object_exists(world.domain, dn):
                self.write_error(self.not_found(path))
                continue
            rules = [ActiveDirectoryAccessRule.from_ace(ace) for ace in world.domain.acls.get(key(dn), [])]
            self.write_object(ActiveDirectorySecurity(dn, rules))
        if others:
            self.params["Path"] = [w for w, _ in others]
            self.params.pop("LiteralPath", None)
            super().process()


class SetAclWithDirectory(SetAcl):
    """Set-Acl, which also writes an ActiveDirectorySecurity to the AD: drive (implements F-AD-08)."""

    def process(self) -> None:
        written = [(w, lit) for w, lit in self.paths()]
        others = [w for w, _ in written if _ad_path(w) is None]
        for path, _ in written:
            dn = _ad_path(path)
            if dn is None:
                continue
            if not _ad_drive(self):
                _DriveHelp.missing_drive(self, path)
                continue
            acl = self.get("AclObject")
            world = _node_machine(self).world
            if not isinstance(acl, ActiveDirectorySecurity):
                self.write_error(
                    self.error(
                        "System.ArgumentException",
                        "The security descriptor is not an ActiveDirectorySecurity.",
                        "SetAcl_OperationNotPermitted",
                        "InvalidArgument",
                        target=path,
                    )
                )
                continue
            if not _object_exists(world.domain, dn):
                self.write_error(self.not_found(path))
                continue
            if self.should_process(path):
                world.domain.acls[key(dn)] = [rule.to_ace() for rule in acl.rules]
        if others:
            self.params["Path"] = others
            self.params.pop("LiteralPath", None)
            super().process()


# --------------------------------------------------------------------------------------------- ADDSDeployment


class DeploymentResult(v.DotNetObject):
    """Microsoft.DirectoryServices.Deployment.Types.Result, as Install-ADDSForest returns it."""

    TYPE_NAME = "Microsoft.DirectoryServices.Deployment.Types.Result"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Message", "Context", "RebootRequired", "Status")

    def __init__(self, message: str, status: str, reboot: bool) -> None:
        self.Message = message
        self.Context = "DCPromo.General.3"
        self.RebootRequired = reboot
        self.Status = status


class InstallADDSForest(Cmdlet):
    SIGNATURE = CommandSignature(
        "Install-ADDSForest",
        (
            parameter("DomainName", "string", mandatory=True, position=0),
            parameter("DomainNetbiosName", "string"),
            parameter("SafeModeAdministratorPassword", "securestring"),
            parameter("InstallDns", "switch"),
            parameter("CreateDnsDelegation", "switch"),
            parameter("DatabasePath", "string"),
            parameter("LogPath", "string"),
            parameter("SysvolPath", "string"),
            parameter("DomainMode", "string"),
            parameter("ForestMode", "string"),
            parameter("NoRebootOnCompletion", "switch"),
            parameter("Force", "switch"),
            parameter("SkipPreChecks", "switch"),
            parameter("SkipAutoConfigureDns", "switch"),
            parameter("DnsDelegationCredential", "System.Management.Automation.PSCredential"),
            parameter("DomainType", "string"),
            parameter("NoDnsOnNetwork", "switch"),
        ),
        None,
        "Microsoft.DirectoryServices.Deployment.PowerShell.Commands.InstallADDSForestCommand",
        supports_should_process=True,
    )
    MODELLED = frozenset(
        {
            "DomainName",
            "DomainNetbiosName",
            "SafeModeAdministratorPassword",
            "InstallDns",
            "CreateDnsDelegation",
            "DatabasePath",
            "LogPath",
            "SysvolPath",
            "DomainMode",
            "ForestMode",
            "NoRebootOnCompletion",
            "Force",
        }
    )
    # Windows Server 2022 offers functional levels up to WinThreshold (Windows Server 2016) (Install-ADDSForest page)
    MODES = ("Win2008", "Win2008R2", "Win2012", "Win2012R2", "WinThreshold", "Default", "2", "3", "4", "5", "6", "7")

    def end(self) -> None:
        unmodelled = sorted(set(self.params) - self.MODELLED)
        if unmodelled:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model Install-ADDSForest with -{', -'.join(unmodelled)}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        machine = _node_machine(self)
        world, node = machine.world, machine.node
        fqdn = to_string(self.get("DomainName"))
        netbios = to_string(self.get("DomainNetbiosName") or fqdn.split(".", 1)[0]).upper()
        database = to_string(self.get("DatabasePath") or "C:\\Windows\\NTDS")
        sysvol = to_string(self.get("SysvolPath") or "C:\\Windows\\SYSVOL")
        secret = self.get("SafeModeAdministratorPassword")
        problems: list[str] = []
        # implements F-AD-01: the prerequisite checks (texts assumed; the real test names are "Verification of
        # prerequisites for Domain Controller promotion failed.")
        if not machine.identity().is_admin:
            problems.append("You must be a member of the local Administrators group to run this cmdlet.")
        if node.domain_role not in (0, 2) or promoted(node) or world.domain.fqdn:
            problems.append(
                f"The server {node.name} is not a standalone server, or a forest {world.domain.fqdn or fqdn} "
                "already exists in this world."
            )
        if not isinstance(secret, v.SecureString):
            problems.append("The SafeModeAdministratorPassword parameter is required.")
        elif password_problem(secret.reveal(), ""):
            problems.append(
                "The specified password does not meet complexity requirements for the Directory Services Restore "
                "Mode (DSRM) Administrator account."
            )
        for mode in ("DomainMode", "ForestMode"):
            if self.has(mode) and to_string(self.get(mode)) not in self.MODES:
                problems.append(
                    f"{mode} {to_string(self.get(mode))} is not a functional level Windows Server 2022 offers."
                )
        for path in (database, to_string(self.get("LogPath") or database), sysvol):
            drive = path[:3]
            if machine.filesystem.stat(drive) is None or not _volume_exists(world, node, path[:1]):
                problems.append(f"The path {path} is not on a local fixed volume.")
        if problems:
            self.write_object(
                DeploymentResult(
                    "Verification of prerequisites for Domain Controller promotion failed. " + " ".join(problems),
                    "Error",
                    False,
                )
            )
            self.throw_terminating_error(
                self.error(
                    "Microsoft.DirectoryServices.Deployment.DCPromoExecutionException",
                    "Verification of prerequisites for Domain Controller promotion failed. " + " ".join(problems),
                    "Test.VerifyDcPromoCore.DCPromo.General.74",
                    "NotSpecified",
                )
            )
        if not self.should_process(node.name, "Install-ADDSForest"):
            return
        create_forest(world, node, fqdn, netbios, database, sysvol)
        if self.flag("NoRebootOnCompletion"):
            self.write_object(
                DeploymentResult("You must restart this computer to complete the operation.", "Success", True)
            )
            return
        self.write_object(DeploymentResult("Operation completed successfully", "Success", True))
        node.restart_scheduled = True


def _volume_exists(world: World, node: Node, letter: str) -> bool:
    if letter.upper() in ("C", "D"):
        return True
    return any(
        p.drive_letter.upper() == letter.upper() and p.file_system for d in node.data_disks for p in d.partitions
    )


# --------------------------------------------------------------------------------------------- Win32_ComputerSystem


@services.cim_class("Win32_ComputerSystem")
def _computer_system(world: World, node: Node) -> list[dict[str, object]]:
    # implements F-AD-12: Win32_ComputerSystem (W32 win32-computersystem): DomainRole 0 standalone workstation,
    # 1 member workstation, 2 standalone server, 3 member server, 4 backup DC, 5 primary DC; Domain is the workgroup's
    # name on a standalone computer.
    member = node.domain_role in (1, 3, 4, 5)
    return [
        {
            "CreationClassName": "Win32_ComputerSystem",
            "Name": node.name,
            "Caption": node.name,
            "DNSHostName": node.name,
            "Domain": world.domain.fqdn if member else "WORKGROUP",
            "DomainRole": v.UInt16(node.domain_role),
            "PartOfDomain": member,
            "Workgroup": None if member else "WORKGROUP",
            "Manufacturer": "Microsoft Corporation",
            "Model": "Virtual Machine",
            "TotalPhysicalMemory": v.UInt64(8 * 1024**3),
        }
    ]


# --------------------------------------------------------------------------------------------- Import-Module


class ImportModule(Cmdlet):
    """Import-Module of an installed module succeeds; of one the node lacks, Modules_ModuleNotFound (F-AD-11)."""

    SIGNATURE = CommandSignature(
        "Import-Module",
        (
            parameter("Name", "string[]", mandatory=True, position=0, pipeline=True, sets=["Name"]),
            parameter("Force", "switch"),
            parameter("PassThru", "switch"),
            parameter("Global", "switch"),
            parameter("DisableNameChecking", "switch"),
            parameter("Prefix", "string"),
            parameter("Function", "string[]"),
            parameter("Cmdlet", "string[]"),
            parameter("Variable", "string[]"),
            parameter("Alias", "string[]"),
            parameter("NoClobber", "switch"),
            parameter("Scope", "string", validate_set=["Local", "Global"]),
            parameter("MinimumVersion", "version"),
            parameter("RequiredVersion", "version"),
            parameter("ArgumentList", "object[]", aliases=["Args"]),
            parameter("AsCustomObject", "switch"),
        ),
        "Name",
        "Microsoft.PowerShell.Commands.ImportModuleCommand",
    )

    def process(self) -> None:
        installed = {m.lower(): m for m in self.machine.modules()}
        imported: set[str] = getattr(self.interp, "imported_modules", set())
        for name in [to_string(n) for n in self.get("Name") or []]:
            if name.lower() not in installed:
                # PSSRC Modules.resx ModuleNotFound (the same in 5.1 assumed)
                self.write_error(
                    self.error(
                        "System.IO.FileNotFoundException",
                        f"The specified module '{name}' was not loaded because no valid module file was found in any "
                        "module directory.",
                        "Modules_ModuleNotFound",
                        "ResourceUnavailable",
                        target=name,
                    )
                )
                continue
            imported.add(name.lower())
            # A module installed after this process started (Install-WindowsFeature) is found when imported.
            for definition in self.machine.commands():
                if definition.module.lower() == name.lower():
                    self.interp.commands[definition.name.lower()] = definition
        self.interp.imported_modules = imported  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------- the domain join


class JoinFailed(Exception):
    """NetJoinDomain's failure as the JsonADDomainExtension reports it: the Win32 error and its text."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (error {code})")
        self.code = code
        self.message = message


def join_domain(world: World, node: Node, fqdn: str, account: str, password: str, ou_path: str | None) -> None:
    """What the JsonADDomainExtension does with Options 3 (join and create the computer account): NetJoinDomain.

    implements F-AD-10: DsGetDcName must find a DC of `fqdn` first (1355 ERROR_NO_SUCH_DOMAIN while the forest does
    not answer), the account must log on (1326 ERROR_LOGON_FAILURE), and it must be allowed to create the computer
    account in the OU (5 ERROR_ACCESS_DENIED; in the default Computers container any user may add ten,
    ms-DS-MachineAccountQuota). The extension then restarts the VM.
    """
    domain = world.domain
    if not forest_answers(world) or key(fqdn) != key(domain.fqdn):
        raise JoinFailed(1355, "The specified domain either does not exist or could not be contacted.")
    if not domain.authenticate(account, password):
        raise JoinFailed(1326, "The user name or password is incorrect.")
    container = ou_path or f"CN=Computers,{domain.dn}"
    if key(container) != key(f"CN=Computers,{domain.dn}") and key(container) not in domain.organizational_units:
        raise JoinFailed(8216, "The specified OU does not exist.")  # assumed text
    existing = domain.computers.get(key(node.name))
    if existing is None:
        if ou_path and not _may_create_in(domain, account, container):
            raise JoinFailed(5, "Access is denied.")
        domain.computers[key(node.name)] = ComputerObject(
            node.name, "computer", sid=new_sid(domain), dn=f"CN={node.name},{container}"
        )
        computers = domain.groups.get(key("Domain Computers"))
        if computers is not None:
            computers.members.append(node.name + "$")
    node.domain_role = 3
    # Joining adds the domain's Domain Admins to the computer's local Administrators (learn.microsoft.com/
    # windows-server/identity/ad-ds/manage/understand-security-groups, "Domain Admins": "added to the Administrators
    # group ... of every computer that joins the domain").
    admins = f"{domain.netbios}\\Domain Admins"
    if key(admins) not in {key(a) for a in node.administrators}:
        node.administrators.append(admins)
    node.restart_scheduled = True


def _may_create_in(domain: Domain, account: str, container: str) -> bool:
    for rule in domain.acls.get(key(container), []):
        principal = domain.principal_of_sid(rule.sid)
        if principal is None or not rule.allow or not rule.rights & 0x1:
            continue
        if rule.object_type.lower() in (COMPUTER_CLASS, EMPTY_GUID) and domain.is_member(account, principal):
            return True
    return domain.in_any(account, ["Domain Admins", "Enterprise Admins", *domain.computer_creators])


# --------------------------------------------------------------------------------------------- registration

_ = PSType  # (typing)
for _cmdlet in (
    GetADDomain,
    GetADUser,
    NewADUser,
    SetADUser,
    RemoveADUser,
    GetADGroup,
    NewADGroup,
    GetADGroupMember,
    AddADGroupMember,
    GetADOrganizationalUnit,
    NewADOrganizationalUnit,
    GetADComputer,
    NewADComputer,
):
    surface.command(_cmdlet, module=AD_MODULE)
surface.command(InstallADDSForest, module=DEPLOYMENT_MODULE)
surface.command(ImportModule)
surface.command(GetAclWithDirectory)
surface.command(SetAclWithDirectory)
