"""Windows' own failure wording, raised as the PowerShell error a script would end with.

Where Windows' text is known (esso.md, S15, cmdlet help) it is reproduced; where it is not, the
message says what Windows checks, in Windows' style, and names the ENTSSO event ID.
"""

from __future__ import annotations

from simulator.shell import PowerShellError

RPC_NO_ENDPOINTS = "RPC: 0x800706D9: There are no more endpoints available from the endpoint mapper."
RPC_UNAVAILABLE = "RPC: 0x800706BA: The RPC server is unavailable."


def sso_contact(server: str, rpc: str) -> PowerShellError:
    return PowerShellError(
        f"ERROR: 0xC0002A0F : Could not contact the SSO server '{server}'. Check that SSO is configured "
        "and that "
        f"the SSO service is running on that server. ({rpc})",
        "ConnectionError",
        "ENTSSO_E_NO_SERVER",
    )


def sql_unreachable(server: str, database: str) -> PowerShellError:
    return PowerShellError(
        f"ERROR: 0xC0002A21 : An error occurred while attempting to access the SSO database '{database}' "
        "on SQL "
        f"Server '{server}'. A network-related or instance-specific error occurred while establishing a "
        "connection "
        "to SQL Server. The server was not found or was not accessible. Verify that the instance name is "
        "correct "
        "and that SQL Server is configured to allow remote connections. (provider: Named Pipes Provider, "
        "error: 40 - Could not open a connection to SQL Server)",
        "ConnectionError",
        "SqlException",
    )


def not_found(what: str, error_id: str = "ObjectNotFound") -> PowerShellError:
    return PowerShellError(what, "ObjectNotFound", error_id)


def invalid(what: str, error_id: str = "InvalidOperation") -> PowerShellError:
    return PowerShellError(what, "InvalidOperation", error_id)


__all__ = ["PowerShellError"]
