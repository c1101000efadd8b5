"""`entsso:sso:SsoMasterSecretCluster`: the documented procedure as dynamic resources, in order.

The same component runs for every target: on Azure the nodes are the VMs the other components
build, on the simulator they are the simulated nodes on 127.0.0.1. The dependencies below are what
Windows really needs (providers/procedure.py PREREQUISITES, docs/windows-facts.md section 9), so
independent steps run side by side, as the Pulumi engine allows: each node installs SSO while the
other installs, the cluster forms while the nodes configure SSO, the role and the clustered DTC
come up beside the secret server name. On each node the two installers run one after the other
(procedure.INSTALL_ORDER), never at the same time. tests/test_graph.py holds the graph to the plan.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.access import Escrow, NodeAccess, WitnessAccess
from providers import procedure
from providers.cluster_features import ClusterFeatures
from providers.clustered_dtc import ClusteredDtc
from providers.entsso_role import EntssoRole
from providers.entsso_service import EntssoService
from providers.failover_cluster import FailoverCluster
from providers.secret_backup import SecretBackup
from providers.secret_restore import SecretRestore
from providers.secret_server_name import SecretServerName
from providers.sso_install import SsoInstall
from providers.sso_server import SsoServer
from providers.targets import NodeTarget
from settings import StackSettings, Tier


class SsoMasterSecretCluster(pulumi.ComponentResource):
    backup_sha256: pulumi.Output[str]
    secret_server: pulumi.Output[str]
    owner_node: pulumi.Output[str]
    escrow_secret_id: pulumi.Output[str | None]

    def __init__(
        self,
        name: str,
        config: StackSettings,
        nodes: Sequence[NodeAccess],
        witness: WitnessAccess | None,
        escrow: Escrow | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:sso:SsoMasterSecretCluster", name, None, opts)
        production = config.tier is Tier.PRODUCTION
        targets: list[NodeTarget] = [
            {"name": node.name, "endpoint": node.endpoint, "thumbprint": node.thumbprint}  # type: ignore[typeddict-item]
            for node in nodes
        ]
        master_target, member_targets = targets[0], targets[1:]
        master_name, active_name = nodes[0].name, nodes[1].name

        def options(*depends_on: pulumi.Resource, irreplaceable: bool = False) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                protect=production,
                retain_on_delete=production and irreplaceable,
            )

        service_password = pulumi.Output.secret(config.secret("serviceAccountPassword"))
        backup_password = pulumi.Output.secret(config.secret("backupPassword"))
        backup_file = f"{config.sso.backup_directory}\\{config.sso.network_name}-master-secret.bak"
        wizard_backup_file = f"{config.sso.backup_directory}\\{config.sso.network_name}-configuration-wizard.bak"

        # Each node's two installers, one after the other in INSTALL_ORDER (one installer at a time, F-SVC-05/06).
        def installer(operation: str, target: NodeTarget, after: list[pulumi.Resource]) -> pulumi.Resource:
            node = str(target["name"]).lower()
            if operation == "sso_install":
                return SsoInstall(
                    f"{name}-sso-install-{node}",
                    node=target,
                    installer=config.sso.installer,
                    product=config.sso.product,
                    opts=options(*after),
                )
            return ClusterFeatures(f"{name}-features-{node}", node=target, opts=options(*after))

        installed: dict[str, dict[str, pulumi.Resource]] = {}
        for target in targets:
            made: dict[str, pulumi.Resource] = {}
            for operation in procedure.INSTALL_ORDER:
                made[operation] = installer(operation, target, list(made.values())[-1:])
            installed[str(target["name"])] = made

        cluster = FailoverCluster(
            f"{name}-cluster",
            nodes=targets,
            cluster_name=config.cluster.name,
            management_point=config.cluster.management_point,
            witness_account=witness.account_name if witness else None,
            witness_key=witness.access_key if witness else None,
            witness_endpoint=witness.endpoint_suffix if witness else None,
            delegation=config.winrm.delegation,
            heartbeat=config.cluster.heartbeat_for(config.target),
            opts=options(*(made["feature_install"] for made in installed.values())),
        )

        def sso_server(target: NodeTarget, role: str, *depends_on: pulumi.Resource) -> SsoServer:
            return SsoServer(
                f"{name}-sso-{role}-{str(target['name']).lower()}",
                node=target,
                role=role,
                product=config.sso.product,
                sql_server=config.sql.server,
                database=config.sql.database,
                service_account=config.domain.service_account,
                service_password=service_password,
                admin_group=config.domain.sso_admin_group,
                affiliate_admin_group=config.domain.sso_affiliate_admin_group,
                backup_file=wizard_backup_file,
                backup_password=backup_password,
                backup_reminder=config.sso.backup_reminder,
                delegation=config.winrm.delegation,
                opts=options(*depends_on),
            )

        def sso_of(target: NodeTarget) -> pulumi.Resource:
            return installed[str(target["name"])]["sso_install"]

        # Configuring SSO needs the node's binaries and SQL Server, not the cluster (F-SSO-33).
        master = sso_server(master_target, "master", sso_of(master_target))
        backup = SecretBackup(
            f"{name}-backup",
            node=master_target,
            nodes=targets,
            backup_file=backup_file,
            password=backup_password,
            reminder=config.sso.backup_reminder,
            admin_group=config.domain.sso_admin_group,
            role=config.sso.network_name,
            opts=options(master, irreplaceable=True),
        )
        members = [sso_server(target, "member", sso_of(target), master) for target in member_targets]

        secret_server = SecretServerName(
            f"{name}-secret-server",
            nodes=targets,
            master=master_name,
            secret_server=config.sso.network_name,
            sql_server=config.sql.server,
            database=config.sql.database,
            opts=options(backup, *members),
        )
        service_after: list[pulumi.Resource] = [secret_server]
        if config.dtc.enabled and config.dtc.ip is not None:
            dtc = ClusteredDtc(
                f"{name}-dtc",
                nodes=targets,
                network_name=config.dtc.network_name,
                ip=str(config.dtc.ip),
                probe_port=config.dtc.probe_port,
                disk=config.dtc.disk,
                opts=options(cluster),  # the cluster, not SSO
            )
            service_after.append(dtc)
        # Step 18 needs the cluster only, so the role comes up beside the clustered DTC. It also waits for the
        # secret server name, which is off the critical path on a fresh up: a new network name replaces the role,
        # deleting the old one first, and the new backup and `-updatedb` before it need the old role online
        # (F-SSO-10, F-SSO-13, F-SSO-19), so the old role may go only after them (tests/test_graph.py).
        role = EntssoRole(
            f"{name}-role",
            nodes=targets,
            network_name=config.sso.network_name,
            ip=str(config.sso.ip),
            probe_port=config.sso.probe_port,
            opts=options(cluster, secret_server),
        )
        service_after.append(role)
        service = EntssoService(
            f"{name}-entsso",
            nodes=targets,
            network_name=config.sso.network_name,
            service_account=config.domain.service_account,
            opts=options(*service_after),
        )
        restore = SecretRestore(
            f"{name}-restore",
            nodes=targets,
            network_name=config.sso.network_name,
            backup_content=backup.content,
            backup_sha256=backup.sha256,
            password=backup_password,
            restore_node=active_name,
            fail_back_to=master_name,
            admin_group=config.domain.sso_admin_group,
            opts=options(service, backup),
        )

        self.escrow_secret_id = pulumi.Output.from_input(None)
        if escrow is not None:
            from pulumi_azure_native import keyvault

            escrowed = keyvault.Secret(
                f"{name}-backup-escrow",
                vault_name=escrow.vault_name,
                resource_group_name=escrow.resource_group_name,
                secret_name=f"{config.sso.network_name.lower()}-master-secret-backup",
                properties=keyvault.SecretPropertiesArgs(
                    value=backup.content,
                    content_type="application/octet-stream;base64 (ENTSSO master secret backup)",
                ),
                opts=options(backup, irreplaceable=True),
            )
            self.escrow_secret_id = escrowed.id

        self.backup_sha256 = backup.sha256
        self.secret_server = secret_server.secret_server
        self.owner_node = restore.owner_node
        self.register_outputs(
            {
                "backupSha256": self.backup_sha256,
                "secretServer": self.secret_server,
                "ownerNode": self.owner_node,
                "escrowSecretId": self.escrow_secret_id,
            }
        )
