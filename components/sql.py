"""The self-contained lab's SQL Server for SSODB (directory.source create): `entsso:sql:LabSqlServer`.

SQL Server 2022 Developer on Windows Server 2022 from Microsoft's marketplace image (publisher
MicrosoftSQLServer, offer sql2022-ws2022, SKU sqldev-gen2: `az vm image list --publisher MicrosoftSQLServer
--offer sql2022-ws2022 --sku sqldev-gen2 --all` lists its versions; learn.microsoft.com/azure/azure-sql/
virtual-machines/windows/create-sql-vm-powershell shows how to list the SKUs of an offer). Developer is free
to license and may not serve production, which a lab is not.

In order: the VM; a WaitForDirectory Run Command that waits for the lab's forest to answer (it is also the
signal that the DC has restarted after its promotion, see `components/directory.py`); after the directory's
accounts exist (`configure`), the domain join, then ConfigureSql (`components/scripts/sql_configure.ps1`):
the service under its domain account, TCP/IP and the firewall, network DTC, and the install account's login
in sysadmin. ConfigureSql runs as the VM's local administrator, whom the image makes a sysadmin.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import compute

from components import guest
from components.directory import lab_vm
from settings import StackSettings

SQL_PUBLISHER = "MicrosoftSQLServer"
SQL_OFFER = "sql2022-ws2022"
SQL_SKU = "sqldev-gen2"
DIRECTORY_WAIT_SECONDS = 2400  # a DC promotion and restart take 10 to 20 minutes on a small VM


def wait_for_directory(
    name: str,
    config: StackSettings,
    *,
    vm_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    dc_address: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    after: list[pulumi.Resource],
) -> compute.VirtualMachineRunCommandByVirtualMachine:
    """WaitForDirectory on one VM: succeeds once the forest answers DNS SRV, LDAP and the DC locator."""
    assert config.azure is not None
    return guest.run_command(
        name,
        command=guest.WAIT_FOR_DIRECTORY,
        vm_name=vm_name,
        resource_group_name=resource_group_name,
        location=config.azure.location,
        parameters={
            "DomainNameBase64": guest.encoded(config.domain.fqdn),
            "DomainControllerAddress": dc_address,
            "TimeoutSeconds": str(DIRECTORY_WAIT_SECONDS),
        },
        timeout_seconds=DIRECTORY_WAIT_SECONDS + 600,
        tags=tags,
        parent=parent,
        depends_on=after,
    )


class LabSqlServer(pulumi.ComponentResource):
    name: str
    ip: str
    vm_id: pulumi.Output[str]
    directory_answers: compute.VirtualMachineRunCommandByVirtualMachine
    join: compute.VirtualMachineExtension
    configured: compute.VirtualMachineRunCommandByVirtualMachine

    def __init__(
        self,
        name: str,
        config: StackSettings,
        *,
        resource_group_name: pulumi.Input[str],
        subnet_id: pulumi.Input[str],
        dc_address: str,
        forest: pulumi.Resource,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:sql:LabSqlServer", name, None, opts)
        directory, azure = config.directory, config.azure
        if azure is None or directory is None or directory.sql_server is None:
            raise ValueError("LabSqlServer is for entsso-cluster:directory.source create on Azure")
        self._config = config
        self._name = name
        self._rg = resource_group_name
        self._tags = dict(tags)
        machine = directory.sql_server
        self.name = machine.name
        self.ip = str(machine.ip)
        _, vm = lab_vm(
            f"{name}",
            config=config,
            machine=machine,
            image=compute.ImageReferenceArgs(publisher=SQL_PUBLISHER, offer=SQL_OFFER, sku=SQL_SKU, version="latest"),
            resource_group_name=resource_group_name,
            subnet_id=subnet_id,
            tags=tags,
            parent=self,
            # Platform patching is documented per image; the OS's own Windows Update works on every image.
            patch_mode="AutomaticByOS",
        )
        self._vm = vm
        self.vm_id = vm.id
        self.directory_answers = wait_for_directory(
            f"{name}-wait-directory",
            config,
            vm_name=vm.name,
            resource_group_name=resource_group_name,
            dc_address=dc_address,
            tags=tags,
            parent=self,
            after=[forest],
        )

    def configure(self, *, accounts: pulumi.Resource) -> None:
        """Join the forest once `accounts` (the join account, the SQL service account) exist, then configure SQL."""
        config = self._config
        directory, azure = config.directory, config.azure
        assert directory is not None and azure is not None and directory.sql_service_account is not None
        # Into the default Computers container: any domain user may join ten computers there
        # (ms-DS-MachineAccountQuota); the cluster OU is for the cluster's own computer objects.
        self.join = guest.domain_join(
            f"{self._name}-join",
            vm_name=self._vm.name,
            resource_group_name=self._rg,
            location=azure.location,
            domain_fqdn=config.domain.fqdn,
            account=azure.domain_join_account,
            password=config.secret("domainJoinPassword"),
            ou_path=None,
            tags=self._tags,
            parent=self,
            depends_on=[self.directory_answers, accounts],
        )
        self.configured = guest.run_command(
            f"{self._name}-configure",
            command=guest.CONFIGURE_SQL,
            vm_name=self._vm.name,
            resource_group_name=self._rg,
            location=azure.location,
            parameters={
                "InstallAccountBase64": guest.encoded(config.domain.install_account),
                "SqlServiceAccountBase64": guest.encoded(directory.sql_service_account),
                "ClientCidr": str(config.network.node_subnet_cidr),
            },
            protected={"SqlServicePasswordBase64": guest.encoded_secret(config.secret("sqlServicePassword"))},
            # The image's sysadmin: the VM's own administrator, named with the computer so that the domain's
            # account of the same name (the DC's administrator became the domain's) is not the one that logs on.
            run_as=(f"{self.name}\\{azure.admin_username}", config.secret("vmAdminPassword")),
            tags=self._tags,
            parent=self,
            depends_on=[self.join],
        )
        self.register_outputs(
            {
                "name": self.name,
                "ip": self.ip,
                "vmId": self.vm_id,
                "directoryAnswers": self.directory_answers.id,
                "join": self.join.id,
                "configured": self.configured.id,
            }
        )
