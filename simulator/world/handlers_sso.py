"""SsoServer and SecretServerName: install, Configuration.exe Create/Join, ENTSSO, `ssomanage -updatedb`."""

from __future__ import annotations

import ntpath
from xml.etree import ElementTree

from simulator.world import errors, mastersecret, windows
from simulator.world.model import (
    ENTSSO,
    EVENT_BACKUP_OK,
    EVENT_SECRET_SERVER_CHANGED,
    SQL_KEY,
    Node,
    Service,
    World,
    key,
    path_key,
)
from simulator.world.operations import DELEGATION, Call, Param, operation
from simulator.wsman.backend import Session

DEFAULT_FEATURES = ["WMI", "BizTalk", "AdditionalApps", "SSOServer", "SSOAdmin"]
START_MODES = {"AUTOMATIC": "Auto", "MANUAL": "Manual", "DISABLED": "Disabled"}
GLOBAL_INFO_ELEMENTS = {
    "ssoAdminAccount",
    "ssoAffiliateAdminAccount",
    "secretServer",
    "auditDeletedApps",
    "auditDeletedMappings",
    "auditCredentialLookups",
    "ticketTimeout",
    "credCacheTimeout",
}


def service_state(node: Node) -> dict[str, object] | None:
    service = node.service(ENTSSO)
    if service is None:
        return None
    return {
        "name": ENTSSO,
        "state": service.state,
        "startMode": service.start_mode,
        "account": service.account,
    }


def sso_state(node: Node) -> dict[str, object]:
    config = windows.sso_config(node)
    return {
        "computerName": node.name,
        "installed": node.service(ENTSSO) is not None,
        "configured": config is not None,
        "sqlServer": config[0] if config else "",
        "database": config[1] if config else "",
        "service": service_state(node),
    }


def require_installed(node: Node) -> Service:
    service = node.service(ENTSSO)
    if service is None:
        raise errors.not_found(
            f"Enterprise Single Sign-On is not installed on {node.name}: cannot find "
            "'C:\\Program Files\\Common Files\\Enterprise Single Sign-On\\"
            "Microsoft.EnterpriseSingleSignOn.Interop.dll'.",
            "PathNotFound",
        )
    return service


@operation("sso_get", reads_only=True)
def sso_get(call: Call) -> dict[str, object]:
    return sso_state(call.node)


@operation(
    "sso_install",
    params=(
        Param("InstallerPath", mandatory=True),
        Param("Features", "string[]", default=DEFAULT_FEATURES),
        Param("Product", default="BizTalk"),
    ),
)
def sso_install(call: Call) -> dict[str, object]:
    node = call.node
    if node.service(ENTSSO) is not None:
        return {**sso_state(node), "actions": []}
    windows.require_admin(call)
    installer = call.text("InstallerPath")
    if node.file(installer) is None:
        raise errors.not_found(
            f"Cannot find path '{installer}' because it does not exist.",
            "PathNotFound,Microsoft.PowerShell.Commands",
        )
    features = call.texts("Features")
    if "SSOSERVER" not in {key(f) for f in features}:
        raise errors.invalid(
            "The feature list must include SSOServer (ESSO Master Secret Server).", "InvalidArgument"
        )
    node.products = sorted({*node.products, *features})
    node.services[key(ENTSSO)] = Service(ENTSSO, "Enterprise Single Sign-On Service", start_mode="Auto")
    return {
        **sso_state(node),
        "actions": [f"{ntpath.basename(installer)} /quiet /ADDLOCAL {','.join(features)}"],
    }


def _group_exists(world: World, account: str) -> bool:
    name = world.domain.sam(account)
    return name is not None and key(name) in world.domain.groups


@operation(
    "sso_configure",
    params=(
        Param("Mode", mandatory=True),
        Param("SqlServer", mandatory=True),
        Param("Database", mandatory=True),
        Param("ServiceAccount", mandatory=True),
        Param("ServiceAccountPassword", mandatory=True, secret=True),
        Param("AdminGroup", mandatory=True),
        Param("AffiliateAdminGroup", mandatory=True),
        Param("BackupFile"),
        Param("BackupPassword", secret=True),
        Param("BackupReminder"),
        Param("Product", default="BizTalk"),
        *DELEGATION,
    ),
)
def sso_configure(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    service = require_installed(node)
    mode, sql_server, database = call.text("Mode"), call.text("SqlServer"), call.text("Database")
    if windows.sso_config(node) is not None:
        return {**sso_state(node), "actions": []}
    if mode == "Create" and (not call.text("BackupFile") or not call.text("BackupPassword")):
        raise errors.invalid(
            "Create needs BackupFile and BackupPassword (the wizard backs up the new secret)."
        )
    windows.require_admin(call)
    if mode not in ("Create", "Join"):
        raise errors.invalid(f"Mode must be Create or Join, not '{mode}'.", "InvalidArgument")
    admin_group, affiliate_group = call.text("AdminGroup"), call.text("AffiliateAdminGroup")
    for group in (admin_group, affiliate_group):
        if not _group_exists(world, group):
            raise errors.PowerShellError(
                f"Configuration failed: '{group}': No mapping between account names and security IDs was "
                "done.",
                "InvalidArgument",
                "IdentityNotMappedException",
            )
    # S2: the account running the configuration must itself be an SSO Administrator.
    if not world.domain.is_member(call.session.user, admin_group):
        raise errors.access_denied(
            f"Configuration failed: '{call.session.user}' is not a member of the SSO Administrators group "
            f"'{admin_group}'"
        )
    account, password = call.text("ServiceAccount"), call.text("ServiceAccountPassword")
    if not world.domain.authenticate(account, password):
        raise errors.PowerShellError(
            f"Configuration failed for service {ENTSSO}: The account name is invalid or does not exist, or "
            "the "
            "password is invalid for the account name specified.",
            "AuthenticationError",
            "ERROR_INVALID_SERVICE_ACCOUNT",
        )
    if not world.domain.is_member(account, admin_group):
        raise errors.PowerShellError(
            f"Configuration failed: the SSO service account '{account}' is not a member of the SSO "
            "Administrators "
            f"group '{admin_group}'. The Enterprise Single Sign-On Service could not start.",
            "PermissionDenied",
            "SSO_ERROR_SERVICE_ACCOUNT_NOT_ADMIN",
        )
    context = f"Configuration failed: cannot open SSO database '{database}' on SQL Server '{sql_server}'"
    identity = windows.network_identity(call, context)
    db = windows.database(world, sql_server, database)
    if mode == "Create":
        if db.exists:
            raise errors.exists(
                f"Configuration failed: the SSO database '{database}' already exists on SQL Server "
                f"'{sql_server}'. "
                "Join the existing SSO system instead."
            )
        if not world.domain.in_any(identity, world.sql.sysadmins):
            raise errors.access_denied(f"{context}. CREATE DATABASE permission denied in database 'master'")
        backup_file, backup_password = call.text("BackupFile"), call.text("BackupPassword")
        secret = mastersecret.generate()
        db.exists, db.secret_server, db.secret_id = True, node.name, secret.secret_id
        db.admin_group, db.affiliate_group = admin_group, affiliate_group
        world.sql.databases[key(database)] = db
        mastersecret.store(node, secret, account)
        node.files[path_key(backup_file)] = mastersecret.backup_bytes(
            secret, backup_password, call.text("BackupReminder")
        )
        world.log(node, EVENT_BACKUP_OK, "Information", f"The master secret was backed up to {backup_file}.")
    else:
        if not db.exists:
            raise errors.not_found(
                f"Configuration failed: the SSO database '{database}' does not exist on SQL Server "
                f"'{sql_server}'. "
                "Create the SSO system on the master secret server first.",
                "SSO_ERROR_NO_DATABASE",
            )
        if not world.domain.is_member(identity, db.admin_group):
            raise errors.access_denied(context)
    node.registry[key(SQL_KEY)] = {"Server": sql_server, "Database": database}
    db.servers = sorted({*db.servers, node.name})
    service.account, service.start_mode = account, "Auto"
    windows.start_entsso(world, node, "scm")
    return {**sso_state(node), "actions": [f"Configuration.exe /s ({mode})"]}


@operation("sso_unconfigure", params=(Param("Product", default="BizTalk"), *DELEGATION))
def sso_unconfigure(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    config = windows.sso_config(node)
    if config is None:
        return {**sso_state(node), "actions": []}
    windows.require_admin(call)
    windows.network_identity(call, f"Unconfiguration failed: cannot open SSO database '{config[1]}'")
    db = windows.database(world, *config)
    windows.stop_entsso(world, node)
    db.servers = [s for s in db.servers if key(s) != key(node.name)]
    node.registry.pop(key(SQL_KEY), None)
    return {**sso_state(node), "actions": ["Configuration.exe /u"]}


@operation("sso_service_set", params=(Param("State", mandatory=True), Param("StartupType", mandatory=True)))
def sso_service_set(call: Call) -> dict[str, object]:
    windows.require_admin(call)
    node = call.node
    service = require_installed(node)
    wanted_mode = START_MODES.get(key(call.text("StartupType")))
    if wanted_mode is None or call.text("State") not in ("Running", "Stopped"):
        raise errors.invalid("State must be Running or Stopped; StartupType Automatic, Manual or Disabled.")
    actions = []
    if service.start_mode != wanted_mode:
        service.start_mode = wanted_mode
        actions.append(f"Set-Service {ENTSSO} -StartupType {call.text('StartupType')}")
    if call.text("State") == "Running" and service.state != "Running":
        windows.start_entsso(call.world, node, "scm")
        actions.append(f"Start-Service {ENTSSO}")
    elif call.text("State") == "Stopped" and service.state != "Stopped":
        windows.stop_entsso(call.world, node)
        actions.append(f"Stop-Service {ENTSSO}")
    return {**(service_state(node) or {}), "computerName": node.name, "actions": actions}


def secret_server_state(world: World, node: Node, sql_server: str, database: str) -> dict[str, object]:
    require_installed(node)
    db = windows.database(world, sql_server, database)
    return {
        "sqlServer": sql_server,
        "database": database,
        "exists": db.exists,
        "secretServer": db.secret_server if db.exists else "",
        "adminGroup": db.admin_group if db.exists else "",
        "affiliateAdminGroup": db.affiliate_group if db.exists else "",
    }


@operation(
    "secret_server_get",
    params=(Param("SqlServer", mandatory=True), Param("Database", mandatory=True), *DELEGATION),
    reads_only=True,
)
def secret_server_get(call: Call) -> dict[str, object]:
    return secret_server_state(call.world, call.node, call.text("SqlServer"), call.text("Database"))


def updatedb_document(secret_server: str) -> str:
    """The file the secret_server_set script writes: globalInfo with only secretServer (S1 step 11, S4)."""
    root = ElementTree.Element("sso")
    ElementTree.SubElement(ElementTree.SubElement(root, "globalInfo"), "secretServer").text = secret_server
    return ElementTree.tostring(root, encoding="unicode")


def ssomanage_updatedb(world: World, node: Node, session: Session, document: str) -> list[str]:
    """`ssomanage -updatedb <file>` on `node`: returns its noise lines, raises its errors."""
    require_installed(node)
    db = windows.node_database(world, node)
    if not db.exists:
        raise errors.not_found(
            "ERROR: 0xC0002A1D : The SSO database does not exist.", "SSO_ERROR_NO_DATABASE"
        )
    try:
        root = ElementTree.fromstring(document)  # noqa: S314 - the document is built by the simulator's caller
    except ElementTree.ParseError as failure:
        raise errors.invalid(
            f"ERROR: 0xC00CE558 : The XML file is not valid: {failure}.", "InvalidData"
        ) from None
    info = root.find("globalInfo") if root.tag == "sso" else None
    if info is None:
        raise errors.invalid(
            "ERROR: 0xC0002A27 : The XML file has no <sso><globalInfo> element.", "InvalidData"
        )
    elements = {child.tag: (child.text or "").strip() for child in info}
    unknown = sorted(set(elements) - GLOBAL_INFO_ELEMENTS)
    if unknown:
        raise errors.invalid(
            f"ERROR: 0xC0002A27 : Unknown element <{unknown[0]}> in <globalInfo>.", "InvalidData"
        )
    if not world.domain.is_member(session.user, db.admin_group):
        raise errors.access_denied(f"ERROR: 0x80070005 : '{session.user}' is not an SSO Administrator")
    is_master = key(db.secret_server) in {key(node.name), *(key(n) for n in node.endpoint_names)}
    admin_elements = sorted({"ssoAdminAccount", "ssoAffiliateAdminAccount"} & set(elements))
    if admin_elements and not is_master:
        # S4: from a computer that is not the master secret server the file may carry only secretServer.
        raise errors.not_secret_server(node.name, db.secret_server)
    old = db.secret_server
    if "secretServer" in elements:
        db.secret_server = elements["secretServer"]
    if "ssoAdminAccount" in elements:
        db.admin_group = elements["ssoAdminAccount"]
    if "ssoAffiliateAdminAccount" in elements:
        db.affiliate_group = elements["ssoAffiliateAdminAccount"]
    if "secretServer" in elements and key(old) != key(db.secret_server):
        world.log(
            node,
            EVENT_SECRET_SERVER_CHANGED,
            "Information",
            f"Updated secret server name. New Secret Server: {db.secret_server} Old Secret Server: {old}",
        )
    noise = []
    if not _clustered_dtc_online(world):
        noise.append(
            "ERROR: 0x8004D01B : The Transaction Manager is not available. (MSDTC is not configured for "
            "the cluster "
            "yet; procedure step 13: ignore)"
        )
    return noise


def _clustered_dtc_online(world: World) -> bool:
    cluster = world.cluster
    return cluster is not None and any(
        r.type == "Distributed Transaction Coordinator" and r.state == "Online"
        for r in cluster.resources.values()
    )


@operation(
    "secret_server_set",
    params=(
        Param("SecretServer", mandatory=True),
        Param("SqlServer", mandatory=True),
        Param("Database", mandatory=True),
        *DELEGATION,
    ),
)
def secret_server_set(call: Call) -> dict[str, object]:
    world, node = call.world, call.node
    wanted = call.text("SecretServer")
    before = secret_server_state(world, node, call.text("SqlServer"), call.text("Database"))
    if before["exists"] and key(str(before["secretServer"])) == key(wanted):
        return {**before, "actions": [], "warnings": []}
    windows.require_admin(call)
    noise = ssomanage_updatedb(world, node, call.session, updatedb_document(wanted))
    after = secret_server_state(world, node, call.text("SqlServer"), call.text("Database"))
    if key(str(after["secretServer"])) != key(wanted):
        raise errors.invalid(f"ssomanage -updatedb did not change the secret server name to '{wanted}'.")
    return {**after, "actions": [f"ssomanage -updatedb (secretServer={wanted})"], "warnings": noise}
