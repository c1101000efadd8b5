"""The self-contained lab's steps, in order, from an empty subscription to the documented procedure.

Pure data (no Pulumi resources, no cloud SDK): `ops runbook` renders it against the program's real graph,
and a test checks that every resource named here is one the program declares, with the dependencies
claimed. The Run Command names and their scripts are defined here once; `components/guest.py` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from settings import StackSettings, reach

# Run Command names (the Azure resource name on the VM) and the script each one runs.
CREATE_FOREST = "CreateForest"
WAIT_FOR_DIRECTORY = "WaitForDirectory"
DIRECTORY_ACCOUNTS = "DirectoryAccounts"
CLUSTER_OU = "ClusterOu"
CONFIGURE_SQL = "ConfigureSql"
ENABLE_WINRM = "EnableWinRmHttps"
NODE_ADMINISTRATORS = "NodeAdministrators"
STAGE_MEDIA = "StageMedia"

SCRIPT_OF = {
    CREATE_FOREST: "dc_forest",
    WAIT_FOR_DIRECTORY: "directory_wait",
    DIRECTORY_ACCOUNTS: "ad_accounts",
    CLUSTER_OU: "ad_cluster_ou",
    CONFIGURE_SQL: "sql_configure",
    ENABLE_WINRM: "enable_winrm_https",
    NODE_ADMINISTRATORS: "local_admins",
    STAGE_MEDIA: "media_stage",
}

# The logical names the components give their resources (components/azure.py, directory.py, sql.py,
# windows_node.py, media.py).
DIRECTORY = "directory"
SQL = "sql"
FIRST_PROCEDURE_RESOURCE = "mss-cluster"  # __main__.py's SsoMasterSecretCluster("mss"): its FailoverCluster


def node_component(node_name: str) -> str:
    return f"node-{node_name.lower()}"


@dataclass(frozen=True)
class LabStep:
    phase: str
    what: str
    resources: tuple[str, ...]  # logical names in the program's graph
    runs_on: str
    runs: str  # the script (components/scripts/<name>.ps1) or what Azure does


def lab_steps(s: StackSettings) -> list[LabStep]:
    """Every step a self-contained lab (directory.source create) adds, in the order the program declares it."""
    directory = s.directory
    if not reach.creates_directory(s) or directory is None:
        return []
    dc = directory.domain_controller.name if directory.domain_controller else "the DC"
    sql = directory.sql_server.name if directory.sql_server else "SQL Server"
    nodes = [n.name for n in s.nodes]
    every = ", ".join(nodes)

    def per_node(suffix: str) -> tuple[str, ...]:
        return tuple(f"{node_component(n)}-{suffix}" for n in nodes)

    def script(command: str) -> str:
        return f"Run Command {command}: components/scripts/{SCRIPT_OF[command]}.ps1"

    steps = [
        LabStep(
            "network",
            f"VNet {s.network.vnet_cidr} whose DNS server is the DC ({reach.dns_servers(s)[0]}), snet-nodes, "
            f"snet-infra {directory.subnet_cidr} with its NSG, NAT gateway",
            ("network-vnet", "network-nodes", "network-infra-nsg", "network-infra"),
            "Azure",
            "resource manager",
        ),
        LabStep(
            "directory",
            "the domain controller: Windows Server 2022 Azure Edition, Trusted Launch, a data disk without host "
            "caching for the directory database",
            (f"{DIRECTORY}-dc-vm",),
            dc,
            "resource manager",
        ),
        LabStep(
            "directory",
            f"a new forest {s.domain.fqdn} ({s.domain.netbios}) with DNS; the DSRM password from dsrmPassword; "
            "the restart scheduled",
            (f"{DIRECTORY}-forest",),
            dc,
            script(CREATE_FOREST),
        ),
        LabStep(
            "sql",
            "SQL Server 2022 Developer on Windows Server 2022 (MicrosoftSQLServer sql2022-ws2022 sqldev-gen2)",
            (f"{SQL}-vm",),
            sql,
            "resource manager",
        ),
        LabStep(
            "sql",
            "wait until the restarted DC answers DNS SRV _ldap._tcp.dc._msdcs, LDAP and the DC locator",
            (f"{SQL}-wait-directory",),
            sql,
            script(WAIT_FOR_DIRECTORY),
        ),
        LabStep(
            "accounts",
            "install, ENTSSO service, SQL service and join accounts; SSO Administrators, SSO Affiliate "
            "Administrators and the node admin group with their members; SQL Server's SPNs",
            (f"{DIRECTORY}-accounts",),
            dc,
            script(DIRECTORY_ACCOUNTS),
        ),
        LabStep(
            "accounts",
            f"the cluster OU, the cluster name object {s.cluster.name} prestaged and disabled, Create Computer "
            "objects for the CNO, the install account and the join account",
            (f"{DIRECTORY}-cluster-ou",),
            dc,
            script(CLUSTER_OU),
        ),
        LabStep("sql", "join the forest", (f"{SQL}-join",), sql, "JsonADDomainExtension (restarts the VM)"),
        LabStep(
            "sql",
            "the service under the SQL service account, TCP/IP, firewall 1433 from snet-nodes, network DTC, "
            f"{s.domain.install_account} in sysadmin",
            (f"{SQL}-configure",),
            sql,
            script(CONFIGURE_SQL) + " (as the VM's administrator)",
        ),
        LabStep("cluster nodes", "the nodes' VMs", per_node("vm"), every, "resource manager"),
        LabStep(
            "cluster nodes",
            "wait for the forest before joining (error 1355 otherwise)",
            per_node("wait-directory"),
            every,
            script(WAIT_FOR_DIRECTORY),
        ),
        LabStep(
            "cluster nodes",
            f"join the forest into {s.azure.domain_join_ou if s.azure else 'the cluster OU'}",
            per_node("join"),
            every,
            "JsonADDomainExtension (restarts the VM)",
        ),
        LabStep(
            "cluster nodes",
            "WinRM over HTTPS for adminCidr, the probe ports, Failover Clustering",
            per_node("winrm"),
            every,
            script(ENABLE_WINRM),
        ),
        LabStep(
            "cluster nodes",
            f"{directory.node_admin_group} into the local Administrators",
            per_node("administrators"),
            every,
            script(NODE_ADMINISTRATORS),
        ),
    ]
    media = s.sso.media
    if media is not None:
        steps += [
            LabStep(
                "media",
                f"Storage Blob Data Reader on container {media.container} for each node's managed identity",
                per_node("media-reader"),
                "Azure",
                "resource manager (role assignment)",
            ),
            LabStep(
                "media",
                f"fetch {media.blob} with the identity's token, check its SHA-256, unpack into "
                f"{media.staging_directory} (sso.installer {s.sso.installer})",
                per_node("media"),
                every,
                script(STAGE_MEDIA),
            ),
        ]
    steps.append(
        LabStep(
            "procedure",
            "the documented steps (table below) start once every node's last step and SQL Server's configuration are "
            "done: the nodes' WinRM endpoints resolve only then",
            (FIRST_PROCEDURE_RESOURCE,),
            every,
            "the dynamic providers over WinRM",
        )
    )
    return steps
