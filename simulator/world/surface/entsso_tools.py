"""Enterprise SSO's programs on a node: setup media, msiexec, Configuration.exe, ConfigurationWizard.exe, ssomanage.

- BizTalk's `setup.exe` (the media, wherever it was copied): `/quiet /norestart /l <log> /ADDLOCAL <features>`
  (implements F-SSO-26). SSOServer installs the ENTSSO service and the SSO programs under
  `<Common Files>\\Enterprise Single Sign-On` (F-SSO-01); the BizTalk feature installs Configuration.exe under
  `%ProgramFiles(x86)%\\Microsoft BizTalk Server` and sets the machine variable BTSINSTALLPATH (F-SSO-28).
- `msiexec.exe /i <HIS msi> /quiet` installs Host Integration Server with its ESSO, and
  `ConfigurationWizard.exe /APPLY <file>` or `/u` configures it (implements F-SSO-27). The HIS feature names
  are not documented, so an ADDLOCAL list is refused as Windows Installer refuses unknown features (assumed).
- `Configuration.exe /noprogressbar /s <answer file> /l <log>` and `/u` (implements F-SSO-28, F-SSO-29, F-SSO-30):
  Create makes SSODB and the master secret and backs it up; Join needs SSODB; both need the caller and the
  service account in the SSO Administrators group, and the caller's credentials on SQL Server.
- `ssomanage -updatedb <file>` works through the running local SSO service (implements F-SSO-13, F-SSO-14,
  F-SSO-15, F-SSO-16, F-SSO-17).

Exit codes other than 0 for success, and the wording of the configuration logs, are assumed (F-SSO-26, F-SSO-28;
lab experiment L-02). Passwords from an answer file never reach a log.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from simulator.powershell.errors import DotNetError
from simulator.powershell.machine import NativeResult
from simulator.shell import PowerShellError
from simulator.world import mastersecret, surface, windows
from simulator.world.model import (
    ENTSSO,
    EVENT_BACKUP_OK,
    EVENT_DATABASE_CREATED,
    EVENT_GENERATE_OK,
    EVENT_SECRET_SERVER_CHANGED,
    SQL_KEY,
    Service,
    SsoDatabase,
    World,
    key,
)
from simulator.world.surface import sso_messages as msg
from simulator.world.surface import sso_sql
from simulator.world.surface.entsso import INTEROP_DLL, SSO_DIR, installed_file, is_master, tracking_id

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

SSOMANAGE = SSO_DIR + r"\ssomanage.exe"
ESSO_CONFIGURATION = SSO_DIR + r"\Configuration.exe"
BTS_DIR = r"C:\Program Files (x86)\Microsoft BizTalk Server"
BTS_CONFIGURATION = BTS_DIR + r"\Configuration.exe"
HIS_DIR = r"C:\Program Files\Microsoft Host Integration Server"
HIS_WIZARD = HIS_DIR + r"\ConfigurationWizard.exe"
MSIEXEC = r"C:\Windows\System32\msiexec.exe"
BIZTALK_MEDIA = b"MZ simulated BizTalk"  # what seed_world writes for BizTalk's setup.exe
MSI_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file, as every .msi is
# implements F-SSO-26: the features of the documented silent installs (appendix A).
BIZTALK_FEATURES = {"WMI", "BIZTALK", "ADDITIONALAPPS", "SSOSERVER", "SSOADMIN"}
CREATE_GUID = "{FB7268BE-82D4-4cad-8CFF-6930303DA7E2}"
JOIN_GUID = "{B9432756-1620-4bec-8CD9-E6D0B7805AA5}"
GLOBAL_INFO = {
    "ssoAdminAccount",
    "ssoAffiliateAdminAccount",
    "secretServer",
    "auditDeletedApps",
    "auditDeletedMappings",
    "auditCredentialLookups",
    "ticketTimeout",
    "credCacheTimeout",
}
# Windows Installer's exit codes (W32 desktop-src/Msi/error-codes.md, F-SVC-05).
INSTALL_FAILURE, PACKAGE_OPEN_FAILED, PACKAGE_INVALID, INVALID_COMMAND_LINE = 1603, 1619, 1620, 1639


@dataclass
class Program:
    """A native program on the node: `run` gets argv (without the program) and returns its outcome."""

    name: str
    machine: NodeMachine
    log: list[str] = field(default_factory=list)

    def now(self) -> str:
        return self.machine.now().strftime("%Y-%m-%d %H:%M:%S")

    def note(self, text: str) -> None:
        self.log.append(f"[{self.now()}] Info {text}")

    def fail(self, text: str) -> None:
        self.log.append(f"[{self.now()}] Error {text}")

    def write_log(self, path: str | None) -> None:
        if not path:
            return
        data = ("\r\n".join(self.log) + "\r\n").encode("utf-8")
        with contextlib.suppress(DotNetError):  # a log that cannot be written does not change the outcome
            self.machine.filesystem.write_bytes(path, data)


def _switches(arguments: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """`/name value` and `/flag` pairs (case-insensitive), and the words that were neither."""
    found: dict[str, str | None] = {}
    rest: list[str] = []
    takes_value = {"/l", "/s", "/addlocal", "/apply", "/l*v", "/log"}
    index = 0
    while index < len(arguments):
        word = arguments[index]
        lower = word.lower()
        if lower.startswith(("/", "-")):
            name = "/" + lower[1:]
            if name in takes_value and index + 1 < len(arguments):
                found[name] = arguments[index + 1]
                index += 2
                continue
            found[name] = None
        else:
            rest.append(word)
        index += 1
    return found, rest


def _admin(machine: NodeMachine) -> bool:
    return machine.identity().is_admin


# --------------------------------------------------------------------------------------------- installation


def install_sso(machine: NodeMachine, features: set[str], product: str) -> None:
    """What setup leaves on the node: the ENTSSO service and the SSO programs (F-SSO-01)."""
    node = machine.node
    node.products = sorted({*node.products, *features}, key=str.lower)
    files = [INTEROP_DLL, SSOMANAGE, SSO_DIR + r"\ssoconfig.exe"]
    if "SSOSERVER" in {f.upper() for f in features}:
        files.append(SSO_DIR + r"\ENTSSO.exe")
        if product == "BizTalk":
            # BizTalk's ESSO has its own Configuration.exe (F-SSO-28); HIS configures with its wizard (assumed: no
            # such copy with HIS, F-SSO-27).
            files.append(ESSO_CONFIGURATION)
        if node.service(ENTSSO) is None:
            # F-SVC-07 (assumed): installed as a service that starts automatically, not yet configured.
            node.services[key(ENTSSO)] = Service(ENTSSO, "Enterprise Single Sign-On Service", start_mode="Auto")
    for path in files:
        node.write_file(path, b"MZ " + path.rsplit("\\", 1)[-1].encode("ascii"))
    if product == "BizTalk" and "BIZTALK" in {f.upper() for f in features}:
        node.write_file(BTS_CONFIGURATION, b"MZ Configuration.exe")
        # public code (SKA, BSD): BizTalk's setup sets BTSINSTALLPATH; the trailing backslash is assumed.
        node.environment["BTSINSTALLPATH"] = BTS_DIR + "\\"
    if product == "HIS":
        node.write_file(HIS_WIZARD, b"MZ ConfigurationWizard.exe")


@surface.media(BIZTALK_MEDIA)
def biztalk_setup(machine: NodeMachine, path: str) -> Program:
    return BizTalkSetup(path.rsplit("\\", 1)[-1], machine)


class BizTalkSetup(Program):
    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        switches, rest = _switches(arguments)
        log = switches.get("/l")
        if rest or "/quiet" not in switches:
            # Without /quiet setup shows its UI, which a WinRM session cannot see (assumed: it is refused).
            self.fail(f"Setup needs /quiet in a non-interactive session; arguments: {' '.join(arguments)}")
            self.write_log(log)
            return NativeResult(INSTALL_FAILURE)
        if not _admin(self.machine):
            self.fail("Setup must be run by an administrator.")
            self.write_log(log)
            return NativeResult(INSTALL_FAILURE)
        features = {f.strip() for f in (switches.get("/addlocal") or "").split(",") if f.strip()}
        unknown = sorted(f for f in features if f.upper() not in BIZTALK_FEATURES)
        if not features or unknown:
            self.fail(f"Unknown or missing features for /ADDLOCAL: {', '.join(unknown) or '(none)'}")
            self.write_log(log)
            return NativeResult(INSTALL_FAILURE)
        install_sso(self.machine, features, "BizTalk")
        self.note(f"Installed {', '.join(sorted(features))}.")
        self.write_log(log)
        return NativeResult(0)


@surface.executable(MSIEXEC, on_path=True)
def msiexec(machine: NodeMachine) -> Program:
    return MsiExec("msiexec.exe", machine)


@surface.media(MSI_SIGNATURE)
def msi_package(machine: NodeMachine, path: str) -> Program:
    """Starting an .msi itself (Start-Process <package>): its file association runs `msiexec.exe /i "%1" %*`."""
    return OpenedPackage(path.rsplit("\\", 1)[-1], machine, package=path)


class MsiExec(Program):
    """Windows Installer's command line, for the HIS package (implements F-SSO-27, F-SVC-05's exit codes)."""

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        package, log, quiet, properties = "", None, False, {}
        index = 0
        while index < len(arguments):
            word, lower = arguments[index], arguments[index].lower()
            if lower in ("/i", "/package") and index + 1 < len(arguments):
                package, index = arguments[index + 1], index + 2
                continue
            if lower.startswith("/l") and index + 1 < len(arguments):
                log, index = arguments[index + 1], index + 2
                continue
            if lower in ("/quiet", "/qn", "/q"):
                quiet = True
            elif lower in ("/norestart",):
                pass
            elif "=" in word and not word.startswith("/"):
                name, value = word.split("=", 1)
                properties[name.upper()] = value
            else:
                return NativeResult(INVALID_COMMAND_LINE)
            index += 1
        if not package:
            return NativeResult(INVALID_COMMAND_LINE)
        content = self.machine.node.file(package)
        if content is None:
            self.fail(f"This installation package could not be opened. Verify that the package exists: {package}")
            self.write_log(log)
            return NativeResult(PACKAGE_OPEN_FAILED)
        if not content.startswith(MSI_SIGNATURE):
            self.fail("This installation package could not be opened. It is not a valid Windows Installer package.")
            self.write_log(log)
            return NativeResult(PACKAGE_INVALID)
        if not quiet or not _admin(self.machine):
            self.fail("A per-machine installation needs an elevated administrator and /quiet here.")
            self.write_log(log)
            return NativeResult(INSTALL_FAILURE)
        if "ADDLOCAL" in properties:
            # assumed: the ESSO-only feature names of HIS are not documented (F-SSO-27)
            for feature in properties["ADDLOCAL"].split(","):
                self.fail(f"Error 2711. The specified Feature name ('{feature}') not found in Feature table.")
            self.write_log(log)
            return NativeResult(INSTALL_FAILURE)
        install_sso(self.machine, {"HIS", "SSOServer", "SSOAdmin"}, "HIS")
        self.note("Product: Microsoft Host Integration Server -- Installation completed successfully.")
        self.write_log(log)
        return NativeResult(0)


@dataclass
class OpenedPackage(Program):
    package: str = ""

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        return MsiExec("msiexec.exe", self.machine).run(["/i", self.package, *arguments], stdin)


# --------------------------------------------------------------------------------------------- configuration


@dataclass
class Answers:
    mode: str
    admin_group: str = ""
    affiliate_group: str = ""
    backup_file: str = ""
    backup_password: str = field(default="", repr=False)
    backup_confirm: str = field(default="", repr=False)
    reminder: str = ""
    service_user: str = ""
    service_domain: str = ""
    service_password: str = field(default="", repr=False)
    sql_server: str = ""
    database: str = ""

    @property
    def service_account(self) -> str:
        return f"{self.service_domain}\\{self.service_user}" if self.service_domain else self.service_user


class ConfigurationFailed(Exception):
    pass


def read_answers(content: bytes) -> Answers:
    """implements F-SSO-29: the SSO part of a configuration answer file."""
    try:
        root = ElementTree.fromstring(content)  # noqa: S314 - the answer file is on the simulated node
    except ElementTree.ParseError as problem:
        raise ConfigurationFailed(f"The configuration file is not valid XML: {problem}.") from None
    feature = next(
        (f for f in root.iter("Feature") if "SSOSERVER" in {p.strip().upper() for p in f.get("Name", "").split(",")}),
        None,
    )
    if feature is None:
        raise ConfigurationFailed("The configuration file has no Enterprise SSO feature (SSOServer).")
    question = next((q for q in feature.iter("Question") if q.get("ID") == "IsSecretServer"), None)
    selected = [a for a in (question.iter("Answer") if question is not None else []) if a.get("Selected") == "Yes"]
    if len(selected) != 1:
        raise ConfigurationFailed("The configuration file must select exactly one answer to IsSecretServer.")
    answer = selected[0]
    guid = (answer.get("GUID") or "").upper()
    mode = "Create" if guid == CREATE_GUID.upper() else "Join" if guid == JOIN_GUID.upper() else ""
    if not mode:
        raise ConfigurationFailed(f"Unknown answer to IsSecretServer: {answer.get('Value')}.")
    found = Answers(mode)

    def text(element: ElementTree.Element | None, child: str) -> str:
        node = element.find(child) if element is not None else None
        return (node.text or "") if node is not None else ""

    for credential in answer.iter("NTCredential"):
        if credential.get("ID") == "SSOAdminGroup":
            found.admin_group = text(credential, "NTAccount")
        elif credential.get("ID") == "SSOAffiliateAdminGroup":
            found.affiliate_group = text(credential, "NTAccount")
    for element in answer.iter("FILE"):
        if element.get("ID") == "SSO_ID_BACKUP_SECRET_FILE":
            found.backup_file = text(element, "Value")
    for element in answer.iter("Name"):
        value = text(element, "Value")
        ident = element.get("ID")
        if ident == "SSO_ID_BACKUP_SECRET_PASSWORD":
            found.backup_password = value
        elif ident == "SSO_ID_BACKUP_SECRET_PASSWORD_CONFIRM":
            found.backup_confirm = value
        elif ident == "SSO_ID_BACKUP_SECRET_REMINDER":
            found.reminder = value
    service = next((s for s in feature.iter("NTService") if s.get("ID") == ENTSSO), None)
    found.service_user, found.service_domain = text(service, "UserName"), text(service, "Domain")
    found.service_password = text(service, "Password")
    sql = next((s for s in feature.iter("SQL") if s.get("ID") == "SSO_DB_ID"), None)
    found.sql_server, found.database = text(sql, "Server"), text(sql, "Database")
    if not found.service_user or not found.sql_server or not found.database:
        raise ConfigurationFailed("The configuration file lacks the ENTSSO service account or the SSO database.")
    return found


def _group_exists(world: World, account: str) -> bool:
    name = world.domain.sam(account)
    return name is not None and key(name) in world.domain.groups


def configure(machine: NodeMachine, answers: Answers, tool: Program) -> None:
    """Configure Enterprise SSO on this node from `answers` as the calling account; raises ConfigurationFailed."""
    world, node = machine.world, machine.node
    identity = machine.identity()
    service = node.service(ENTSSO)
    if service is None:
        raise ConfigurationFailed("The Enterprise SSO server feature is not installed.")
    if not identity.is_admin:
        raise ConfigurationFailed(msg.tool_line(msg.NOT_ADMIN))
    if windows.sso_config(node) is not None:
        raise ConfigurationFailed("Enterprise Single Sign-On is already configured on this computer.")  # assumed
    account = answers.service_account
    user = world.domain.user(account)
    if user is None:
        raise ConfigurationFailed(f"{msg.tool_line(msg.INVALID_ACCOUNT)} ({account})")
    if not world.domain.authenticate(account, answers.service_password):
        # Win32 1326 ERROR_LOGON_FAILURE (F-FS-04's text)
        raise ConfigurationFailed(
            f"The service account {account} could not log on: The user name or password is incorrect."
        )
    try:
        connection = sso_sql.as_caller(world, answers.sql_server, identity.user, identity.network_credentials)
    except sso_sql.SqlFailure as failure:
        raise ConfigurationFailed(f"{msg.tool_line(msg.DB_ACCESS)} {failure.message}") from None
    db = connection.database(answers.database)
    if answers.mode == "Create":
        admin_group, affiliate_group = answers.admin_group, answers.affiliate_group
        for group in (admin_group, affiliate_group):
            if not _group_exists(world, group):
                raise ConfigurationFailed(f"{msg.tool_line(msg.INVALID_ACCOUNT)} ({group})")
    else:
        if not db.exists:
            # assumed: Join before Create (F-SSO-29; ENTSSO_E_SSO_DATABASE_NOT_CONFIGURED)
            raise ConfigurationFailed(
                f"{msg.tool_line(msg.DATABASE_NOT_CONFIGURED)} ({answers.sql_server}\\{answers.database})"
            )
        admin_group, affiliate_group = db.admin_group, db.affiliate_group
    if not world.domain.is_member(identity.user, admin_group):
        raise ConfigurationFailed(msg.tool_line(msg.CALLER_NOT_SSO_ADMIN))  # implements F-SSO-02
    if not world.domain.is_member(account, admin_group):
        raise ConfigurationFailed(msg.tool_line(msg.SSO_NOT_IN_NEW_SSO_ADMIN))  # implements F-SSO-02
    if answers.mode == "Create":
        _create(machine, connection, db, answers, tool)
    else:
        tool.note(f"Joined the SSO system in {answers.sql_server}\\{answers.database}.")
    db.servers = sorted({*db.servers, node.name})
    node.registry[key(SQL_KEY)] = {"Server": answers.sql_server, "Database": answers.database}  # F-SSO-06 (assumed)
    service.account, service.start_mode = account, "Auto"  # F-SVC-07 (assumed)
    try:
        windows.start_entsso(world, node, "scm")
    except PowerShellError as failure:
        raise ConfigurationFailed(f"The Enterprise Single Sign-On Service could not start: {failure}") from None
    tool.note("Enterprise Single Sign-On is configured.")


def _create(
    machine: NodeMachine, connection: sso_sql.SqlConnection, db: SsoDatabase, answers: Answers, tool: Program
) -> None:
    world, node = machine.world, machine.node
    if db.exists:
        raise ConfigurationFailed(f"{msg.tool_line(msg.DATABASE_EXISTS)} ({answers.sql_server}\\{answers.database})")
    if not connection.is_sysadmin(world):
        # SQL Server error 262 (implements F-SSO-30: Create needs CREATE DATABASE on the SQL Server)
        raise ConfigurationFailed("CREATE DATABASE permission denied in database 'master'.")
    if not answers.backup_file or len(answers.backup_password) < 7:
        raise ConfigurationFailed(msg.tool_line(msg.PASSWORD_TOO_SHORT))
    if answers.backup_password != answers.backup_confirm:
        raise ConfigurationFailed("The backup file password and its confirmation do not match.")  # assumed
    folder = answers.backup_file.rstrip("\\").rsplit("\\", 1)[0]
    if machine.filesystem.stat(folder) is None:
        raise ConfigurationFailed(f"{msg.tool_line(msg.FILE_OPEN_FAILED)} ({answers.backup_file})")
    user, computer = machine.identity().user, node.name
    secret = mastersecret.generate()
    db.exists, db.secret_server, db.secret_id = True, node.name, secret.secret_id
    db.admin_group, db.affiliate_group = answers.admin_group, answers.affiliate_group
    world.sql.databases[key(answers.database)] = db
    world.log(
        node,
        EVENT_DATABASE_CREATED,
        "Information",
        msg.DATABASE_CREATED.format(answers.sql_server, answers.database, user),
    )
    mastersecret.store(node, secret, answers.service_account)
    world.log(
        node, EVENT_GENERATE_OK, "Information", msg.GENERATE_OK.format(secret.secret_id, user, computer, tracking_id())
    )
    node.write_file(answers.backup_file, mastersecret.backup_bytes(secret, answers.backup_password, answers.reminder))
    world.log(
        node,
        EVENT_BACKUP_OK,
        "Information",
        msg.BACKUP_OK.format(answers.backup_file, secret.secret_id, "", user, computer),
    )
    tool.note(
        f"Created the SSO database {answers.database} and the master secret; backed it up to {answers.backup_file}."
    )


def unconfigure(machine: NodeMachine, tool: Program) -> None:
    """Configuration.exe /u for SSO: the server leaves SSODB (the caller's SQL connection), ENTSSO stops."""
    world, node = machine.world, machine.node
    identity = machine.identity()
    if not identity.is_admin:
        raise ConfigurationFailed(msg.tool_line(msg.NOT_ADMIN))
    config = windows.sso_config(node)
    if config is None:
        tool.note("Enterprise Single Sign-On is not configured; nothing to do.")
        return
    try:
        connection = sso_sql.as_caller(world, config[0], identity.user, identity.network_credentials)
    except sso_sql.SqlFailure as failure:
        raise ConfigurationFailed(f"{msg.tool_line(msg.DB_ACCESS)} {failure.message}") from None
    db = connection.database(config[1])
    windows.stop_entsso(world, node)
    db.servers = [s for s in db.servers if key(s) != key(node.name)]
    node.registry.pop(key(SQL_KEY), None)
    tool.note("Enterprise Single Sign-On is unconfigured.")


class ConfigurationTool(Program):
    """BizTalk's (or ESSO's) Configuration.exe: /S <full path of the answer file>, /U, /L <log>."""

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        switches, rest = _switches(arguments)
        log = switches.get("/l")
        try:
            if rest:
                raise ConfigurationFailed(f"Unknown arguments: {' '.join(rest)}")
            if "/u" in switches:
                unconfigure(self.machine, self)
            elif switches.get("/s"):
                path = str(switches["/s"])
                if not (len(path) > 2 and path[1] == ":"):
                    # "You must also pass the full path to the configuration XML" (F-SSO-28)
                    raise ConfigurationFailed(f"The configuration file must be given by its full path: {path}")
                content = self.machine.node.file(path)
                if content is None:
                    raise ConfigurationFailed(f"The configuration file {path} was not found.")
                configure(self.machine, read_answers(content), self)
            else:
                raise ConfigurationFailed(
                    "Configuration.exe without /S or /U opens its UI, which this session cannot show."
                )
        except ConfigurationFailed as failure:
            self.fail(str(failure))
            self.write_log(log)
            return NativeResult(1)  # assumed: any failure is a non-zero exit code (F-SSO-28)
        self.write_log(log)
        return NativeResult(0)


class ConfigurationWizard(ConfigurationTool):
    """HIS: ConfigurationWizard.exe /APPLY <file> and /u (F-SSO-27); the file's SSO part is read as Configuration.exe's
    (assumed: HIS writes the same configuration framework's format; lab experiment L-11)."""

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        switches, rest = _switches(arguments)
        if "/apply" in switches and not rest:
            translated = ["/s", str(switches["/apply"])]
            return super().run(translated, stdin)
        if "/u" in switches and not rest:
            return super().run(["/u"], stdin)
        return NativeResult(1)


for _path in (BTS_CONFIGURATION, ESSO_CONFIGURATION):
    surface.executable(_path, installed=installed_file(_path))(
        lambda machine, _p=_path: ConfigurationTool("Configuration.exe", machine)
    )
surface.executable(HIS_WIZARD, installed=installed_file(HIS_WIZARD))(
    lambda machine: ConfigurationWizard("ConfigurationWizard.exe", machine)
)


# --------------------------------------------------------------------------------------------- ssomanage


class SsoManage(Program):
    """ssomanage.exe: the admin command line, through an SSO server (the local one unless -server named another)."""

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        words = [a.lower() for a in arguments]
        if len(words) == 2 and words[0] in ("-updatedb", "/updatedb"):
            return self.update_db(arguments[1])
        return NativeResult(1, [], [f"The simulated node does not model ssomanage {' '.join(arguments)}."])

    def update_db(self, path: str) -> NativeResult:
        machine, world, node = self.machine, self.machine.world, self.machine.node
        out = [f"Using SSO server : {node.name}"]  # observed first line (F-SSO-13)
        service = node.service(ENTSSO)
        if service is None or service.state != "Running":
            # implements F-SSO-13 / C-11: no running SSO service on this computer to do the update
            return NativeResult(1, out, [msg.tool_line(msg.NO_SSO_SERVER, node.name, detail=msg.RPC_NO_ENDPOINTS)])
        if not machine.identity().is_admin:
            return NativeResult(1, out, [msg.tool_line(msg.NOT_ADMIN)])  # implements F-SSO-15 (observed text)
        config = windows.sso_config(node)
        assert config is not None
        try:
            db = sso_sql.as_service(world, config[0], service.account).database(config[1])
        except sso_sql.SqlFailure:
            return NativeResult(1, out, [msg.tool_line(msg.DB_ACCESS)])
        if not world.domain.is_member(machine.identity().user, db.admin_group):
            return NativeResult(1, out, [msg.tool_line(msg.NOT_SSO_ADMIN)])  # assumed code for a non-SSO admin
        content = node.file(path)
        if content is None:
            return NativeResult(1, out, [msg.tool_line(msg.FILE_OPEN_FAILED)])
        try:
            root = ElementTree.fromstring(content)  # noqa: S314 - the file is on the simulated node
        except ElementTree.ParseError as problem:
            return NativeResult(1, out, [f"ERROR: 0xC00CE556 : The XML file is not valid: {problem}."])  # assumed
        info = root.find("globalInfo") if root.tag == "sso" else None
        elements = {child.tag: (child.text or "").strip() for child in (info if info is not None else [])}
        if info is None or set(elements) - GLOBAL_INFO:
            return NativeResult(
                1, out, ["ERROR: 0xC00CE014 : The XML file does not describe <sso><globalInfo>."]
            )  # assumed
        admin_elements = {"ssoAdminAccount", "ssoAffiliateAdminAccount"} & set(elements)
        if admin_elements and not is_master(node, db):
            # implements F-SSO-14: from a computer that is not the master, only the secret server name (text assumed)
            return NativeResult(1, out, [msg.tool_line(msg.NOT_SECRET_SERVER)])
        old = db.secret_server
        db.secret_server = elements.get("secretServer", db.secret_server)
        db.admin_group = elements.get("ssoAdminAccount", db.admin_group)
        db.affiliate_group = elements.get("ssoAffiliateAdminAccount", db.affiliate_group)
        if key(old) != key(db.secret_server):
            # implements F-SSO-16: 10575 with every documented field
            world.log(
                node,
                EVENT_SECRET_SERVER_CHANGED,
                "Information",
                msg.CHANGED_SECRET_SERVER.format(
                    db.secret_server, old, tracking_id(), node.name, machine.identity().user
                ),
            )
        errors = []
        if not _clustered_dtc_online(world):
            # implements F-SSO-17 (which DTC error -updatedb prints is assumed): the update is made all the same
            errors.append(msg.tool_line(msg.DTC_IMPORT_FAILED))
        return NativeResult(0, out, errors)


def _clustered_dtc_online(world: World) -> bool:
    cluster = world.cluster
    return cluster is not None and any(
        r.type == "Distributed Transaction Coordinator" and r.state == "Online" for r in cluster.resources.values()
    )


surface.executable(SSOMANAGE, installed=installed_file(SSOMANAGE))(lambda machine: SsoManage("ssomanage.exe", machine))
