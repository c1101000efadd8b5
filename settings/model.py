"""The typed configuration of one stack.

Every field maps to a Pulumi config key under the project namespace (`entsso-cluster:<key>`);
structured keys hold objects. Field aliases are the config spelling (camelCase), so the error
for a bad value names the key path a user types in `pulumi config set --path`.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from settings import windows_names

PROJECT = "entsso-cluster"

# Characters Windows accepts in neither a NetBIOS computer name nor a DNS host name (KB 909264);
# the underscore is listed apart because the procedure's own example (MSS_CLUSTER) uses one.
_ILLEGAL_NAME_CHARS = set("\\/:*?\"<>|,~!@#$%^&'.(){}[];= +`")
_HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?$")
_ACCOUNT_CHAR = r"[^\\/\[\]:;|=,+*?<>\"\x00-\x1f\x7f]"  # what sAMAccountName and NetBIOS names refuse
_DOWN_LEVEL_ACCOUNT = re.compile(rf"^(?:(?!@){_ACCOUNT_CHAR}){{1,15}}\\{_ACCOUNT_CHAR}{{1,256}}$")
_ANY_CIDR = {"*", "0.0.0.0/0", "::/0", "any", "internet"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        """No setting's text holds a control character (settings/windows_names.py)."""
        if isinstance(value, str):
            problem = windows_names.control_character_problem(value)
            if problem:
                raise ValueError(problem)
        return value


def suggested_host_name(name: str) -> str:
    """The nearest legal host name: drop the characters DNS host names cannot hold, then cut to 15."""
    kept = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch == "-")).strip("-")
    return kept[:15].rstrip("-")


def check_host_name(name: str) -> str:
    """A Windows computer, cluster or network name that is also a legal DNS host name."""
    if not name:
        raise ValueError("must not be empty; use 1 to 15 letters, digits or hyphens")
    fix = suggested_host_name(name)
    hint = f"; use '{fix}'" if fix else ""
    if "_" in name:
        raise ValueError(f"'{name}' contains '_', which DNS host names cannot hold{hint}")
    bad = sorted({ch for ch in name if ch in _ILLEGAL_NAME_CHARS or not ch.isascii() or not ch.isprintable()})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise ValueError(f"'{name}' contains {shown}, which Windows computer names cannot hold{hint}")
    if len(name) > 15:
        raise ValueError(f"'{name}' is {len(name)} characters; NetBIOS allows 15, use '{name[:15].rstrip('-')}'")
    if name.isdigit():
        raise ValueError(f"'{name}' is all digits, which Windows refuses as a computer name; add a letter")
    if not _HOST_NAME.match(name):
        raise ValueError(f"'{name}' must start and end with a letter or digit{hint}")
    reserved = windows_names.host_name_reserved_problem(name)
    if reserved:
        raise ValueError(reserved)
    return name


HostName = Annotated[str, AfterValidator(check_host_name)]


def windows_path(value: str, *, directory: bool) -> str:
    """A full path on a node's own disk that Windows takes (F-FS-12, F-FS-13)."""
    problem = windows_names.windows_path_problem(value, directory=directory)
    if problem:
        raise ValueError(problem)
    return value


def parse_cidr(value: object) -> ipaddress.IPv4Network:
    """An IPv4 network in CIDR form, with a message that says how to fix it."""
    if isinstance(value, ipaddress.IPv4Network):
        return value
    text = str(value)
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as err:
        if "host bits set" in str(err):
            fixed = ipaddress.IPv4Network(text, strict=False)
            raise ValueError(f"'{text}' has host bits set; the network is {fixed}") from None
        raise ValueError(f"'{text}' is not an IPv4 CIDR; write it as e.g. 10.10.1.0/24") from None


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(parse_cidr)]


def check_account(value: str) -> str:
    """A domain account or group in down-level form, DOMAIN\\name, as ENTSSO's configuration wants it."""
    if not _DOWN_LEVEL_ACCOUNT.match(value):
        raise ValueError(f"'{value}' is not a DOMAIN\\name account; write it as e.g. CORP\\svc-entsso")
    return value


class Target(StrEnum):
    SIMULATOR = "simulator"
    AZURE = "azure"


class Tier(StrEnum):
    LAB = "lab"
    PRODUCTION = "production"


class Domain(_Model):
    fqdn: str = Field(max_length=253, pattern=r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
    netbios: HostName
    install_account: str = Field(description="runs the procedure: local admin on the nodes, SSO Administrator")
    service_account: str = Field(description="runs ENTSSO on every node; member of SSO Administrators")
    sso_admin_group: str
    sso_affiliate_admin_group: str

    @field_validator("install_account", "service_account", "sso_admin_group", "sso_affiliate_admin_group")
    @classmethod
    def _account(cls, value: str) -> str:
        return check_account(value)

    @model_validator(mode="after")
    def _accounts_in_domain(self) -> Domain:
        for key in ("install_account", "service_account", "sso_admin_group", "sso_affiliate_admin_group"):
            account: str = getattr(self, key)
            if account.split("\\", 1)[0].upper() != self.netbios.upper():
                raise ValueError(
                    f"{to_camel(key)} '{account}' is not in domain {self.netbios}; clustered ENTSSO needs domain "
                    f"accounts and groups, write it as {self.netbios}\\{account.split(chr(92))[-1]}"
                )
        return self


class Sql(_Model):
    server: str = Field(min_length=1, max_length=255, description="SQL Server (instance) holding SSODB")
    database: str = Field(default="SSODB", pattern=r"^[A-Za-z_][A-Za-z0-9_@$#]{0,127}$")


class Node(_Model):
    name: HostName
    ip: ipaddress.IPv4Address


_VNET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+$", re.IGNORECASE
)
_SUBNET_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
    re.IGNORECASE,
)
_ZONE_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/privateDnsZones/[^/]+$", re.IGNORECASE
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# RFC 1918: what "a private range" means for adminCidr (a runner or admin network behind the hub).
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def is_rfc1918(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return isinstance(network, ipaddress.IPv4Network) and any(network.subnet_of(r) for r in RFC1918)


def check_vnet_id(value: str) -> str:
    if not _VNET_ID.match(value):
        raise ValueError(
            f"'{value}' is not a virtual network resource id; write it as "
            "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<name>"
        )
    return value


class Hub(_Model):
    """The hub the nodes reach AD/DNS, SQL and the operators through (peering; docs/network.md)."""

    vnet_id: str | None = Field(
        default=None, description="peer the stack's VNet to this hub; leave out when the spoke is already peered"
    )
    address_space: list[Cidr] = Field(
        min_length=1, description="what the nodes reach through the hub: its ranges and what its gateway routes"
    )
    create_hub_side: bool = Field(
        default=False, description="also create the hub-to-spoke peering (needs write access to the hub VNet)"
    )
    use_remote_gateways: bool = Field(default=False, description="reach on-premises through the hub's VPN gateway")

    @field_validator("vnet_id")
    @classmethod
    def _vnet_id(cls, value: str | None) -> str | None:
        return None if value is None else check_vnet_id(value)

    @model_validator(mode="after")
    def _hub_side_needs_the_hub(self) -> Hub:
        if self.create_hub_side and self.vnet_id is None:
            raise ValueError("createHubSide needs vnetId: the hub-to-spoke peering lives on the hub VNet")
        return self


class PrivateDnsZones(_Model):
    """Existing privatelink zones (usually central, in the hub) that the nodes' DNS servers resolve."""

    blob: str | None = None  # privatelink.blob.core.windows.net
    vault: str | None = None  # privatelink.vaultcore.azure.net

    @field_validator("blob", "vault")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not _ZONE_ID.match(value):
            raise ValueError(
                f"'{value}' is not a private DNS zone resource id "
                "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/privateDnsZones/<zone>)"
            )
        return value


class Network(_Model):
    vnet_cidr: Cidr | None = None
    node_subnet_cidr: Cidr
    admin_cidr: str = Field(description="the only source allowed to reach WinRM (5986) on the nodes")
    admin_cidr_limit: int = Field(
        default=24, ge=1, le=32, description="the widest adminCidr accepted, as a prefix length (a /24 by default)"
    )
    existing_subnet_id: str | None = None
    hub: Hub | None = None
    private_dns_zone_ids: PrivateDnsZones | None = None

    @field_validator("existing_subnet_id")
    @classmethod
    def _subnet_id(cls, value: str | None) -> str | None:
        if value is not None and not _SUBNET_ID.match(value):
            raise ValueError(
                f"'{value}' is not a subnet resource id "
                "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>)"
            )
        return value

    @field_validator("admin_cidr")
    @classmethod
    def _admin_cidr(cls, value: str) -> str:
        if value.strip().lower() in _ANY_CIDR:
            raise ValueError(f"'{value}' opens WinRM to everyone; give the runner's or admins' CIDR, e.g. 10.10.9.0/28")
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError as err:
            raise ValueError(f"'{value}' is not a CIDR ({err}); write it as e.g. 10.10.9.0/28") from None
        if network.prefixlen == 0:
            raise ValueError(f"'{value}' opens WinRM to everyone; give the runner's or admins' CIDR")
        return value

    @model_validator(mode="after")
    def _subnet_in_vnet(self) -> Network:
        if self.vnet_cidr is not None and not self.node_subnet_cidr.subnet_of(self.vnet_cidr):
            raise ValueError(f"nodeSubnetCidr {self.node_subnet_cidr} is not inside vnetCidr {self.vnet_cidr}")
        return self


class Heartbeat(_Model):
    """The cluster's heartbeat delays (milliseconds) and thresholds (missed heartbeats). The defaults are the relaxed
    values Microsoft recommends for clusters on Azure VMs, Windows Server 2012 and later: 1 second and 40 heartbeats
    (learn.microsoft.com/azure/azure-sql/virtual-machines/windows/hadr-cluster-best-practices, "Heartbeat and
    threshold"); the limits are the cluster common properties' own (docs/windows-facts.md F-CLU-29)."""

    same_subnet_delay: int = Field(default=1000, ge=250, le=2000)
    same_subnet_threshold: int = Field(default=40, ge=3, le=120)
    cross_subnet_delay: int = Field(default=1000, ge=250, le=4000)
    cross_subnet_threshold: int = Field(default=40, ge=3, le=120)

    @model_validator(mode="after")
    def _same_subnet_not_above_cross_subnet(self) -> Heartbeat:
        if self.same_subnet_delay > self.cross_subnet_delay or self.same_subnet_threshold > self.cross_subnet_threshold:
            raise ValueError("the same-subnet delay and threshold must not exceed the cross-subnet ones")
        return self


class Cluster(_Model):
    name: HostName
    management_point: Literal["Distributed", "Singleton"] = "Distributed"
    ip: ipaddress.IPv4Address | None = Field(
        default=None, description="the core cluster IP of a Singleton management point (simulator only)"
    )
    witness: Literal["cloud", "none"] = "cloud"
    heartbeat: Heartbeat | None = Field(
        default=None, description="heartbeat settings; unset: Microsoft's for Azure, Windows' own on the simulator"
    )

    def heartbeat_for(self, target: Target) -> dict[str, int] | None:
        """The heartbeat settings the FailoverCluster resource converges: the stack's, else Microsoft's on Azure."""
        chosen = self.heartbeat if self.heartbeat is not None else Heartbeat() if target is Target.AZURE else None
        return None if chosen is None else chosen.model_dump()


_SHA256 = re.compile(r"^[0-9A-Fa-f]{64}$")
_STORAGE_ACCOUNT_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Storage/storageAccounts/[a-z0-9]{3,24}$",
    re.IGNORECASE,
)
# Blob container names: 3-63 lower-case letters, digits and single hyphens, starting with a letter or digit
# (learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata).
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
MEDIA_KINDS = (".iso", ".zip", ".exe", ".msi")


class Media(_Model):
    """The BizTalk or HIS install media, uploaded once by the user to a blob container they own."""

    storage_account_id: str = Field(description="the storage account holding the container (resource id)")
    container: str = Field(description="the blob container, e.g. entsso-media")
    blob: str = Field(min_length=5, max_length=1024, description="the uploaded file: .iso, .zip, .exe or .msi")
    sha256: str = Field(description="the file's SHA-256, as Get-FileHash or sha256sum prints it")
    staging_directory: str = Field(default=r"C:\Install\BizTalk", description="where each node keeps it")

    @field_validator("staging_directory")
    @classmethod
    def _staging_directory(cls, value: str) -> str:
        return windows_path(value, directory=True)

    @field_validator("storage_account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        if not _STORAGE_ACCOUNT_ID.match(value):
            raise ValueError(
                f"'{value}' is not a storage account resource id "
                "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<name>)"
            )
        return value

    @field_validator("container")
    @classmethod
    def _container(cls, value: str) -> str:
        if not _CONTAINER.match(value):
            raise ValueError(
                f"'{value}' is not a blob container name: 3-63 lower-case letters, digits and single hyphens"
            )
        return value

    @field_validator("blob")
    @classmethod
    def _blob(cls, value: str) -> str:
        if not value.lower().endswith(MEDIA_KINDS):
            raise ValueError(f"'{value}' is not an .iso, .zip, .exe or .msi file; upload the media as one of those")
        if "\\" in value or value.startswith("/") or any(ord(ch) < 32 for ch in value):
            raise ValueError(f"'{value}' is not a blob name; use the name shown in the container, e.g. btsdev.iso")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        if not _SHA256.match(value):
            raise ValueError("is not a SHA-256: 64 hexadecimal characters (Get-FileHash -Algorithm SHA256, sha256sum)")
        return value.upper()


class Sso(_Model):
    network_name: HostName = Field(description="the client access point of the ENTSSO role; SSODB's secret server")
    ip: ipaddress.IPv4Address
    probe_port: int = Field(default=59999, ge=1024, le=65535)
    installer: str = Field(default=r"C:\Install\BizTalk\Setup.exe", min_length=3)
    product: Literal["biztalk", "his"] = "biztalk"
    backup_directory: str = Field(default=r"C:\ProgramData\EntssoCluster")
    backup_reminder: str = Field(min_length=1, max_length=512)
    media: Media | None = Field(
        default=None, description="fetch the install media from a storage container onto every node (Azure)"
    )

    @field_validator("installer")
    @classmethod
    def _installer(cls, value: str) -> str:
        return windows_path(value, directory=False)

    @field_validator("backup_directory")
    @classmethod
    def _backup_directory(cls, value: str) -> str:
        return windows_path(value, directory=True)


class Dtc(_Model):
    enabled: bool = True
    network_name: HostName = "MSSDTC"
    ip: ipaddress.IPv4Address | None = None
    probe_port: int = Field(default=59998, ge=1024, le=65535)
    disk: str = Field(default="Cluster Disk 1", min_length=1)
    disk_size_gb: int = Field(
        default=32, ge=4, le=32767, description="the Azure shared disk: 32 GiB is a P4, which allows 3 nodes"
    )

    @field_validator("disk")
    @classmethod
    def _disk(cls, value: str) -> str:
        problem = windows_names.cluster_resource_name_problem(value, {})
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _ip_when_enabled(self) -> Dtc:
        if self.enabled and self.ip is None:
            raise ValueError("a clustered DTC needs its own client access point: set ip, or enabled: false")
        return self


class WinRm(_Model):
    transport: Literal["ntlm", "kerberos", "credssp", "basic"] = "ntlm"
    scheme: Literal["https", "http"] = "https"
    port: int = Field(default=5986, ge=1, le=65535)
    certificate_validation: Literal["validate", "pin", "ignore"] = "validate"
    ca_bundle: str | None = None
    delegation: Literal["CredSSP", "ScheduledTask"] = "ScheduledTask"
    allow_http: bool = False
    operation_timeout_seconds: int = Field(default=20, ge=5, le=300)
    deadline_seconds: int = Field(default=1800, ge=30, le=14400)
    retry_attempts: int = Field(default=4, ge=1, le=20, description="tries per script on transient transport faults")
    retry_backoff_seconds: float = Field(default=1.0, ge=0, le=60, description="first wait; doubles up to 30 s")
    skip_unreachable_on_delete: bool = False

    @model_validator(mode="after")
    def _transport_rules(self) -> WinRm:
        if self.scheme == "http" and not self.allow_http:
            raise ValueError("scheme http sends WinRM without TLS; use https, or set allowHttp: true (simulator only)")
        if self.transport == "basic" and self.scheme == "http":
            raise ValueError("basic over http sends the password in clear text; use ntlm, kerberos or credssp")
        if self.delegation == "CredSSP" and self.transport != "credssp":
            raise ValueError("delegation CredSSP needs transport credssp; or use delegation ScheduledTask")
        return self


class Simulator(_Model):
    host: Literal["127.0.0.1"] = "127.0.0.1"
    base_port: int = Field(default=45985, ge=1024, le=65000)
    state_directory: str = ".entsso/sim"


class ResourceGroup(_Model):
    name: str = Field(pattern=r"^[-\w._()]{1,89}[-\w_()]$")
    create: bool = True


class LabMachine(_Model):
    """A VM the self-contained lab builds beside the nodes (directory.source create)."""

    name: HostName
    ip: ipaddress.IPv4Address
    vm_size: str = Field(default="Standard_B2ms", pattern=r"^Standard_[A-Za-z0-9_]+$")


class DomainController(LabMachine):
    vm_size: str = Field(
        default="Standard_B2s", pattern=r"^Standard_[A-Za-z0-9_]+$", description="a lab DC: 2 vCPU, 4 GiB"
    )


class Directory(_Model):
    """Where the domain (and its DNS) comes from.

    existing: AD DS the nodes reach through the hub or their own spoke (`dnsServers` names its DCs).
    create (a lab only): the stack builds a domain controller for a new forest (`domain.fqdn`,
    `domain.netbios`), a SQL Server 2022 Developer VM for SSODB, the accounts, groups and the cluster
    OU, all in `subnetCidr` inside the lab's own VNet, whose DNS is then the DC.
    """

    source: Literal["existing", "create"] = Field(
        default="existing",
        description="existing: your AD DS and SQL Server; create: the lab builds a forest, SQL Server and accounts",
    )
    dns_servers: list[ipaddress.IPv4Address] | None = Field(
        default=None, description="existing: the domain controllers that serve DNS to the nodes"
    )
    subnet_cidr: Cidr | None = Field(default=None, description="create: the subnet of the lab's DC and SQL Server")
    domain_controller: DomainController | None = None
    sql_server: LabMachine | None = None
    node_admin_group: str | None = Field(
        default=None, description="create: the domain group made a local Administrator on every node"
    )
    sql_service_account: str | None = Field(default=None, description="create: runs the lab's SQL Server service")

    @field_validator("node_admin_group", "sql_service_account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return None if value is None else check_account(value)


class Azure(_Model):
    location: str = Field(pattern=r"^[a-z0-9]+$")
    resource_group: ResourceGroup
    placement: Literal["zones", "availabilitySet"] = "availabilitySet"
    zones: list[Literal["1", "2", "3"]] = Field(default=["1", "2"])
    vm_size: str = Field(default="Standard_D2s_v5", pattern=r"^Standard_[A-Za-z0-9_]+$")
    admin_username: str = Field(default="azadmin", pattern=r"^[A-Za-z][A-Za-z0-9._-]{0,19}$")
    winrm_access: Literal["private", "publicLoadBalancer"] = Field(
        default="private",
        description="private: through peering/VPN to the nodes' addresses; publicLoadBalancer: one NAT port per node",
    )
    public_entry_first_port: int = Field(
        default=50001, ge=1024, le=65000, description="the entry's port for node 1; node i listens on first + i - 1"
    )
    bastion: Literal["none", "Developer", "Basic", "Standard"] = "none"
    escrow: Literal["keyVault", "none"] = "keyVault"
    break_glass_group_id: str | None = Field(
        default=None, description="Entra ID group (object id) that may read the escrowed backup: Key Vault Secrets User"
    )
    os_disk_type: Literal["StandardSSD_LRS", "Premium_LRS", "StandardSSD_ZRS", "Premium_ZRS"] | None = Field(
        default=None, description="lab: StandardSSD_LRS, production: Premium_LRS unless set"
    )
    domain_join_account: str
    domain_join_ou: str | None = None
    image_version: str = "latest"

    @field_validator("break_glass_group_id")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError(f"'{value}' is not an object id; copy the group's Object ID (a GUID) from Entra ID")
        return value

    @field_validator("domain_join_account")
    @classmethod
    def _join_account(cls, value: str) -> str:
        return check_account(value)

    @field_validator("admin_username")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in {"administrator", "admin", "user", "root", "guest", "test", "owner", "sys"}:
            raise ValueError(f"Azure refuses '{value}' as the VM admin user name; choose another, e.g. azadmin")
        return value

    @model_validator(mode="after")
    def _zones(self) -> Azure:
        if self.placement == "zones" and len(set(self.zones)) < 2:
            raise ValueError("placement zones needs two different zones, e.g. zones: ['1', '2']")
        return self


class Secrets(_Model):
    """Secret config keys; each is set with `pulumi config set --secret <key>`."""

    install_password: SecretStr | None = None
    service_account_password: SecretStr | None = None
    backup_password: SecretStr | None = None
    vm_admin_password: SecretStr | None = None
    domain_join_password: SecretStr | None = None
    dsrm_password: SecretStr | None = None  # directory.source create: the new forest's Directory Services Restore Mode
    sql_service_password: SecretStr | None = None  # directory.source create: the lab SQL Server's service account

    @field_validator("*")
    @classmethod
    def _no_control_characters_in_secrets(cls, value: object, info: ValidationInfo) -> object:
        """A password with a control character: refused without showing it (settings/windows_names.py)."""
        encrypted: set[str] = (info.context or {}).get("encrypted", set())
        if isinstance(value, SecretStr) and to_camel(str(info.field_name)) not in encrypted:
            problem = windows_names.control_character_problem(value.get_secret_value(), secret=True)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("backup_password")
    @classmethod
    def _backup_password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        encrypted: set[str] = (info.context or {}).get("encrypted", set())
        if value is None or "backupPassword" in encrypted:
            return value
        problem = backup_password_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value


SECRET_KEYS = tuple(to_camel(name) for name in Secrets.model_fields)


def windows_password_problem(password: str, account: str | None = None) -> str | None:
    """Why Windows' password complexity rule would refuse `password` for a new account, or None.

    The default domain policy requires complexity: at least three of upper-case letters, lower-case
    letters, digits and other characters, and not the account name (learn.microsoft.com/windows/
    security/threat-protection/security-policy-settings/password-must-meet-complexity-requirements);
    we also require 8 to 127 characters.
    """
    if len(password) < 8:
        return "is shorter than 8 characters; Windows accounts the lab creates need 8 to 127"
    if len(password) > 127:
        return "is longer than 127 characters; Windows accounts the lab creates need 8 to 127"
    classes = [
        any(ch.isupper() for ch in password),
        any(ch.islower() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    ]
    if sum(classes) < 3:
        return "needs three of: upper-case letters, lower-case letters, digits, symbols (Windows complexity rule)"
    if account and len(account) >= 3 and account.lower() in password.lower():
        return f"contains the account name '{account}', which Windows' complexity rule refuses"
    return None


def backup_password_problem(password: str) -> str | None:
    """Why a master secret backup password is too weak, or None.

    The SSO configuration wizard asks for a strong password; we hold it to the Windows complexity
    rule (8 or more characters, three of the four character classes) and a ceiling that keeps it
    typeable at an `ssoconfig -restoresecret` prompt.
    """
    if len(password) < 8:
        return "is shorter than 8 characters; the SSO backup password needs 8 to 128"
    if len(password) > 128:
        return "is longer than 128 characters; the SSO backup password needs 8 to 128"
    classes = [
        any(ch.isupper() for ch in password),
        any(ch.islower() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    ]
    if sum(classes) < 3:
        return "needs three of: upper-case letters, lower-case letters, digits, symbols"
    return None
