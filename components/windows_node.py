"""One cluster node: `entsso:compute:WindowsNode`.

NIC with a static private IP in the load balancer's backend pool (and, in a lab with a public entry,
behind that entry's NAT rule for this node), a Trusted Launch Windows Server 2022 Azure Edition VM,
the domain join extension, and a managed Run Command that turns on WinRM over HTTPS, opens the guest
firewall for the operator and the load balancer probes, and returns the listener certificate's
thumbprint for the runner to pin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import pulumi
from pulumi_azure_native import compute, network

from components import guest, lab_plan
from components.access import NodeAccess
from components.directory import JoinGate
from components.entry import OperatorEntry
from components.failover_cluster import SHARED_DISK_LUN, client_access_points
from components.media import media_reader, stage_media
from components.sql import wait_for_directory
from settings import Node, StackSettings, Tier, reach

IMAGE_PUBLISHER = "MicrosoftWindowsServer"
IMAGE_OFFER = "WindowsServer"
IMAGE_SKU = "2022-datacenter-azure-edition"
RUN_COMMAND_NAME = lab_plan.ENABLE_WINRM
WINRM_SCRIPT = Path(__file__).resolve().parent / "scripts" / "enable_winrm_https.ps1"
_THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")


@cache
def winrm_script() -> str:
    return WINRM_SCRIPT.read_text(encoding="utf-8")


def thumbprint_from_output(text: str | None) -> str | None:
    """The certificate thumbprint in the Run Command's last output line (one JSON object), or None.

    None means there is no output to read (the instance view was not returned). Output that is
    there but does not end in the script's result line is an error: pinning a wrong value would
    lock the runner out, accepting none would silently drop the pin.
    """
    if text is None:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise ValueError(
            f"the {RUN_COMMAND_NAME} Run Command did not end with its JSON result line; see its instance view"
        ) from None
    thumbprint = result.get("thumbprint") if isinstance(result, dict) else None
    if not isinstance(thumbprint, str) or not _THUMBPRINT.match(thumbprint.upper()):
        raise ValueError(f"the {RUN_COMMAND_NAME} Run Command result has no SHA-1 thumbprint")
    return thumbprint.upper()


def _output_text(instance_view: Any) -> str | None:
    """`instance_view.output`, whether the view arrives typed, as a dict, or not at all."""
    if instance_view is None:
        return None
    if isinstance(instance_view, Mapping):
        value = instance_view.get("output")
    else:
        value = getattr(instance_view, "output", None)
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class WindowsNodeArgs:
    config: StackSettings
    node: Node
    resource_group_name: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    backend_pool_id: pulumi.Input[str]
    tags: Mapping[str, str]
    nic_security_group_id: pulumi.Input[str] | None = None  # when the NSG cannot sit on the subnet
    availability_set_id: pulumi.Input[str] | None = None  # lab: the shared availability set
    zone: str | None = None  # production: this node's zone
    shared_disk_id: pulumi.Input[str] | None = None  # clustered DTC: attached at LUN 0
    entry: OperatorEntry | None = None  # lab: the public load balancer that forwards one port to this node
    directory: JoinGate | None = None  # self-contained lab: join only once the lab's forest answers


def availability_set(
    name: str,
    config: StackSettings,
    resource_group_name: pulumi.Input[str],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions | None = None,
) -> compute.AvailabilitySet:
    """The one availability set all lab nodes share: two fault domains, so the nodes never share a rack."""
    azure = config.azure
    if azure is None:
        raise ValueError("entsso-cluster:azure: is required for target azure")
    return compute.AvailabilitySet(
        name,
        availability_set_name=f"avail-{config.cluster.name.lower()}",
        resource_group_name=resource_group_name,
        location=azure.location,
        platform_fault_domain_count=2,
        platform_update_domain_count=5,
        sku=compute.SkuArgs(name="Aligned"),  # required for VMs with managed disks
        tags=dict(tags),
        opts=opts,
    )


class WindowsNode(pulumi.ComponentResource):
    vm_id: pulumi.Output[str]
    nic_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    private_ip: str
    endpoint: pulumi.Output[str]
    thumbprint: pulumi.Output[str | None]
    access: NodeAccess

    def __init__(self, name: str, args: WindowsNodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("entsso:compute:WindowsNode", name, None, opts)
        config, node = args.config, args.node
        azure = config.azure
        if azure is None:
            raise ValueError("entsso-cluster:azure: is required for target azure")
        if args.availability_set_id is not None and args.zone is not None:
            raise ValueError(f"node {node.name}: a VM is in an availability set or in a zone, not both")
        child = pulumi.ResourceOptions(parent=self)
        lower = node.name.lower()
        tag_map = dict(args.tags)
        production = config.tier is Tier.PRODUCTION
        self.private_ip = str(node.ip)

        nic = network.NetworkInterface(
            f"{name}-nic",
            network_interface_name=f"nic-{lower}",
            resource_group_name=args.resource_group_name,
            location=azure.location,
            ip_configurations=[
                network.NetworkInterfaceIPConfigurationArgs(
                    name="ipconfig1",
                    primary=True,
                    # Azure hands this address to the guest over DHCP; the guest NIC stays on DHCP.
                    private_ip_allocation_method="Static",
                    private_ip_address=self.private_ip,
                    private_ip_address_version="IPv4",
                    subnet=network.SubnetArgs(id=args.subnet_id),
                    load_balancer_backend_address_pools=[network.BackendAddressPoolArgs(id=args.backend_pool_id)],
                    load_balancer_inbound_nat_rules=(
                        [network.InboundNatRuleArgs(id=args.entry.nat_rule_id(node.name))]
                        if args.entry is not None
                        else None
                    ),
                )
            ],
            # The domain controllers (settings checked that the nodes reach them); on an existing subnet
            # this is the only place the stack can say so.
            dns_settings=network.NetworkInterfaceDnsSettingsArgs(
                dns_servers=[str(ip) for ip in reach.dns_servers(config)]
            ),
            network_security_group=(
                network.NetworkSecurityGroupArgs(id=args.nic_security_group_id)
                if args.nic_security_group_id is not None
                else None
            ),
            tags=tag_map,
            opts=child,
        )
        self.nic_id = nic.id

        if production:
            # Platform patching is not cluster-aware: it would reboot a node without draining its roles.
            # Production patches by the drain-update-resume procedure in the README ("Patching").
            patch = compute.PatchSettingsArgs(patch_mode="Manual")
            automatic_updates = False
        else:
            patch = compute.PatchSettingsArgs(patch_mode="AutomaticByPlatform", assessment_mode="AutomaticByPlatform")
            automatic_updates = True

        data_disks = None
        if args.shared_disk_id is not None:
            data_disks = [
                compute.DataDiskArgs(
                    lun=SHARED_DISK_LUN,
                    create_option="Attach",
                    managed_disk=compute.ManagedDiskParametersArgs(id=args.shared_disk_id),
                    caching=compute.CachingTypes.NONE,  # shared disks allow no host caching
                    delete_option="Detach",
                )
            ]

        vm = compute.VirtualMachine(
            f"{name}-vm",
            vm_name=node.name,
            resource_group_name=args.resource_group_name,
            location=azure.location,
            hardware_profile=compute.HardwareProfileArgs(vm_size=azure.vm_size),
            availability_set=(
                compute.SubResourceArgs(id=args.availability_set_id) if args.availability_set_id is not None else None
            ),
            zones=[args.zone] if args.zone is not None else None,
            security_profile=compute.SecurityProfileArgs(
                security_type="TrustedLaunch",
                uefi_settings=compute.UefiSettingsArgs(secure_boot_enabled=True, v_tpm_enabled=True),
            ),
            identity=compute.VirtualMachineIdentityArgs(type=compute.ResourceIdentityType.SYSTEM_ASSIGNED),
            storage_profile=compute.StorageProfileArgs(
                image_reference=compute.ImageReferenceArgs(
                    publisher=IMAGE_PUBLISHER, offer=IMAGE_OFFER, sku=IMAGE_SKU, version=azure.image_version
                ),
                os_disk=compute.OSDiskArgs(
                    name=f"osdisk-{lower}",
                    create_option="FromImage",
                    delete_option="Delete",
                    caching=compute.CachingTypes.READ_WRITE,
                    # lab StandardSSD_LRS, production Premium_LRS (settings: azure.osDiskType)
                    managed_disk=compute.ManagedDiskParametersArgs(storage_account_type=reach.os_disk_type(config)),
                ),
                data_disks=data_disks,
            ),
            os_profile=compute.OSProfileArgs(
                computer_name=node.name,
                admin_username=azure.admin_username,
                admin_password=pulumi.Output.secret(config.secret("vmAdminPassword")),
                windows_configuration=compute.WindowsConfigurationArgs(
                    provision_vm_agent=True,
                    enable_automatic_updates=automatic_updates,
                    patch_settings=patch,
                ),
            ),
            network_profile=compute.NetworkProfileArgs(
                network_interfaces=[compute.NetworkInterfaceReferenceArgs(id=nic.id, primary=True)]
            ),
            # Boot diagnostics in managed storage: no storage account of ours to secure.
            diagnostics_profile=compute.DiagnosticsProfileArgs(
                boot_diagnostics=compute.BootDiagnosticsArgs(enabled=True)
            ),
            tags=tag_map,
            opts=child,
        )
        self.vm_id = vm.id
        self.principal_id = vm.identity.apply(lambda identity: identity.principal_id if identity else "")

        join_after: list[pulumi.Resource] = []
        gate = args.directory
        if gate is not None:
            # Error 1355 ("domain not found") when a join runs before the forest answers: wait for it first.
            wait = wait_for_directory(
                f"{name}-wait-directory",
                config,
                vm_name=vm.name,
                resource_group_name=args.resource_group_name,
                dc_address=gate.dc_address,
                tags=tag_map,
                parent=self,
                after=[gate.forest],
            )
            join_after = [wait, *gate.joinable]
        join = guest.domain_join(
            f"{name}-join",
            vm_name=vm.name,
            resource_group_name=args.resource_group_name,
            location=azure.location,
            domain_fqdn=config.domain.fqdn,
            account=azure.domain_join_account,
            password=config.secret("domainJoinPassword"),
            ou_path=azure.domain_join_ou,
            tags=tag_map,
            parent=self,
            depends_on=join_after,
        )

        # Names and addresses reach the script as parameters, never spliced into its text.
        run_command = compute.VirtualMachineRunCommandByVirtualMachine(
            f"{name}-winrm",
            run_command_name=RUN_COMMAND_NAME,
            vm_name=vm.name,
            resource_group_name=args.resource_group_name,
            location=azure.location,
            source=compute.VirtualMachineRunCommandScriptSourceArgs(script=winrm_script()),
            parameters=[
                compute.RunCommandInputParameterArgs(name="DomainFqdn", value=config.domain.fqdn),
                compute.RunCommandInputParameterArgs(name="AdminCidr", value=config.network.admin_cidr),
                compute.RunCommandInputParameterArgs(name="Port", value=str(config.winrm.port)),
                # The internal load balancer's probes: each clustered IP's port, from 168.63.129.16 only.
                compute.RunCommandInputParameterArgs(
                    name="ProbePorts", value=",".join(str(p.probe_port) for p in client_access_points(config))
                ),
            ],
            async_execution=False,
            timeout_in_seconds=1800,
            treat_failure_as_deployment_failure=True,
            tags=tag_map,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[join]),
        )

        # Run Commands on one VM run at the same time unless ordered: each step waits for the one before.
        last: pulumi.Resource = run_command
        if gate is not None:
            last = guest.run_command(
                f"{name}-administrators",
                command=guest.NODE_ADMINISTRATORS,
                vm_name=vm.name,
                resource_group_name=args.resource_group_name,
                location=azure.location,
                parameters={"MemberBase64": guest.encoded(gate.node_admin_group)},
                tags=tag_map,
                parent=self,
                depends_on=[last],
            )
        self.media_reader_id: pulumi.Output[str] | None = None
        if config.sso.media is not None:
            reader = media_reader(
                f"{name}-media-reader",
                config.sso.media,
                principal_id=self.principal_id,
                node_name=node.name,
                parent=self,
            )
            self.media_reader_id = reader.id
            last = stage_media(
                f"{name}-media",
                config,
                vm_name=vm.name,
                resource_group_name=args.resource_group_name,
                tags=tag_map,
                parent=self,
                after=[last, reader],
            )
        self.ready = last

        self.thumbprint = _thumbprint(run_command, args.resource_group_name, node.name)
        # The endpoint waits for the node's last step (and, in a self-contained lab, for SQL Server), so whatever
        # talks WinRM waits for the listener, the administrators, the media and SSODB's server.
        waits = [cast("pulumi.CustomResource", last).id]
        waits += [cast("pulumi.CustomResource", r).id for r in (gate.ready if gate is not None else [])]
        ready = pulumi.Output.all(*waits).apply(lambda ids: str(ids[0]))
        if args.entry is not None:
            self.endpoint = args.entry.endpoint(node.name, ready)
        else:
            url = f"https://{self.private_ip}:{config.winrm.port}/wsman"
            self.endpoint = ready.apply(lambda _: url)
        self.access = NodeAccess(
            name=node.name,
            ip=self.private_ip,
            endpoint=self.endpoint,
            # None inside the Output (no instance view) is allowed by the runner: it then has no pin.
            thumbprint=cast("pulumi.Output[str]", self.thumbprint),
        )
        self.register_outputs(
            {
                "vmId": self.vm_id,
                "nicId": self.nic_id,
                "privateIp": self.private_ip,
                "endpoint": self.endpoint,
                "thumbprint": self.thumbprint,
            }
        )


def _thumbprint(
    run_command: compute.VirtualMachineRunCommandByVirtualMachine,
    resource_group_name: pulumi.Input[str],
    vm_name: str,
) -> pulumi.Output[str | None]:
    """The thumbprint from the Run Command's instance view; if the create response had none, read it once."""

    def from_view(view: Any) -> pulumi.Input[str | None]:
        text = _output_text(view)
        if text is not None:
            return thumbprint_from_output(text)
        fetched = compute.get_virtual_machine_run_command_by_virtual_machine_output(
            resource_group_name=resource_group_name,
            vm_name=vm_name,
            run_command_name=RUN_COMMAND_NAME,
            expand="instanceView",
            opts=pulumi.InvokeOutputOptions(depends_on=[run_command]),
        )
        return fetched.instance_view.apply(lambda fetched: thumbprint_from_output(_output_text(fetched)))

    return run_command.instance_view.apply(from_view)
