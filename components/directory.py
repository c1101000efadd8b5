"""The self-contained lab's directory (directory.source create): `entsso:directory:LabDirectory`.

A Windows Server 2022 domain controller in the lab's `snet-infra` that creates a new forest (Run Command
CreateForest, `components/scripts/dc_forest.ps1`), then, once the forest answers, the accounts and groups
(DirectoryAccounts, `ad_accounts.ps1`) and the cluster's OU with its prestaged cluster name object and
rights (ClusterOu, `ad_cluster_ou.ps1`).

Why the order is what it is:
- The VNet's DNS servers are the DC's static address from the start (`reach.dns_servers`): the VNet must
  exist before the DC, and Pulumi owns it as one resource that it cannot write twice in one run. Nothing
  needs that DNS server before the forest answers: the VM agent and its Run Commands reach Azure through
  168.63.129.16 by address, the promotion of a new forest asks no DNS server, and every step that needs
  the directory (the joins, the accounts, SQL Server, the media) waits for it explicitly.
- The promotion restarts the DC. A Run Command that restarts its own VM never reports back, so the forest
  script schedules the restart and returns. The next step on the DC must not start before that restart:
  it waits for the SQL Server VM's WaitForDirectory Run Command (`components/sql.py`), which can only
  succeed once the restarted DC answers DNS SRV, LDAP and the DC locator. Hence `populate`, called once that
  Run Command exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import compute, network

from components import guest
from settings import LabMachine, StackSettings, reach
from settings.stack import lab_ou_name

WINDOWS_PUBLISHER = "MicrosoftWindowsServer"
WINDOWS_OFFER = "WindowsServer"
WINDOWS_SKU = "2022-datacenter-azure-edition"
NTDS_DISK_GB = 32  # an E4: the directory database, logs and SYSVOL of a lab forest fit many times over
NTDS_DISK_LUN = 0


@dataclass(frozen=True)
class JoinGate:
    """What a node of the self-contained lab waits for: the forest to answer, then what its join needs."""

    dc_address: str  # the DC's static address, the VNet's DNS server
    forest: pulumi.Resource  # CreateForest: the node's WaitForDirectory starts after it
    joinable: Sequence[pulumi.Resource]  # the cluster OU and the join account exist
    ready: Sequence[pulumi.Resource]  # SQL Server configured: the procedure may start on the node
    node_admin_group: str


def lab_vm(
    name: str,
    *,
    config: StackSettings,
    machine: LabMachine,
    image: compute.ImageReferenceArgs,
    resource_group_name: pulumi.Input[str],
    subnet_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    patch_mode: str,
    data_disks: list[compute.DataDiskArgs] | None = None,
) -> tuple[network.NetworkInterface, compute.VirtualMachine]:
    """A lab VM beside the nodes: static private address, Trusted Launch, no public IP, everything deleted with it."""
    azure = config.azure
    if azure is None:
        raise ValueError("entsso-cluster:azure: is required for target azure")
    lower = machine.name.lower()
    tag_map = dict(tags)
    child = pulumi.ResourceOptions(parent=parent)
    nic = network.NetworkInterface(
        f"{name}-nic",
        network_interface_name=f"nic-{lower}",
        resource_group_name=resource_group_name,
        location=azure.location,
        ip_configurations=[
            network.NetworkInterfaceIPConfigurationArgs(
                name="ipconfig1",
                primary=True,
                private_ip_allocation_method="Static",
                private_ip_address=str(machine.ip),
                private_ip_address_version="IPv4",
                subnet=network.SubnetArgs(id=subnet_id),
            )
        ],
        # No DNS servers of its own: it takes the VNet's, the lab DC (which, on the DC, is itself).
        tags=tag_map,
        opts=child,
    )
    automatic = patch_mode != "Manual"
    vm = compute.VirtualMachine(
        f"{name}-vm",
        vm_name=machine.name,
        resource_group_name=resource_group_name,
        location=azure.location,
        hardware_profile=compute.HardwareProfileArgs(vm_size=machine.vm_size),
        security_profile=compute.SecurityProfileArgs(
            security_type="TrustedLaunch",
            uefi_settings=compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True),
        ),
        storage_profile=compute.StorageProfileArgs(
            image_reference=image,
            os_disk=compute.OSDiskArgs(
                name=f"osdisk-{lower}",
                create_option="FromImage",
                delete_option="Delete",
                caching=compute.CachingTypes.READ_WRITE,
                managed_disk=compute.ManagedDiskParametersArgs(storage_account_type=reach.os_disk_type(config)),
            ),
            data_disks=data_disks,
        ),
        os_profile=compute.OSProfileArgs(
            computer_name=machine.name,
            admin_username=azure.admin_username,
            admin_password=pulumi.Output.secret(config.secret("vmAdminPassword")),
            windows_configuration=compute.WindowsConfigurationArgs(
                provision_vm_agent=True,
                enable_automatic_updates=automatic,
                patch_settings=compute.PatchSettingsArgs(patch_mode=patch_mode),
            ),
        ),
        network_profile=compute.NetworkProfileArgs(
            # The NIC is a Pulumi resource of its own, deleted after the VM; deleteOption Delete would remove it
            # behind Pulumi's back whenever the VM is replaced. What the VM creates itself (its disks) goes with it.
            network_interfaces=[compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]
        ),
        diagnostics_profile=compute.DiagnosticsProfileArgs(boot_diagnostics=compute.BootDiagnosticsArgs(enabled=True)),
        tags=tag_map,
        opts=child,
    )
    return nic, vm


class LabDirectory(pulumi.ComponentResource):
    """The lab's forest: its DC, then (after `populate`) its accounts, groups and the cluster OU."""

    dc_name: str
    dc_ip: str
    vm_id: pulumi.Output[str]
    forest: compute.VirtualMachineRunCommandByVirtualMachine
    accounts: compute.VirtualMachineRunCommandByVirtualMachine
    cluster_ou: compute.VirtualMachineRunCommandByVirtualMachine
    ou_path: str

    def __init__(
        self,
        name: str,
        config: StackSettings,
        *,
        resource_group_name: pulumi.Input[str],
        subnet_id: pulumi.Input[str],
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:directory:LabDirectory", name, None, opts)
        directory, azure = config.directory, config.azure
        if azure is None or directory is None or directory.domain_controller is None:
            raise ValueError("LabDirectory is for entsso-cluster:directory.source create on Azure")
        if azure.domain_join_ou is None or lab_ou_name(config) is None:
            raise ValueError("entsso-cluster:azure.domainJoinOu must be OU=<name>,<domain> for directory.source create")
        self._config = config
        self._name = name
        self._rg = resource_group_name
        self._tags = dict(tags)
        dc = directory.domain_controller
        self.dc_name = dc.name
        self.dc_ip = str(dc.ip)
        self.ou_path = azure.domain_join_ou

        _, vm = lab_vm(
            f"{name}-dc",
            config=config,
            machine=dc,
            image=compute.ImageReferenceArgs(
                publisher=WINDOWS_PUBLISHER, offer=WINDOWS_OFFER, sku=WINDOWS_SKU, version=azure.image_version
            ),
            resource_group_name=resource_group_name,
            subnet_id=subnet_id,
            tags=tags,
            parent=self,
            patch_mode="AutomaticByPlatform",
            # The directory database on a disk without host caching (dc_forest.ps1 formats it).
            data_disks=[
                compute.DataDiskArgs(
                    name=f"datadisk-{dc.name.lower()}-ntds",
                    lun=NTDS_DISK_LUN,
                    create_option="Empty",
                    disk_size_gb=NTDS_DISK_GB,
                    caching=compute.CachingTypes.NONE,
                    managed_disk=compute.ManagedDiskParametersArgs(storage_account_type="StandardSSD_LRS"),
                    delete_option="Delete",
                )
            ],
        )
        self._vm = vm
        self.vm_id = vm.id
        self.forest = guest.run_command(
            f"{name}-forest",
            command=guest.CREATE_FOREST,
            vm_name=vm.name,
            resource_group_name=resource_group_name,
            location=azure.location,
            parameters={
                "DomainNameBase64": guest.encoded(config.domain.fqdn),
                "NetbiosNameBase64": guest.encoded(config.domain.netbios),
            },
            protected={"DsrmPasswordBase64": guest.encoded_secret(config.secret("dsrmPassword"))},
            timeout_seconds=3600,
            tags=tags,
            parent=self,
        )

    def populate(self, *, answered: pulumi.Resource) -> None:
        """The accounts, groups and cluster OU, once `answered` (a WaitForDirectory Run Command) has succeeded."""
        config = self._config
        directory, azure = config.directory, config.azure
        assert directory is not None and azure is not None and directory.sql_server is not None
        assert directory.node_admin_group is not None and directory.sql_service_account is not None
        domain = config.domain
        sql_host = f"{directory.sql_server.name}.{domain.fqdn}"
        self.accounts = guest.run_command(
            f"{self._name}-accounts",
            command=guest.DIRECTORY_ACCOUNTS,
            vm_name=self._vm.name,
            resource_group_name=self._rg,
            location=azure.location,
            parameters={
                "DomainNameBase64": guest.encoded(domain.fqdn),
                "InstallAccountBase64": guest.encoded(domain.install_account),
                "ServiceAccountBase64": guest.encoded(domain.service_account),
                "SqlServiceAccountBase64": guest.encoded(directory.sql_service_account),
                "JoinAccountBase64": guest.encoded(azure.domain_join_account),
                "SsoAdminGroupBase64": guest.encoded(domain.sso_admin_group),
                "SsoAffiliateAdminGroupBase64": guest.encoded(domain.sso_affiliate_admin_group),
                "NodeAdminGroupBase64": guest.encoded(directory.node_admin_group),
                "SqlServerHostBase64": guest.encoded(sql_host),
            },
            protected={
                "InstallPasswordBase64": guest.encoded_secret(config.secret("installPassword")),
                "ServicePasswordBase64": guest.encoded_secret(config.secret("serviceAccountPassword")),
                "SqlServicePasswordBase64": guest.encoded_secret(config.secret("sqlServicePassword")),
                "JoinPasswordBase64": guest.encoded_secret(config.secret("domainJoinPassword")),
            },
            tags=self._tags,
            parent=self,
            depends_on=[self.forest, answered],
        )
        ou_name = lab_ou_name(config)
        assert ou_name is not None
        self.cluster_ou = guest.run_command(
            f"{self._name}-cluster-ou",
            command=guest.CLUSTER_OU,
            vm_name=self._vm.name,
            resource_group_name=self._rg,
            location=azure.location,
            parameters={
                "DomainNameBase64": guest.encoded(domain.fqdn),
                "OuNameBase64": guest.encoded(ou_name),
                "ClusterNameBase64": guest.encoded(config.cluster.name),
                "InstallAccountBase64": guest.encoded(domain.install_account),
                "JoinAccountBase64": guest.encoded(azure.domain_join_account),
            },
            tags=self._tags,
            parent=self,
            # Two Run Commands on one VM run at the same time unless ordered; the rights need the accounts.
            depends_on=[self.accounts],
        )
        self.register_outputs(
            {
                "domainController": self.dc_name,
                "dnsServer": self.dc_ip,
                "vmId": self.vm_id,
                "forest": self.forest.id,
                "accounts": self.accounts.id,
                "clusterOu": self.cluster_ou.id,
                "ouPath": self.ou_path,
            }
        )
