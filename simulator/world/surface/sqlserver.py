"""The lab's SQL Server 2022 VM from the inside: its WMI provider, System.Data.SqlClient, and a sliver of T-SQL.

- The SQL Server WMI provider (root/Microsoft/SqlServer/ComputerManagement16 on SQL Server 2022; F-SQL-01):
  `ServerNetworkProtocol` (InstanceName, ProtocolName, Enabled; SetEnable) and `SqlService` (ServiceName,
  SQLServiceType, StartName, State; SetServiceAccount(ServiceStartName, ServiceStartPassword)), through
  Get-CimInstance and Invoke-CimMethod. TCP/IP is disabled on a new Developer edition instance (F-SQL-02).
- `System.Data.SqlClient` (loaded in Windows PowerShell 5.1 at start, F-SQL-03): SqlConnection with integrated
  security (the process's Windows identity logs on; F-SQL-04), SqlCommand with SqlParameters, SqlDataReader.
- T-SQL: only the statements `components/scripts/sql_configure.ps1` sends (F-SQL-05): SET NOCOUNT, DECLARE, SET,
  IF ... BEGIN ... END, THROW, EXEC sys.sp_executesql, SELECT of variables, and in dynamic SQL CREATE LOGIN ... FROM
  WINDOWS and ALTER SERVER ROLE ... ADD MEMBER; the functions ISNULL, IS_SRVROLEMEMBER, SUSER_ID and QUOTENAME.
  Anything else is refused loudly (SqlException "The simulated SQL Server does not model ...").
The marketplace image makes its VM administrator a sysadmin; SYSTEM is not one (F-SQL-06).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.errors import DotNetError, NetException, register_exception_type
from simulator.powershell.types import PSType, enum_convert, to_integer, to_string
from simulator.world import surface
from simulator.world.model import Node, SqlServer, World, key
from simulator.world.surface import services
from simulator.world.surface import sso_messages as msg
from simulator.world.surface.ad import forest_answers

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

INSTANCE = "MSSQLSERVER"
NAMESPACE = "root/Microsoft/SqlServer"
PROVIDER = "ComputerManagement16"  # SQL Server 2022 is version 16
SQL_EXCEPTION = "System.Data.SqlClient.SqlException"
register_exception_type("System.Data.Common.DbException", "System.Runtime.InteropServices.ExternalException")
register_exception_type(SQL_EXCEPTION, "System.Data.Common.DbException")

SQL_DB_TYPE = v.EnumType(
    "System.Data.SqlDbType",
    (
        ("BigInt", 0),
        ("Binary", 1),
        ("Bit", 2),
        ("Char", 3),
        ("DateTime", 4),
        ("Decimal", 5),
        ("Float", 6),
        ("Image", 7),
        ("Int", 8),
        ("Money", 9),
        ("NChar", 10),
        ("NText", 11),
        ("NVarChar", 12),
        ("Real", 13),
        ("UniqueIdentifier", 14),
        ("SmallDateTime", 15),
        ("SmallInt", 16),
        ("SmallMoney", 17),
        ("Text", 18),
        ("Timestamp", 19),
        ("TinyInt", 20),
        ("VarBinary", 21),
        ("VarChar", 22),
        ("Variant", 23),
        ("Xml", 25),
        ("Udt", 29),
        ("Structured", 30),
        ("Date", 31),
        ("Time", 32),
        ("DateTime2", 33),
        ("DateTimeOffset", 34),
    ),
)


def hosts_sql(world: World, node: Node) -> bool:
    return bool(world.sql.host) and key(world.sql.host) == key(node.name)


def _running(node: Node) -> bool:
    service = node.service(INSTANCE)
    return service is not None and service.state == "Running"


# --------------------------------------------------------------------------------------------- WMI provider


class ProviderInstance(services.CimInstance):
    def __init__(self, world: World, node: Node, class_name: str, properties: dict[str, object]) -> None:
        super().__init__(class_name, properties)
        self._world, self._node = world, node
        self._values["CimClass"] = f"{NAMESPACE}/{PROVIDER}:{class_name}"

    def ps_type_name(self) -> str:
        return f"Microsoft.Management.Infrastructure.CimInstance#{NAMESPACE}/{PROVIDER}/{self.class_name}"


class NetworkProtocol(ProviderInstance):
    def cim_invoke(self, method: str, arguments: dict[str, object]) -> dict[str, object] | None:
        if key(method) not in ("SETENABLE", "SETDISABLE"):
            return None
        if key(str(self._values["ProtocolName"])) == "TCP":
            # implements F-SQL-01: the change takes effect when the service restarts (the provider's note)
            self._world.sql.tcp_enabled = key(method) == "SETENABLE"
        return {"ReturnValue": v.UInt32(0)}


class SqlServiceInstance(ProviderInstance):
    def cim_invoke(self, method: str, arguments: dict[str, object]) -> dict[str, object] | None:
        if key(method) != "SETSERVICEACCOUNT":
            return None
        account = to_string(arguments.get("ServiceStartName") or "")
        password = to_string(arguments.get("ServiceStartPassword") or "")
        world, node = self._world, self._node
        domain = world.domain
        local = "\\" not in account or key(account.split("\\", 1)[0]) in (key(node.name), "NT SERVICE", "NT AUTHORITY")
        # implements F-SQL-01 (assumed): a domain account is checked against its domain; a logon failure (1326) is the
        # method's return value, and nothing changes
        member = node.domain_role in (3, 4, 5) and forest_answers(world)
        if not local and not (member and domain.authenticate(account, password)):
            return {"ReturnValue": v.UInt32(1326)}
        service = node.service(INSTANCE)
        if service is not None:
            service.account = account
        world.sql.service_account = account
        return {"ReturnValue": v.UInt32(0)}


@services.namespaced_class(NAMESPACE, "__NAMESPACE")
def _namespaces(world: World, node: Node) -> list[v.DotNetObject]:
    if not hosts_sql(world, node):
        return []
    return [services.CimInstance("__NAMESPACE", {"Name": name}) for name in (PROVIDER, "ServerEvents")]


@services.namespaced_class(f"{NAMESPACE}/{PROVIDER}", "ServerNetworkProtocol")
def _protocols(world: World, node: Node) -> list[v.DotNetObject]:
    if not hosts_sql(world, node):
        return []
    rows = (("Sm", "Shared Memory", True), ("Np", "Named Pipes", False), ("Tcp", "TCP/IP", world.sql.tcp_enabled))
    return [
        NetworkProtocol(
            world,
            node,
            "ServerNetworkProtocol",
            {
                "InstanceName": INSTANCE,
                "ProtocolName": name,
                "ProtocolDisplayName": display,
                "Enabled": enabled,
                "MultiIpConfigurationSupport": name == "Tcp",
            },
        )
        for name, display, enabled in rows
    ]


@services.namespaced_class(f"{NAMESPACE}/{PROVIDER}", "SqlService")
def _sql_services(world: World, node: Node) -> list[v.DotNetObject]:
    service = node.service(INSTANCE)
    if not hosts_sql(world, node) or service is None:
        return []
    return [
        SqlServiceInstance(
            world,
            node,
            "SqlService",
            {
                "ServiceName": INSTANCE,
                "DisplayName": "SQL Server (MSSQLSERVER)",
                "SQLServiceType": v.UInt32(1),  # 1 Database Engine (SqlService class)
                "StartName": service.account,
                "State": v.UInt32(4 if service.state == "Running" else 1),
                "StartMode": v.UInt32(2 if service.start_mode == "Auto" else 3),
                "HostName": node.name,
                "BinaryPath": (
                    '"C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe"'
                    " -sMSSQLSERVER"
                ),
            },
        )
    ]


# --------------------------------------------------------------------------------------------- who is who


def _same(a: str, b: str) -> bool:
    return key(a) == key(b)


def principal(world: World, node: Node, login: str) -> str | None:
    """The Windows principal SQL Server resolves `login` to (its canonical name), or None (F-SQL-05)."""
    if "\\" not in login:
        return None
    authority, name = login.split("\\", 1)
    if key(authority) in (key(node.name), "NT SERVICE", "NT AUTHORITY", "BUILTIN"):
        return login
    domain = world.domain
    if node.domain_role not in (3, 4, 5) or not forest_answers(world):
        return None
    if key(authority) not in (key(domain.netbios), key(domain.fqdn)):
        return None
    found = domain.users.get(key(name)) or domain.groups.get(key(name))
    return None if found is None else f"{domain.netbios}\\{found.name}"


def has_login(world: World, server: SqlServer, who: str) -> bool:
    names = [*server.logins, *server.sysadmins]
    if any(_same(who, n) for n in names):
        return True
    return world.domain.in_any(who, [n for n in names if "\\" in n])


def is_sysadmin(world: World, server: SqlServer, who: str) -> bool:
    if any(_same(who, n) for n in server.sysadmins):
        return True
    return world.domain.in_any(who, [n for n in server.sysadmins if "\\" in n])


def login_exists(server: SqlServer, name: str) -> bool:
    return any(_same(name, n) for n in [*server.logins, *server.sysadmins])


# --------------------------------------------------------------------------------------------- T-SQL


class SqlError(Exception):
    def __init__(self, number: int, message: str, severity: int = 16, state: int = 1) -> None:
        super().__init__(message)
        self.number, self.message, self.severity, self.state = number, message, severity, state


def not_modelled(what: str) -> SqlError:
    return SqlError(0, f"The simulated SQL Server does not model {what}.")


_TOKEN = re.compile(
    r"\s+|--[^\n]*|(?P<string>N?'(?:[^']|'')*')|(?P<bracket>\[[^\]]*\])|(?P<var>@\w+)|(?P<number>\d+)"
    r"|(?P<word>[A-Za-z_][\w.]*)|(?P<op><>|!=|<=|>=|[=+(),;<>*])",
    re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(text: str) -> list[Token]:
    found: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise not_modelled(f"the text at {text[position : position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind is not None:
            found.append(Token(kind, match.group(kind)))
    return found


class Batch:
    """One batch run by `sp_executesql` or a SqlCommand: its variables, the caller, what SELECT returned."""

    def __init__(self, world: World, node: Node, caller: str, variables: dict[str, object]) -> None:
        self.world, self.node, self.caller = world, node, caller
        self.variables = {k.lower(): value for k, value in variables.items()}
        self.rows: list[dict[str, object]] = []
        self.items: list[Token] = []
        self.at = 0

    @property
    def server(self) -> SqlServer:
        return self.world.sql

    # --- the token stream ---------------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token | None:
        index = self.at + offset
        return self.items[index] if index < len(self.items) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.upper() if token is not None and token.kind == "word" else ""

    def take(self, expected: str | None = None) -> Token:
        token = self.peek()
        if token is None or (expected is not None and token.text.upper() != expected):
            raise not_modelled(f"the syntax near {token.text if token else 'the end'!r} (expected {expected})")
        self.at += 1
        return token

    def run(self, text: str) -> None:
        self.items, self.at = tokens(text), 0
        while self.peek() is not None:
            self.statement()

    # --- statements ---------------------------------------------------------------------------------------------

    def statement(self) -> None:
        token = self.peek()
        assert token is not None
        if token.text == ";":
            self.take()
            return
        word = self.word()
        if word == "SET" and self.word(1) == "NOCOUNT":
            self.take(), self.take(), self.take()
            return
        if word == "SET":
            self.take()
            name = self.take().text.lower()
            self.take("=")
            self.variables[name] = self.expression()
            return
        if word == "DECLARE":
            self.take()
            while True:
                name = self.take().text.lower()
                self.datatype()
                following = self.peek()
                value: object = None
                if following is not None and following.text == "=":
                    self.take()
                    value = self.expression()
                self.variables[name] = value
                if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.take()
                    continue
                return
        if word == "IF":
            self.take()
            condition = self.condition()
            if condition:
                self.block()
            else:
                self.skip_block()
            if self.word() == "ELSE":
                self.take()
                if condition:
                    self.skip_block()
                else:
                    self.block()
            return
        if word == "THROW":
            self.take()
            number = to_integer(self.expression())
            self.take(",")
            message = to_string(self.expression())
            self.take(",")
            state = to_integer(self.expression())
            raise SqlError(number, message, 16, state)
        if word in ("EXEC", "EXECUTE"):
            self.take()
            procedure = self.take().text.lower()
            if procedure not in ("sys.sp_executesql", "sp_executesql"):
                raise not_modelled(f"EXEC {procedure}")
            statement = to_string(self.expression())
            Batch(self.world, self.node, self.caller, {}).run(statement)
            return
        if word == "SELECT":
            self.take()
            row: dict[str, object] = {}
            while True:
                value = self.expression()
                self.take("AS")
                row[self.take().text.strip("[]")] = value
                if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.take()
                    continue
                break
            self.rows.append(row)
            return
        if word == "CREATE" and self.word(1) == "LOGIN":
            self.take(), self.take()
            self.create_login(self.identifier())
            self.take("FROM")
            self.take("WINDOWS")
            return
        if word == "ALTER" and self.word(1) == "SERVER" and self.word(2) == "ROLE":
            self.take(), self.take(), self.take()
            role = self.identifier()
            self.take("ADD")
            self.take("MEMBER")
            self.add_role_member(role, self.identifier())
            return
        raise not_modelled(f"the statement starting with {token.text!r}")

    def block(self) -> None:
        if self.word() == "BEGIN":
            self.take()
            while self.word() != "END":
                if self.peek() is None:
                    raise not_modelled("a BEGIN without END")
                self.statement()
            self.take()
            return
        self.statement()

    def skip_block(self) -> None:
        if self.word() == "BEGIN":
            depth = 0
            while True:
                word = self.word()
                self.take()
                if word == "BEGIN":
                    depth += 1
                elif word == "END":
                    depth -= 1
                    if depth == 0:
                        return
        while self.peek() is not None and self.peek().text != ";":  # type: ignore[union-attr]
            self.take()

    def datatype(self) -> None:
        name = self.word()
        if name not in ("BIT", "INT", "NVARCHAR", "SYSNAME", "VARCHAR"):
            raise not_modelled(f"the data type {name}")
        self.take()
        if self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
            self.take()
            self.take()
            self.take(")")

    def identifier(self) -> str:
        token = self.take()
        if token.kind == "bracket":
            return token.text[1:-1].replace("]]", "]")
        if token.kind == "word":
            return token.text
        raise not_modelled(f"the identifier {token.text!r}")

    # --- expressions --------------------------------------------------------------------------------------------

    def condition(self) -> bool:
        left = self.expression()
        if self.word() == "IS":
            self.take()
            negate = self.word() == "NOT"
            if negate:
                self.take()
            self.take("NULL")
            return (left is not None) if negate else (left is None)
        operator = self.take().text
        right = self.expression()
        if left is None or right is None:
            return False  # a comparison with NULL is unknown
        if operator == "=":
            return bool(left == right)
        if operator in ("<>", "!="):
            return bool(left != right)
        raise not_modelled(f"the comparison {operator}")

    def expression(self) -> object:
        value = self.term()
        while self.peek() is not None and self.peek().text == "+":  # type: ignore[union-attr]
            self.take()
            right = self.term()
            value = (
                None
                if value is None or right is None
                else (
                    f"{value}{right}"
                    if isinstance(value, str) or isinstance(right, str)
                    else to_integer(value) + to_integer(right)
                )
            )
        return value

    def term(self) -> object:
        token = self.take()
        if token.kind == "string":
            body = token.text[2:-1] if token.text[0] in "Nn" else token.text[1:-1]
            return body.replace("''", "'")
        if token.kind == "number":
            return int(token.text)
        if token.kind == "var":
            if token.text.lower() not in self.variables:
                # Msg 137
                raise SqlError(137, f'Must declare the scalar variable "{token.text}".', 15, 2)
            return self.variables[token.text.lower()]
        if token.kind == "word" and token.text.upper() == "NULL":
            return None
        if token.kind == "word" and self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
            self.take("(")
            arguments: list[object] = []
            while self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
                arguments.append(self.expression())
                if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.take()
            self.take(")")
            return self.call(token.text.upper(), arguments)
        raise not_modelled(f"the expression {token.text!r}")

    def call(self, name: str, arguments: list[object]) -> object:
        if name == "ISNULL" and len(arguments) == 2:
            return arguments[1] if arguments[0] is None else arguments[0]
        if name == "QUOTENAME" and len(arguments) == 1:
            # QUOTENAME(s): [s] with ] doubled; NULL for input longer than 128 characters
            text = to_string(arguments[0])
            return None if arguments[0] is None or len(text) > 128 else "[" + text.replace("]", "]]") + "]"
        if name == "SUSER_ID" and len(arguments) == 1:
            login = to_string(arguments[0])
            if not login_exists(self.server, login):
                return None
            names = [*self.server.logins, *self.server.sysadmins]
            return 256 + next(i for i, n in enumerate(names) if _same(n, login))
        if name == "IS_SRVROLEMEMBER" and len(arguments) in (1, 2):
            role = to_string(arguments[0])
            if key(role) != "SYSADMIN":
                raise not_modelled(f"IS_SRVROLEMEMBER('{role}')")
            who = self.caller if len(arguments) == 1 else to_string(arguments[1])
            if (
                len(arguments) == 2
                and principal(self.world, self.node, who) is None
                and not login_exists(self.server, who)
            ):
                return None  # "NULL ... login is not valid"
            return 1 if is_sysadmin(self.world, self.server, who) else 0
        raise not_modelled(f"the function {name}")

    # --- what changes ---------------------------------------------------------------------------------------------

    def create_login(self, name: str) -> None:
        if not is_sysadmin(self.world, self.server, self.caller):
            # Msg 15247: "User does not have permission to perform this action."
            raise SqlError(15247, "User does not have permission to perform this action.")
        resolved = principal(self.world, self.node, name)
        if resolved is None:
            # Msg 15401
            raise SqlError(15401, f"Windows NT user or group '{name}' not found. Check the name again.", 11)
        if login_exists(self.server, resolved):
            raise SqlError(15025, f"The server principal '{name}' already exists.")
        self.server.logins.append(resolved)

    def add_role_member(self, role: str, name: str) -> None:
        if key(role) != "SYSADMIN":
            raise not_modelled(f"the server role {role}")
        if not is_sysadmin(self.world, self.server, self.caller) or not login_exists(self.server, name):
            # Msg 15151
            raise SqlError(
                15151, f"Cannot add the principal '{name}', because it does not exist or you do not have permission."
            )
        if not any(_same(name, s) for s in self.server.sysadmins):
            canonical = next((n for n in self.server.logins if _same(n, name)), name)
            self.server.sysadmins.append(canonical)


# --------------------------------------------------------------------------------------------- System.Data.SqlClient


def sql_exception(error: SqlError) -> DotNetError:
    return DotNetError(
        NetException(
            SQL_EXCEPTION,
            error.message,
            hresult=-2146232060,
            extra={"Number": error.number, "Class": v.Byte(error.severity), "State": v.Byte(error.state)},
        )
    )


class SqlParameter(v.DotNetObject):
    TYPE_NAME = "System.Data.SqlClient.SqlParameter"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("ParameterName", "SqlDbType", "Size", "Value")
    SETTABLE: ClassVar[tuple[str, ...]] = ("Value", "Size")

    def __init__(self, name: str, db_type: object, size: int) -> None:
        self.ParameterName = name
        self.SqlDbType = db_type
        self.Size = size
        self.Value: object = None


class SqlParameterCollection(v.DotNetObject):
    TYPE_NAME = "System.Data.SqlClient.SqlParameterCollection"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Count",)
    METHODS: ClassVar[tuple[str, ...]] = ("Add", "AddWithValue")

    def __init__(self) -> None:
        self.items: list[SqlParameter] = []

    @property
    def Count(self) -> int:
        return len(self.items)

    def Add(self, name: object, db_type: object = None, size: object = 0) -> SqlParameter:
        if isinstance(name, SqlParameter):
            self.items.append(name)
            return name
        parameter = SqlParameter(to_string(name), enum_convert(SQL_DB_TYPE, db_type), to_integer(size or 0))
        self.items.append(parameter)
        return parameter

    def AddWithValue(self, name: object, value: object) -> SqlParameter:
        parameter = SqlParameter(to_string(name), enum_convert(SQL_DB_TYPE, "NVarChar"), 0)
        parameter.Value = value
        self.items.append(parameter)
        return parameter

    def ps_enumerate(self) -> list[object] | None:
        return list(self.items)


class SqlDataReader(v.DotNetObject):
    TYPE_NAME = "System.Data.SqlClient.SqlDataReader"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("FieldCount", "HasRows", "IsClosed")
    METHODS: ClassVar[tuple[str, ...]] = ("Read", "Close", "Dispose", "GetValue", "GetName")

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self._rows = rows
        self._at = -1
        self.IsClosed = False

    @property
    def FieldCount(self) -> int:
        return len(self._rows[0]) if self._rows else 0

    @property
    def HasRows(self) -> bool:
        return bool(self._rows)

    def Read(self) -> bool:
        self._at += 1
        return self._at < len(self._rows)

    def _row(self) -> dict[str, object]:
        if self.IsClosed or not 0 <= self._at < len(self._rows):
            raise DotNetError(
                NetException("System.InvalidOperationException", "Invalid attempt to read when no data is present.")
            )
        return self._rows[self._at]

    def index(self, which: object) -> object:
        row = self._row()
        if isinstance(which, int):
            return list(row.values())[which]
        name = to_string(which)
        for column, value in row.items():
            if column.lower() == name.lower():
                return v.NULL if value is None else value
        raise DotNetError(NetException("System.IndexOutOfRangeException", name))

    def GetValue(self, ordinal: object) -> object:
        return self.index(to_integer(ordinal))

    def GetName(self, ordinal: object) -> str:
        return list(self._row())[to_integer(ordinal)]

    def Close(self) -> None:
        self.IsClosed = True

    def Dispose(self) -> None:
        self.IsClosed = True


class SqlCommand(v.DotNetObject):
    TYPE_NAME = "System.Data.SqlClient.SqlCommand"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("CommandText", "CommandTimeout", "Parameters", "Connection")
    SETTABLE: ClassVar[tuple[str, ...]] = ("CommandText", "CommandTimeout")
    METHODS: ClassVar[tuple[str, ...]] = ("ExecuteReader", "ExecuteNonQuery", "ExecuteScalar", "Dispose")

    def __init__(self, connection: SqlConnection) -> None:
        self.Connection = connection
        self.CommandText = ""
        self.CommandTimeout = 30
        self.Parameters = SqlParameterCollection()

    def _execute(self) -> list[dict[str, object]]:
        connection = self.Connection
        if connection.State != "Open":
            raise DotNetError(
                NetException(
                    "System.InvalidOperationException",
                    "ExecuteReader requires an open and available Connection. The connection's current state is "
                    "closed.",
                )
            )
        variables = {p.ParameterName: (None if p.Value is v.NULL else p.Value) for p in self.Parameters.items}
        batch = Batch(connection.world, connection.node, connection.login, variables)
        try:
            batch.run(to_string(self.CommandText))
        except SqlError as failure:
            raise sql_exception(failure) from None
        return batch.rows

    def ExecuteReader(self, *_behaviour: object) -> SqlDataReader:
        return SqlDataReader(self._execute())

    def ExecuteNonQuery(self) -> int:
        self._execute()
        return -1

    def ExecuteScalar(self) -> object:
        rows = self._execute()
        return next(iter(rows[0].values())) if rows and rows[0] else v.NULL

    def Dispose(self) -> None:
        return None


class SqlConnection(v.DotNetObject):
    TYPE_NAME = "System.Data.SqlClient.SqlConnection"
    BASE_TYPES = ("System.Data.Common.DbConnection", "System.ComponentModel.Component", "System.Object")
    PROPERTIES: ClassVar[tuple[str, ...]] = ("ConnectionString", "State", "DataSource", "Database")
    SETTABLE: ClassVar[tuple[str, ...]] = ("ConnectionString",)
    METHODS: ClassVar[tuple[str, ...]] = ("Open", "Close", "Dispose", "CreateCommand")

    def __init__(self, machine: NodeMachine, connection_string: object = "") -> None:
        self.machine = machine
        self.ConnectionString = to_string(connection_string)
        self.State = "Closed"
        self.login = ""

    @property
    def world(self) -> World:
        return self.machine.world

    @property
    def node(self) -> Node:
        return self.machine.node

    def _settings(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for part in self.ConnectionString.split(";"):
            if "=" in part:
                name, _, value = part.partition("=")
                found[name.strip().lower()] = value.strip()
        return found

    @property
    def DataSource(self) -> str:
        return self._settings().get("data source", self._settings().get("server", ""))

    @property
    def Database(self) -> str:
        return self._settings().get("initial catalog", self._settings().get("database", "master"))

    def Open(self) -> None:
        settings = self._settings()
        integrated = settings.get("integrated security", "").lower() in ("sspi", "true", "yes")
        if not integrated:
            raise sql_exception(not_modelled("SQL authentication (the connection string has no Integrated Security)"))
        source = self.DataSource.lower()
        local = source in ("localhost", ".", "(local)", self.node.name.lower(), "tcp:localhost")
        if not local:
            raise sql_exception(not_modelled(f"a connection to another computer ({self.DataSource})"))
        if not hosts_sql(self.world, self.node) or not _running(self.node) or not self.world.sql.available:
            raise sql_exception(SqlError(2, msg.SQL_UNREACHABLE, 20, 0))
        login = self.machine.identity().user
        # implements F-SQL-04: a Windows login of the caller (directly or through a group) or error 18456
        if not has_login(self.world, self.world.sql, login):
            raise sql_exception(SqlError(18456, f"Login failed for user '{login}'.", 14, 1))
        self.login = login
        self.State = "Open"

    def Close(self) -> None:
        self.State = "Closed"

    def Dispose(self) -> None:
        self.State = "Closed"

    def CreateCommand(self) -> SqlCommand:
        return SqlCommand(self)


def _sql_db_type() -> PSType:
    pstype = PSType(
        SQL_DB_TYPE.full_name,
        is_instance=lambda value: isinstance(value, v.EnumValue) and value.enum.full_name == SQL_DB_TYPE.full_name,
        convert=lambda value: None if value is None else enum_convert(SQL_DB_TYPE, value),
        bases=("System.Enum", "System.ValueType"),
    )
    pstype.enum = SQL_DB_TYPE
    for member, number in SQL_DB_TYPE.members:
        pstype.add_static_property(member, (lambda n: lambda: v.EnumValue(SQL_DB_TYPE, n))(number))
    return pstype


@surface.dotnet_types()
def sql_client_types(machine: NodeMachine) -> list[PSType]:
    connection = PSType(SqlConnection.TYPE_NAME, is_instance=lambda x: isinstance(x, SqlConnection))
    connection.constructor = lambda *arguments: SqlConnection(machine, *arguments[:1])
    exception = PSType(SQL_EXCEPTION, is_instance=lambda x: isinstance(x, NetException) and x.is_a(SQL_EXCEPTION))
    return [connection, _sql_db_type(), exception]
