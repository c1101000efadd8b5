"""Microsoft's "How to Cluster the Master Secret Server", step by step, and what performs each step here.

This is the map a reviewer greps: every documented step names the resource that owns it, the
operation (`providers/scripts/<operation>.ps1`) that does it, and where it runs. Each provider's
`steps` must agree with this table (tests/test_procedure_map.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    number: int
    documented: str  # the procedure's words, shortened
    resource: str  # the dynamic resource type that performs it
    operation: str  # the script that performs it
    runs_on: str  # which node
    how: str  # what this project does for it, where it differs from the words


PREREQUISITE = Step(
    0,
    "A Windows Server failover cluster of the nodes (prerequisite)",
    "FailoverCluster",
    "cluster_new",
    "node 1",
    "Failover-Clustering on every node, Test-Cluster, New-Cluster -NoStorage, cloud witness quorum",
)

STEPS: tuple[Step, ...] = (
    Step(
        1,
        "Custom installation of the master secret server on node 1",
        "SsoServer",
        "sso_install",
        "node 1",
        "silent setup from the install media, features SSOServer and SSOAdmin",
    ),
    Step(
        2,
        "Configuration Wizard: this is the master secret server (Yes)",
        "SsoServer",
        "sso_configure",
        "node 1",
        "Configuration.exe /S with Create selected",
    ),
    Step(
        3,
        "Service account for ENTSSO, a member of SSO Administrators",
        "SsoServer",
        "sso_configure",
        "node 1",
        "the service account and password go into the configuration file, never a command line",
    ),
    Step(
        4,
        "Location of the SQL Server and the SSO database (SSODB)",
        "SsoServer",
        "sso_configure",
        "node 1",
        "SSODB is created on the SQL server under delegated credentials (CredSSP or a scheduled task)",
    ),
    Step(
        5,
        "Back up the master secret on the active node",
        "SecretBackup",
        "secret_backup",
        "node 1",
        "ISSOConfigSS.BackupSecret through COM (never the interactive ssoconfig), read back, SHA-256 recorded",
    ),
    Step(
        6,
        "Custom installation of the master secret server on node 2",
        "SsoServer",
        "sso_install",
        "node 2",
        "silent setup from the install media",
    ),
    Step(
        7,
        "Configuration Wizard on node 2: not the master secret server (No)",
        "SsoServer",
        "sso_configure",
        "node 2",
        "Configuration.exe /S with Join selected",
    ),
    Step(
        8,
        "Complete the Configuration Wizard",
        "SsoServer",
        "sso_configure",
        "node 2",
        "verified with sso_get: configured against the same SSODB",
    ),
    Step(
        9,
        "net stop entsso",
        "SecretServerName",
        "sso_service_set",
        "every node",
        "stopped and set to Manual, so only the cluster starts it from now on",
    ),
    Step(
        10,
        "Change the master secret server name in SSODB to the cluster name",
        "SecretServerName",
        "secret_server_set",
        "node 1",
        "the name is the ENTSSO role's network name (no underscore: DNS)",
    ),
    Step(
        11,
        "Write the <sso><globalInfo><secretServer> XML file",
        "SecretServerName",
        "secret_server_set",
        "node 1",
        "written with XmlWriter to a temp file holding only secretServer",
    ),
    Step(
        12,
        "Go to the Enterprise Single Sign-On installation directory",
        "SecretServerName",
        "secret_server_set",
        "node 1",
        "the script resolves it from CommonProgramW6432",
    ),
    Step(
        13,
        "ssomanage -updatedb <file>; ignore DTC errors",
        "SecretServerName",
        "secret_server_set",
        "node 1",
        "DTC noise ignored, the result re-read from SSODB and verified",
    ),
    Step(
        14,
        "comclust -a on node 1",
        "ClusteredDtc",
        "dtc_set",
        "node 1",
        "the modern form: a clustered DTC role with its own network name, IP and cluster disk",
    ),
    Step(
        15,
        "Restart the Distributed Transaction Coordinator on node 1",
        "ClusteredDtc",
        "dtc_set",
        "node 1",
        "the clustered DTC resource is brought online; DTC network settings applied on its owner node",
    ),
    Step(
        16,
        "comclust -a on node 2",
        "ClusteredDtc",
        "dtc_set",
        "node 2",
        "the clustered DTC's possible owners include node 2",
    ),
    Step(
        17,
        "Restart the Distributed Transaction Coordinator on node 2",
        "ClusteredDtc",
        "dtc_set",
        "node 2",
        "covered by the clustered resource, which fails over to node 2",
    ),
    Step(
        18,
        "Open the cluster group of the master secret server",
        "EntssoService",
        "role_set",
        "node 1",
        "a role with a client access point (IP + network name), probe port for the Azure load balancer",
    ),
    Step(
        19,
        "New resource ENTSSO of type Generic Service",
        "EntssoService",
        "generic_service_set",
        "node 1",
        "ENTSSO Manual on every node first (sso_service_set on each); ServiceName=ENTSSO, UseNetworkName=1, "
        "depends on the network name",
    ),
    Step(
        20,
        "Possible owners: every cluster node",
        "EntssoService",
        "generic_service_set",
        "node 1",
        "Set-ClusterOwnerNode on the resource; preferred owners on the role",
    ),
    Step(
        21,
        "ENTSSO resource properties",
        "EntssoService",
        "generic_service_set",
        "node 1",
        "parameters read back and verified",
    ),
    Step(
        22,
        "Security tab: the service account may access the cluster",
        "EntssoService",
        "generic_service_set",
        "node 1",
        "Grant-ClusterAccess for the service account (a Deny entry for it removed first)",
    ),
    Step(
        23,
        "Move the group to node 2",
        "EntssoService",
        "role_move",
        "node 2",
        "Move-ClusterGroup, then the ENTSSO resource is cycled offline and online",
    ),
    Step(
        24,
        "Open a command prompt on node 2",
        "SecretRestore",
        "role_move",
        "node 2",
        "the role is made sure to be on node 2 (the restore must run where ENTSSO is online)",
    ),
    Step(
        25,
        "Go to the Enterprise Single Sign-On installation directory",
        "SecretRestore",
        "file_put",
        "node 2",
        "the verified backup is copied to the node that owns the role; the script finds the SSO directory itself",
    ),
    Step(
        26,
        "ssoconfig -restoresecret <file>",
        "SecretRestore",
        "secret_restore",
        "node 2",
        "ISSOConfigSS.RestoreSecret through COM, the copy deleted, fail back and client check on every node",
    ),
)


def step(number: int) -> Step:
    return PREREQUISITE if number == 0 else STEPS[number - 1]


def steps_of(resource: str) -> list[Step]:
    return [s for s in (PREREQUISITE, *STEPS) if s.resource == resource]
