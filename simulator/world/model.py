"""The simulated Windows estate: one AD domain, one SQL server with SSODB, the nodes, one failover cluster.

Plain dataclasses, no behaviour beyond lookups; the rules live in the surface modules and windows.py. Windows
names are case-insensitive, so every dictionary is keyed by the upper-cased name and keeps the spelling
it was created with in the value.
"""

from __future__ import annotations

import hmac
import ntpath
import os
import time
from dataclasses import dataclass, field

from simulator.wsman.auth import nt_hash

ENTSSO = "ENTSSO"
ENTSSO_KEY = r"HKLM\SOFTWARE\Microsoft\ENTSSO"
SSOSS_KEY = ENTSSO_KEY + r"\SSOSS"
SQL_KEY = ENTSSO_KEY + r"\SQL"

# ENTSSO event IDs the simulation writes (esso.md section 5).
EVENT_SECRET_SERVER_STARTING = 10534
EVENT_NO_SECRETS = 10520
EVENT_SECRET_LOAD_FAILED = 10521
EVENT_RESTORE_OK = 10523
EVENT_RESTORE_FAILED = 10524
EVENT_BACKUP_OK = 10559
EVENT_BACKUP_FAILED = 10560
EVENT_VALIDATE_FAILED = 10565
EVENT_SECRET_SERVER_CHANGED = 10575
EVENT_NEVER_BACKED_UP = 10589
EVENT_LOST_SECRET_SERVER = 10532
EVENT_NOT_SECRET_SERVER = 10766
EVENT_NO_DSN = 10511  # SSO_ERROR_NO_DSN
EVENT_SERVICE_NOT_SSO_ADMIN = 10550  # SSO_ERROR_SERVICE_NOT_SSO_ADMIN (0xC0002936)
EVENT_NO_LOCAL_SYSTEM = 11038  # SSO_ERROR_NO_LOCAL_SYSTEM (0xC0002B1E)
EVENT_GENERATE_OK = 10525  # SSO_INFO_GENERATE_SECRET_OK
EVENT_DATABASE_CREATED = 10548  # SSO_INFO_CREATE_DATABASE_OK (0x40002934)


def characters(text: str) -> str:
    """Text as characters. A script's strings are .NET strings, UTF-16 code units (simulator/powershell/values.py):
    a character beyond U+FFFF arrives as a surrogate pair, which names the same thing as the character."""
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


COMPUTER_CLASS = "bf967a86-0de6-11d0-a285-00aa003049e2"  # the computer class's schemaIDGUID
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def key(name: str) -> str:
    return characters(name).strip().upper()


def path_key(path: str) -> str:
    return ntpath.normcase(ntpath.normpath(characters(path)))


@dataclass
class User:
    """A domain account as AD keeps it: the NT hash of its password (unicodePwd), never the password."""

    name: str
    nt_hash: str = field(repr=False)  # hex of MD4(UTF-16LE password), upper-case
    enabled: bool = True
    # What the ActiveDirectory module reads and sets (the self-contained lab's accounts; simulator/world/surface/ad.py).
    # Seeded worlds leave them empty: their domain lives outside the simulated machines.
    sid: str = ""
    dn: str = ""
    upn: str = ""
    description: str = ""
    spns: list[str] = field(default_factory=list)
    password_never_expires: bool = False
    cannot_change_password: bool = False

    @classmethod
    def with_password(cls, name: str, password: str, enabled: bool = True) -> User:
        return cls(name, nt_hash(password).hex().upper(), enabled)

    def has_password(self, password: str) -> bool:
        return hmac.compare_digest(bytes.fromhex(self.nt_hash), nt_hash(characters(password)))


@dataclass
class Group:
    name: str
    members: list[str] = field(default_factory=list)  # sAMAccountNames of users or groups
    sid: str = ""
    dn: str = ""
    scope: str = "Global"  # ADGroupScope: DomainLocal | Global | Universal
    category: str = "Security"  # ADGroupCategory: Distribution | Security
    description: str = ""


@dataclass
class ComputerObject:
    name: str
    kind: str  # "computer" | "cno" (cluster name object) | "vco" (virtual computer object of a role)
    sid: str = ""
    dn: str = ""
    enabled: bool = True  # a prestaged cluster name object is disabled until New-Cluster takes it over
    description: str = ""


@dataclass
class OrganizationalUnit:
    name: str
    dn: str
    description: str = ""
    protected: bool = False  # ProtectedFromAccidentalDeletion


@dataclass
class DirectoryAce:
    """An explicit access rule on a directory object, as ActiveDirectoryAccessRule describes it."""

    sid: str
    rights: int  # ActiveDirectoryRights flags
    allow: bool = True
    object_type: str = "00000000-0000-0000-0000-000000000000"  # a schemaIDGUID or property set; empty = any
    # ActiveDirectorySecurityInheritance: None 0, All 1, Descendents 2, SelfAndChildren 3, Children 4
    inheritance: int = 0
    inherited_object_type: str = "00000000-0000-0000-0000-000000000000"


@dataclass
class Domain:
    fqdn: str
    netbios: str
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    computers: dict[str, ComputerObject] = field(default_factory=dict)
    # Accounts or groups allowed to create computer objects (the CNO at New-Cluster).
    computer_creators: list[str] = field(default_factory=list)
    # The forest as the lab builds it (simulator/world/surface/ad.py). A seeded world's domain is outside the
    # simulated machines: `dc` is "" and it is online from the start. A bare world has no forest (`fqdn` "")
    # until a node promotes itself; the forest answers (`online`) once that node has restarted.
    dc: str = ""  # the world node that is its domain controller
    online: bool = True
    sid: str = ""  # the domain SID, S-1-5-21-a-b-c
    next_rid: int = 1103  # the RID the next new account gets (the first RIDs are the built-in accounts')
    organizational_units: dict[str, OrganizationalUnit] = field(default_factory=dict)  # by upper-cased DN
    acls: dict[str, list[DirectoryAce]] = field(default_factory=dict)  # explicit rules Set-Acl added, by upper DN

    @property
    def dn(self) -> str:
        return ",".join(f"DC={label}" for label in self.fqdn.split(".")) if self.fqdn else ""

    def principal_of_sid(self, sid: str) -> str | None:
        """The sAMAccountName a SID names in this domain, or None."""
        for table in (self.users, self.groups, self.computers):
            for principal in table.values():
                if principal.sid and principal.sid.upper() == sid.upper():
                    return principal.name if not isinstance(principal, ComputerObject) else principal.name + "$"
        return None

    def may_create_computers(self, account: str) -> bool:
        """`account` may create computer objects: a seeded creator, or a "Create Computer objects" rule on an OU."""
        if self.in_any(account, self.computer_creators):
            return True
        for rules in self.acls.values():
            for rule in rules:
                principal = self.principal_of_sid(rule.sid)
                if (
                    principal is not None
                    and rule.allow
                    and rule.rights & 0x1  # CreateChild
                    and rule.object_type.lower() in (COMPUTER_CLASS, EMPTY_GUID)
                    and self.is_member(account, principal)
                ):
                    return True
        return False

    def sam(self, account: str) -> str | None:
        """The sAMAccountName of DOMAIN\\name or name@fqdn in this domain, or None for another domain."""
        if "\\" in account:
            domain, name = account.split("\\", 1)
            if key(domain) not in (key(self.netbios), key(self.fqdn)):
                return None
            return name
        if "@" in account:
            name, domain = account.rsplit("@", 1)
            return name if key(domain) in (key(self.fqdn), key(self.netbios)) else None
        return account

    def user(self, account: str) -> User | None:
        name = self.sam(account)
        return None if name is None else self.users.get(key(name))

    def authenticate(self, account: str, password: str) -> bool:
        found = self.user(account)
        return found is not None and found.enabled and found.has_password(password)

    def is_member(self, account: str, principal: str) -> bool:
        """Whether `account` is `principal` or a (nested) member of the group `principal`."""
        who, target = self.sam(account), self.sam(principal)
        if who is None or target is None:
            return False
        if key(who) == key(target):
            return True
        seen: set[str] = set()
        pending = [key(target)]
        while pending:
            group = self.groups.get(pending.pop())
            if group is None or key(group.name) in seen:
                continue
            seen.add(key(group.name))
            for member in group.members:
                if key(member) == key(who):
                    return True
                pending.append(key(member))
        return False

    def in_any(self, account: str, principals: list[str]) -> bool:
        return any(self.is_member(account, principal) for principal in principals)


@dataclass
class SsoDatabase:
    name: str
    exists: bool = False
    secret_server: str = ""
    admin_group: str = ""
    affiliate_group: str = ""
    secret_id: str = ""  # MSID of the master secret that encrypts this database
    servers: list[str] = field(default_factory=list)  # SSO servers configured against it


@dataclass
class SqlServer:
    name: str
    available: bool = True
    sysadmins: list[str] = field(default_factory=list)  # logins allowed to create databases
    databases: dict[str, SsoDatabase] = field(default_factory=dict)
    # The lab's SQL Server VM (simulator/world/surface/sqlserver.py): the world node it runs on ("" = outside the
    # simulated machines), its Windows logins, the Database Engine's logon account and its TCP/IP protocol.
    host: str = ""
    logins: list[str] = field(default_factory=list)
    service_account: str = ""
    tcp_enabled: bool = True


@dataclass
class Service:
    name: str
    display_name: str
    state: str = "Stopped"  # "Running" | "Stopped"
    start_mode: str = "Manual"  # "Auto" | "Manual" | "Disabled" (Win32_Service.StartMode)
    account: str = "LocalSystem"
    started_by: str = ""  # "scm" when started outside the cluster, "cluster" when by a resource
    # The running process (Win32_Service.ProcessId, Get-Process StartTime); 0 / 0.0 while stopped.
    process_id: int = 0
    started_at: float = 0.0  # POSIX seconds


@dataclass
class EventEntry:
    sequence: int
    event_id: int
    level: str  # "Information" | "Warning" | "Error"
    source: str
    message: str
    time_created: float = 0.0  # POSIX seconds (Get-WinEvent's TimeCreated)
    log: str = "Application"  # the event log (channel): "Application", "Microsoft-Windows-PowerShell/Operational"


@dataclass
class ScheduledTask:
    """A task registered with the Task Scheduler service (simulator/world/surface/tasks.py).

    Task Scheduler keeps a password-logon task's password in its own credential store; the world keeps
    nothing password-like: the password was checked against the domain when the task was registered.
    """

    name: str
    path: str = "\\"
    execute: str = ""
    arguments: str = ""
    working_directory: str = ""
    user: str = ""  # the principal, DOMAIN\\user
    logon_type: str = "Password"  # TASK_LOGON_TYPE: "Password" | "S4U" | "InteractiveToken" | "ServiceAccount"
    run_level: str = "Limited"  # "Limited" | "Highest"
    state: str = "Ready"  # TASK_STATE: "Ready" | "Queued" | "Running" | "Disabled"
    last_result: int = 267011  # SCHED_S_TASK_HAS_NOT_RUN until a run ends
    last_run_time: str = ""  # ISO 8601, the start of the last run
    author: str = ""


@dataclass
class FirewallRule:
    """A Windows Firewall rule as NetSecurity's MSFT_NetFirewallRule and its filters describe it."""

    name: str
    display_name: str = ""
    direction: str = "Inbound"  # "Inbound" | "Outbound"
    action: str = "Allow"  # "Allow" | "Block"
    enabled: bool = True
    profile: str = "Any"
    protocol: str = "Any"
    local_ports: list[str] = field(default_factory=list)
    remote_addresses: list[str] = field(default_factory=list)
    group: str = ""  # the rule group (DisplayGroup) a built-in rule belongs to


@dataclass
class Node:
    name: str
    ip: str
    up: bool = True
    # The node's subnet and default gateway ("" = the subnet's first address, which Azure reserves for
    # the gateway: learn.microsoft.com/azure/virtual-network/virtual-networks-faq, reserved addresses).
    prefix_length: int = 24
    gateway: str = ""
    features: list[str] = field(default_factory=list)
    features_pending: list[str] = field(default_factory=list)  # installed, active after the next restart
    products: list[str] = field(default_factory=list)  # installed SSO features (SSOServer, SSOAdmin, ...)
    administrators: list[str] = field(default_factory=list)  # local Administrators (domain principals)
    services: dict[str, Service] = field(default_factory=dict)
    # key path -> value name -> data; holds the master secret, so never in a repr
    registry: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # normalised path -> content
    # How each file's name was spelt when it was created (normalised path -> path); NTFS keeps the case.
    file_names: dict[str, str] = field(default_factory=dict)
    # Directories made explicitly (normalised path -> spelling); a file's parents exist implicitly.
    directories: dict[str, str] = field(default_factory=dict)
    # Explicit ACLs (normalised path -> {"protected": bool, "rules": [...]}), as Set-Acl left them.
    acls: dict[str, dict[str, object]] = field(default_factory=dict)
    # The machine's DPAPI master key (LSA secret on Windows): seals LocalMachine-scope blobs. Generated once.
    # the machine's DPAPI master key exists from installation, not from its first use (a read leaves the world alone)
    dpapi_key: bytes = field(default_factory=lambda: os.urandom(32), repr=False)
    events: list[EventEntry] = field(default_factory=list)
    # Names the ENTSSO "SSOSecretServer" RPC endpoint answers for while the service runs.
    endpoint_names: list[str] = field(default_factory=list)
    # Master secrets loaded in the running ENTSSO (by MSID); empty when it found none.
    loaded_secret: str = ""
    # Machine-scope environment variables ([Environment]::GetEnvironmentVariable(n, 'Machine')), e.g.
    # BTSINSTALLPATH, which BizTalk's setup sets.
    environment: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, ScheduledTask] = field(default_factory=dict)  # Task Scheduler's tasks, by upper-cased path
    firewall_rules: dict[str, FirewallRule] = field(default_factory=dict)  # by upper-cased rule name
    # The self-contained lab's machines start bare (simulator/world/surface/ad.py, ...): Win32_ComputerSystem's
    # DomainRole (2 standalone server, 3 member server, 5 primary domain controller), the node's own data disks,
    # its local accounts (the Azure admin), a restart shutdown.exe scheduled, and the managed identity it has.
    domain_role: int = 3
    data_disks: list[Disk] = field(default_factory=list)
    local_users: dict[str, User] = field(default_factory=dict)
    restart_scheduled: bool = False
    mounted_images: dict[str, str] = field(default_factory=dict)  # Mount-DiskImage: image path (key) -> drive letter
    managed_identity: str = ""  # the principal id of its system-assigned identity ("" = none)
    dtc_settings: dict[str, str | bool] = field(default_factory=dict)  # the local DTC's network settings (Local)

    def service(self, name: str) -> Service | None:
        return self.services.get(key(name))

    def registry_key(self, path: str) -> dict[str, str] | None:
        return self.registry.get(key(path))

    def subkeys(self, path: str) -> list[str]:
        prefix = key(path) + "\\"
        return sorted({k[len(prefix) :].split("\\", 1)[0] for k in self.registry if k.startswith(prefix)})

    def file(self, path: str) -> bytes | None:
        return self.files.get(path_key(path))

    def write_file(self, path: str, data: bytes) -> None:
        """Create or overwrite a file; a new file keeps the spelling of its name (NTFS preserves case)."""
        k = path_key(path)
        if k not in self.files:
            self.file_names[k] = ntpath.normpath(path)
        self.files[k] = bytes(data)

    def delete_file(self, path: str) -> None:
        k = path_key(path)
        self.files.pop(k, None)
        self.file_names.pop(k, None)

    def file_name(self, path: str) -> str:
        """The file's path as its name was spelt when it was created (its normalised form if unknown)."""
        k = path_key(path)
        return self.file_names.get(k, ntpath.normpath(path))


@dataclass
class Resource:
    name: str
    type: str  # "IP Address" | "Network Name" | "Generic Service" | "Distributed Transaction Coordinator"
    #            | "Physical Disk" | "Distributed Network Name" | "Cloud Witness"
    group: str
    parameters: dict[str, str | int] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)  # resource names, all required (AND)
    possible_owners: list[str] = field(default_factory=list)  # node names; empty means every node
    state: str = "Offline"  # "Online" | "Offline" | "Failed"
    # The private properties in effect: what `parameters` held when the resource last came online
    # (F-CLU-12: a change to an online resource is stored and takes effect at the next online).
    applied: dict[str, str | int] = field(default_factory=dict)


# Windows Server 2019's defaults (F-CLU-29): learn.microsoft.com/azure/azure-sql/virtual-machines/windows/
# hadr-cluster-best-practices, "Heartbeat and threshold" (the table of default values).
HEARTBEAT_DEFAULTS = {
    "SameSubnetDelay": 1000,
    "SameSubnetThreshold": 20,
    "CrossSubnetDelay": 1000,
    "CrossSubnetThreshold": 20,
}


@dataclass
class ClusterGroup:
    name: str
    owner_node: str
    preferred_owners: list[str] = field(default_factory=list)


@dataclass
class Quorum:
    type: str = "NodeMajority"  # "NodeMajority" | "NodeAndCloudWitness"
    account_name: str = ""
    endpoint: str = ""
    access_key: str = field(default="", repr=False)


@dataclass
class Cluster:
    name: str
    nodes: list[str]
    management_point: str = "Distributed"
    static_address: str = ""
    quorum: Quorum = field(default_factory=Quorum)
    groups: dict[str, ClusterGroup] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    access: dict[str, str] = field(default_factory=dict)  # account -> "Full" | "ReadOnly" (Allow entries)
    denied: list[str] = field(default_factory=list)  # accounts Block-ClusterAccess denied (F-CLU-10)
    # Cluster common properties a script sets on the Get-Cluster object (heartbeats: F-CLU-29).
    common_properties: dict[str, int] = field(default_factory=lambda: dict(HEARTBEAT_DEFAULTS))
    dtc_settings: dict[str, dict[str, str | bool]] = field(
        default_factory=dict
    )  # DTC name -> network settings

    def group(self, name: str) -> ClusterGroup | None:
        return self.groups.get(key(name))

    def resource(self, name: str) -> Resource | None:
        return self.resources.get(key(name))

    def group_resources(self, group: str) -> list[Resource]:
        return [r for r in self.resources.values() if key(r.group) == key(group)]

    def has_node(self, name: str) -> bool:
        return key(name) in {key(n) for n in self.nodes}


@dataclass
class Partition:
    number: int
    size: int  # bytes
    drive_letter: str = ""
    file_system: str = ""  # "" until Format-Volume
    label: str = ""


@dataclass
class Disk:
    """A disk every node sees (an Azure shared disk attached at `lun`), as Windows' storage stack reports it.

    It arrives RAW (F-AZ-03). It is a cluster disk while a Physical Disk resource names its `unique_id`
    (private property DiskIdGuid).
    """

    number: int  # the same disk number on every node
    lun: int
    size: int  # bytes
    unique_id: str
    partition_style: str = "RAW"  # "RAW" | "GPT" | "MBR"
    partitions: list[Partition] = field(default_factory=list)


@dataclass
class World:
    domain: Domain
    sql: SqlServer
    nodes: dict[str, Node] = field(default_factory=dict)
    cluster: Cluster | None = None
    disks: list[Disk] = field(default_factory=list)  # shared disks as the storage cmdlets see them
    cloud_platform: str = "Azure"  # what the cluster detects (ClusterCloudType): the nodes stand in for Azure VMs
    event_sequence: int = 0
    # Azure as a guest reaches it (simulator/world/surface/azure_guest.py): blobs by "account/container/blob", and
    # for each container ("account/container") the managed identities (principal ids) with a data-plane read role.
    blobs: dict[str, bytes] = field(default_factory=dict, repr=False)
    blob_readers: dict[str, list[str]] = field(default_factory=dict)

    def node(self, name: str) -> Node | None:
        return self.nodes.get(key(name))

    def log(self, node: Node, event_id: int, level: str, message: str) -> None:
        self.event_sequence += 1
        node.events.append(EventEntry(self.event_sequence, event_id, level, ENTSSO, message, time.time()))
