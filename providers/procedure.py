"""Microsoft's "How to Cluster the Master Secret Server", step by step, and what performs each step here.

This is the map a reviewer greps: every documented step names the resource that owns it, the
operation (`providers/scripts/<operation>.ps1`) that does it, and where it runs. Each provider's
`steps` must agree with this table (tests/test_providers_contract.py).

It also holds what Windows really needs before each operation can succeed (`PREREQUISITES`, one
entry per operation, each need with the facts of docs/windows-facts.md section 9 behind it, or marked
assumed there; tests/test_prerequisites.py holds the two equal) and the plan of a fresh `up` that
follows from them (`plan`): the operations, what each waits for, and one installer at a time on each
node. `ops bench` computes the limit of that plan; the program (components/sso_cluster.py) orders a
node's installers as `INSTALL_ORDER` says.
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
        "SsoInstall",
        "sso_install",
        "node 1",
        "silent setup from the install media, features SSOServer and SSOAdmin; beside the cluster's formation, "
        "never during the node's own feature installation (one installer at a time)",
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
        "SsoInstall",
        "sso_install",
        "node 2",
        "silent setup from the install media, as on node 1 (both nodes install side by side)",
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
        "EntssoRole",
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
        "SecretRestore",
        "role_move",
        "node 2",
        "Move-ClusterGroup, then the ENTSSO resource is cycled offline and online (the restore needs both)",
    ),
    Step(
        24,
        "Open a command prompt on node 2",
        "SecretRestore",
        "role_move",
        "node 2",
        "the restore runs where the role is online: the script runs on node 2 itself",
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


# Resources that perform part of the prerequisite without claiming step 0 (FailoverCluster claims it).
PREREQUISITE_PARTS = ("ClusterFeatures",)


def step(number: int) -> Step:
    return PREREQUISITE if number == 0 else STEPS[number - 1]


def steps_of(resource: str) -> list[Step]:
    return [s for s in (PREREQUISITE, *STEPS) if s.resource == resource]


# --- what Windows needs before each operation (docs/windows-facts.md section 9) ---------------------------------


@dataclass(frozen=True)
class Need:
    """One thing an operation needs before Windows lets it succeed.

    `condition` is a key of CONDITIONS; `scope` says where it must hold: on the node the operation runs on
    (`here`), on every node (`every node`), or once for the estate (`once`). `facts` are the ledger's IDs
    (docs/windows-facts.md); `assumed` marks a need the ledger marks assumed.
    """

    condition: str
    facts: tuple[str, ...] = ()
    scope: str = "here"
    assumed: bool = False


@dataclass(frozen=True)
class Prerequisites:
    """What an operation (or an operation in one mode, `sso_configure Create`) needs, as section 9's table says.

    `not_needed` lists what the resource graph waited for and Windows does not need; `remarks` are the facts
    the ledger cites for the operation that are not needs (what it may cause)."""

    operation: str
    needs: tuple[Need, ...]
    not_needed: tuple[Need, ...] = ()
    remarks: tuple[str, ...] = ()


# What must hold, and which operation makes it hold (none: the estate provides it before the procedure starts:
# the nodes, the accounts and their rights, SQL Server, the media, the shared disk, the load balancer).
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "node": ("the node answers WinRM with an administrator's session", ()),
    "elevated": ("the session is an elevated local administrator", ()),
    "one installer": ("no other installation runs on the node at the same time", ()),
    "media": ("the install media on the node", ()),
    "sql": ("SQL Server reachable from the node", ()),
    "sso admins": ("the caller and the service account in the SSO Administrators group", ()),
    "credentials": ("network credentials on the node (CredSSP or the scheduled task)", ()),
    "ad rights": ("the right to create computer objects in the OU", ()),
    "shared disk": ("a shared disk every node sees", ()),
    "load balancer": ("Azure's load balancer frontend, probe and firewall rule", ()),
    "egress": ("outbound HTTPS from the nodes to the witness storage account", ()),
    "ntfs": ("an NTFS folder for the backup", ()),
    "features": ("Failover-Clustering and its PowerShell module installed", ("feature_install",)),
    "validated": ("Test-Cluster has validated the nodes", ("cluster_test",)),
    "cluster": ("the failover cluster exists", ("cluster_new",)),
    "sso installed": ("the SSO binaries installed", ("sso_install",)),
    "ssodb": ("SSODB and the master secret exist (Create has run)", ("sso_configure Create",)),
    "sso configured": ("ENTSSO configured against SSODB", ("sso_configure Create", "sso_configure Join")),
    "entsso running": ("ENTSSO running on the node (as configuration leaves it)", ("sso_configure Create",)),
    "backup": ("the master secret backed up", ("secret_backup",)),
    "secret server": ("SSODB names the role's network name as its secret server", ("secret_server_set",)),
    "entsso manual": ("ENTSSO stopped with startup Manual, so only the cluster starts it", ("sso_service_set",)),
    "dtc": ("the clustered DTC online", ("dtc_set",)),
    "role": ("the ENTSSO role with its client access point", ("role_set",)),
    "possible owners": ("the Generic Service ENTSSO with every node a possible owner", ("generic_service_set",)),
    "role here": ("the role online on this node, ENTSSO cycled", ("role_move",)),
    "backup copy": ("the verified backup copied to this node", ("file_put",)),
    "secret here": ("the master secret on this node", ("sso_configure Create", "secret_restore")),
}
# Conditions that hold for one node (the others hold for the estate).
PER_NODE = frozenset(
    {
        "features",
        "sso installed",
        "sso configured",
        "entsso running",
        "entsso manual",
        "role here",
        "backup copy",
        "secret here",
    }
)
INSTALLERS = frozenset({"feature_install", "sso_install"})  # what "one installer" keeps apart on a node
OPTIONAL = frozenset({"dtc"})  # what a stack may leave out (dtc.enabled false): no task of its plan makes it

NODE = Need("node")
ONE_INSTALLER = Need("one installer", ("F-SVC-05", "F-SVC-06"), assumed=True)
CLUSTER = Need("cluster", ("F-CLU-01",), "once")
SQL = Need("sql", ("F-SSO-31",))

PREREQUISITES: dict[str, Prerequisites] = {
    p.operation: p
    for p in (
        Prerequisites("feature_get", (NODE,)),
        Prerequisites("probe_node", (NODE,)),  # ops probe-node's read-only probes (ledger 10.1), never in up
        Prerequisites("feature_install", (NODE, Need("elevated", ("F-SVC-04",)), ONE_INSTALLER), remarks=("F-SVC-07",)),
        Prerequisites("cluster_get", (NODE,), remarks=("F-CLU-01",)),
        Prerequisites(
            "cluster_test",
            (
                Need("features", ("F-CLU-04",), "every node", assumed=True),
                Need("credentials", ("F-CLU-04", "F-REM-03")),
            ),
            not_needed=(Need("sso installed"),),
        ),
        Prerequisites(
            "cluster_new",
            (
                Need("features", ("F-CLU-05",), "every node"),
                Need("validated", ("F-CLU-05",), "once"),
                Need("credentials", ("F-CLU-05",)),
                Need("ad rights", ("F-CLU-05",)),
            ),
            not_needed=(Need("sso installed"), Need("dtc")),
        ),
        Prerequisites(
            "cluster_quorum_set",
            (Need("cluster", ("F-CLU-07", "F-CLU-08"), "once"), Need("egress", assumed=True)),
            not_needed=(Need("sso installed"),),
        ),
        Prerequisites("cluster_heartbeat_set", (Need("cluster", ("F-CLU-29",), "once"),)),
        Prerequisites("cluster_remove", (Need("credentials", ("F-CLU-22",)),)),
        Prerequisites("sso_get", (NODE,)),
        Prerequisites("secret_get", (NODE,)),
        Prerequisites("file_get", (NODE,)),
        Prerequisites(
            "sso_install",
            (NODE, Need("media", ("F-SSO-26",)), ONE_INSTALLER),
            not_needed=(Need("cluster", ("F-SSO-33",), "once"), Need("features", ("F-SSO-33",))),
        ),
        Prerequisites(
            "sso_configure Create",
            (
                Need("sso installed", ("F-SSO-28",)),
                SQL,
                Need("sso admins", ("F-SSO-02",)),
                Need("credentials", ("F-SSO-30",)),
            ),
            not_needed=(Need("cluster", ("F-SSO-33",), "once"),),
        ),
        Prerequisites(
            "sso_configure Join",
            (
                Need("sso installed", ("F-SSO-28",)),
                SQL,
                Need("sso admins", ("F-SSO-02",)),
                Need("credentials", ("F-SSO-30",)),
                Need("ssodb", ("F-SSO-29",), "once"),
            ),
            not_needed=(Need("cluster", ("F-SSO-33",), "once"),),
        ),
        Prerequisites(
            "secret_backup",
            (
                Need("entsso running", ("F-SSO-10", "F-SSO-19")),
                Need("sso admins", ("F-SSO-02",)),
                Need("ntfs", ("F-SSO-10",)),
            ),
            not_needed=(Need("cluster", ("F-SSO-33",), "once"),),
            remarks=("F-SSO-29",),
        ),
        Prerequisites(
            "sso_service_set", (Need("sso installed", ("F-SVC-03",)),), not_needed=(Need("cluster", (), "once"),)
        ),
        Prerequisites(
            "secret_server_get",
            (Need("sso installed", ("F-SSO-07",)), SQL, Need("credentials", ("F-SSO-09",), assumed=True)),
            not_needed=(Need("entsso running", ("F-SSO-09",), assumed=True),),
        ),
        Prerequisites(
            "secret_server_set",
            (
                Need("ssodb", ("F-SSO-29",), "once"),
                Need("entsso running", ("F-SSO-13",)),
                Need("elevated", ("F-SSO-15",)),
                Need("backup", ("F-SSO-19",), "once"),
                # The documented order (steps 6-8 before 10): a member configured after the name changed would
                # start ENTSSO against a secret server nobody serves yet.
                Need("sso configured", ("F-SSO-19",), "every node", assumed=True),
            ),
            not_needed=(Need("role", ("F-SSO-17",), "once"), Need("dtc", ("F-SSO-17",), "once")),
            remarks=("F-SSO-14",),
        ),
        Prerequisites("dtc_get", (CLUSTER,)),
        Prerequisites(
            "dtc_set",
            (
                CLUSTER,
                Need("shared disk", ("F-CLU-23", "F-AZ-03")),
                Need("credentials", ("F-CLU-03",)),
                Need("ad rights", ("F-DTC-03",)),
                Need("elevated", ("F-DTC-04",)),
            ),
            not_needed=(Need("sso configured", (), "every node"),),
        ),
        Prerequisites("role_get", (CLUSTER,)),
        Prerequisites(
            "role_set",
            (
                CLUSTER,
                Need("credentials", ("F-CLU-03",)),
                Need("ad rights", ("F-CLU-11",)),
                Need("load balancer", ("F-AZ-01",), assumed=True),
            ),
            not_needed=(Need("sso configured", (), "every node"), Need("dtc", (), "once")),
        ),
        Prerequisites(
            "generic_service_set",
            (
                Need("role", ("F-CLU-13",), "once"),
                Need("sso configured", ("F-CLU-15",), "every node"),
                Need("dtc", ("F-DTC-03",), "once"),
                Need("entsso manual", ("F-SSO-21",), "every node"),
                Need("secret server", ("F-SSO-19",), "once"),
            ),
        ),
        Prerequisites(
            "role_move", (Need("role", ("F-CLU-18",), "once"), Need("possible owners", ("F-CLU-18",), "once"))
        ),
        Prerequisites("file_put", (NODE,)),
        Prerequisites("file_remove", (NODE,)),
        Prerequisites(
            "secret_restore",
            (
                Need("role here", ("F-SSO-11",)),
                Need("secret server", ("F-SSO-19", "F-SSO-20"), "once"),
                Need("backup copy", ("F-SSO-11",)),
                Need("sso admins", ("F-SSO-02",)),
            ),
        ),
        Prerequisites(
            "sso_client_check",
            (
                Need("role here", ("F-SSO-08", "F-SSO-19")),
                Need("secret here", ("F-SSO-25",)),
            ),
            not_needed=(Need("credentials"), Need("backup", (), "once")),
        ),
        Prerequisites("dtc_remove", (CLUSTER,)),
        Prerequisites("role_remove", (CLUSTER,)),
        Prerequisites(
            "sso_unconfigure",
            (SQL, Need("credentials", ("F-SSO-30",))),
            not_needed=(Need("cluster", (), "once"),),
        ),
    )
}


def operation_of(key: str) -> str:
    """`sso_configure Create` -> `sso_configure`: the script an entry of PREREQUISITES is about."""
    return key.split(" ", 1)[0]


# --- the plan of a fresh `up` that follows from them ------------------------------------------------------------

# The order the program installs on each node: the SSO binaries first, then the clustering feature. Whichever comes
# second waits for the first (one installer at a time, F-SVC-05/06). SSO first lets Create start as early as it
# can; the cluster then forms while the nodes configure SSO. `ops bench` searches every order for the limit, and
# tests/test_bench.py holds this one among the fastest.
INSTALL_ORDER: tuple[str, str] = ("sso_install", "feature_install")


@dataclass(frozen=True)
class Order:
    """An order the plan adds to the operations' own needs: `task` finishes first, for the reason given."""

    task: str
    why: str
    facts: tuple[str, ...]
    assumed: bool = False


@dataclass(frozen=True)
class Task:
    """One operation of a fresh `up` on one node (None: any node of the cluster)."""

    operation: str  # a key of PREREQUISITES
    node: str | None
    steps: str  # the documented steps it performs ("prerequisite", "1", "24-26")
    after: tuple[Order, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.operation}@{self.node or 'cluster'}"

    @property
    def script(self) -> str:
        return operation_of(self.operation)


def performed_by(task: Task) -> str:
    """The dynamic resource type that runs a task: the one the map names for its first step. The prerequisite's
    feature installation is ClusterFeatures' (per node), the rest of it FailoverCluster's."""
    if task.steps == "prerequisite":
        return "ClusterFeatures" if task.operation == "feature_install" else PREREQUISITE.resource
    return step(int(task.steps.split("-", 1)[0])).resource


@dataclass(frozen=True)
class Edge:
    before: str  # a task key
    after: str
    why: str  # the condition or the order's reason
    facts: tuple[str, ...]


def plan(nodes: list[str], *, witness: bool = True, heartbeat: bool = False, dtc: bool = True) -> list[Task]:
    """The operations a fresh `up` must run on these nodes (the first is the master, the second restores the
    secret and the first takes the role back), the reads left out: they only decide what to do."""
    if len(nodes) < 2:
        raise ValueError("a cluster of the master secret server needs two nodes or more")
    master, restore = nodes[0], nodes[1]
    stop_after_set = Order(
        f"secret_server_set@{master}",
        "ssomanage -updatedb needs a running ENTSSO: step 9 comes after it",
        ("F-SSO-13",),
    )
    installs = {"feature_install": "prerequisite", "sso_install": "1"}
    tasks = [
        Task(operation, node, installs[operation] if node == master or operation != "sso_install" else "6")
        for node in nodes
        for operation in INSTALL_ORDER
    ]
    tasks += [Task("cluster_test", None, "prerequisite"), Task("cluster_new", None, "prerequisite")]
    if witness:
        tasks.append(Task("cluster_quorum_set", None, "prerequisite"))
    if heartbeat:
        tasks.append(Task("cluster_heartbeat_set", None, "prerequisite"))
    tasks += [Task("sso_configure Create", master, "2-4"), Task("secret_backup", master, "5")]
    tasks += [Task("sso_configure Join", node, "7-8") for node in nodes[1:]]
    tasks.append(Task("secret_server_set", master, "10-13"))
    for node in nodes:
        configured = "Create" if node == master else "Join"
        tasks.append(
            Task(
                "sso_service_set",
                node,
                "9",
                (
                    stop_after_set,
                    Order(
                        f"sso_configure {configured}@{node}",
                        "configuration leaves ENTSSO started with startup Automatic",
                        ("F-SVC-07",),
                        assumed=True,
                    ),
                ),
            )
        )
    if dtc:
        tasks.append(Task("dtc_set", None, "14-17"))
    tasks += [
        Task("role_set", None, "18"),
        Task("generic_service_set", None, "19-22"),
        Task("role_move", restore, "23"),
        Task(
            "file_put",
            restore,
            "25",
            (Order(f"secret_backup@{master}", "the copy is the backup's bytes", ("F-SSO-11",)),),
        ),
        Task("secret_restore", restore, "24-26"),
        Task("sso_client_check", restore, "26"),
        Task(
            "role_move",
            master,
            "26",
            (
                Order(
                    f"secret_restore@{restore}",
                    "fail back once the secret is restored where the role was",
                    ("F-SSO-11",),
                ),
            ),
        ),
        Task("sso_client_check", master, "26"),
    ]
    return tasks


def edges(tasks: list[Task]) -> list[Edge]:
    """What each task waits for: the tasks that make its needs hold (where they must hold), and its orders.

    One installer at a time on a node is not an edge: which installer goes first is the plan's choice
    (`ops bench` tries every order)."""
    found: list[Edge] = []
    keys = {t.key for t in tasks}
    for task in tasks:
        for need in PREREQUISITES[task.operation].needs:
            makers = CONDITIONS[need.condition][1]
            if not makers:
                continue  # the estate provides it, or it is the installer rule
            sources = [
                s
                for s in tasks
                if s.operation in makers
                and s.key != task.key
                and (need.condition not in PER_NODE or need.scope != "here" or s.node == task.node)
            ]
            if not sources and need.condition in OPTIONAL:
                continue
            if not sources:
                raise ValueError(f"{task.key} needs {need.condition} ({need.scope}) and no task of the plan makes it")
            found += [Edge(s.key, task.key, need.condition, need.facts) for s in sources]
        for order in task.after:
            if order.task not in keys:
                raise ValueError(f"{task.key} comes after {order.task}, which is not in the plan")
            found.append(Edge(order.task, task.key, order.why, order.facts))
    return found
