"""SQL Server as Enterprise SSO reaches it: who connects, as whom, and what SQL Server answers.

Two kinds of connection reach SSODB:
- the ENTSSO service's own, as its service account: a service logon holds the account's credentials, so
  it reaches SQL Server from any node (ssomanage, BackupSecret and the rest go through the service);
- a client's own, as the caller: Configuration.exe creating or joining SSODB (implements F-SSO-30) and
  ISSOConfigDB.GetDBInfo, which takes the SQL Server and database as arguments (implements F-SSO-09,
  assumed: probe P-13). From a WinRM session without delegated credentials the second hop carries no
  credentials, so SQL Server sees NT AUTHORITY\\ANONYMOUS LOGON (F-REM-03).

SQL Server's own words: the SqlClient text for an unreachable server (F-SSO-31) and "Login failed for user
'<name>'." (error 18456) for a login it refuses; which Windows accounts have a login is assumed: the
sysadmins the world was seeded with and the members of an existing SSODB's SSO Administrators group
(Configuration grants that group access to SSODB).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.world.model import SqlServer, SsoDatabase, World, key
from simulator.world.surface import sso_messages as msg


class SqlFailure(Exception):
    """A failed connection or statement: SQL Server's error number and message."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = number
        self.message = message


@dataclass(frozen=True)
class SqlConnection:
    server: SqlServer
    login: str  # DOMAIN\\name

    def database(self, name: str) -> SsoDatabase:
        """The SSO database by name; one that was never created reads as not existing."""
        return self.server.databases.get(key(name)) or SsoDatabase(name=name)

    def is_sysadmin(self, world: World) -> bool:
        return world.domain.in_any(self.login, self.server.sysadmins)


def same_server(world: World, name: str) -> bool:
    """Whether `name` reaches the world's SQL Server: its DNS name or its host name (DNS resolves both)."""
    wanted, actual = key(name), key(world.sql.name)
    return wanted in (actual, actual.split(".", 1)[0])


def connect(world: World, server: str, login: str | None) -> SqlConnection:
    """A Windows-authenticated connection as `login`; None is a connection without credentials (anonymous)."""
    if not same_server(world, server) or not world.sql.available:
        raise SqlFailure(53, msg.SQL_UNREACHABLE)  # implements F-SSO-31
    if login is None:
        raise SqlFailure(18456, f"Login failed for user '{msg.ANONYMOUS}'.")  # implements F-SSO-09, F-SSO-30
    connection = SqlConnection(world.sql, login)
    admins = [db.admin_group for db in world.sql.databases.values() if db.exists and db.admin_group]
    if not connection.is_sysadmin(world) and not world.domain.in_any(login, admins):
        raise SqlFailure(18456, f"Login failed for user '{login}'.")
    return connection


def as_caller(world: World, server: str, user: str, network_credentials: bool) -> SqlConnection:
    """The caller's own connection: anonymous unless its session holds network credentials (the double hop)."""
    return connect(world, server, user if network_credentials else None)


def as_service(world: World, server: str, account: str) -> SqlConnection:
    """ENTSSO's connection as its service account (a service logon has network credentials)."""
    return connect(world, server, account)
