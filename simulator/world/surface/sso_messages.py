"""ENTSSO's own words: its error codes (HRESULTs), event texts, and the COM failures built from them.

Source (MSG in docs/windows-facts.md): ENTSSO's message table `ssomessages.mc` as compiled into its C
header, a public copy read through the code index. Event log message ids and error codes share one table:
an error code is the HRESULT `0xC0000000 | id` (so ENTSSO_E_NOT_SECRET_SERVER, id 10766, is 0xC0002A0E, and
the 0x80002918 observed in event 10532 is SSO_WARN_NO_SECRETS, id 10520); "%r" in a text is a line break.
The texts below are copied from that table; the documented event pages (BTD single-sign-on-event-*.md) agree
where they overlap. How a COM client sees a failure (a COMException whose Message is the text and whose
HResult is the code, through IErrorInfo) is assumed: probe P-13 records the real chain.
"""

from __future__ import annotations

from simulator.powershell.errors import DotNetError, NetException

# Error codes: (HRESULT, text). implements F-SSO-10, F-SSO-11, F-SSO-13, F-SSO-15, F-SSO-31 (codes and texts).
NO_SSO_SERVER = (
    0xC0002A0F,
    "Could not contact the SSO server '{0}'. Check that SSO is configured and that the SSO service is running on "
    "that server.",
)  # ENTSSO_E_NO_SSO_SERVER; the "Check that SSO is configured" wording is the documented (newer) one
NOT_SECRET_SERVER = (0xC0002A0E, "This function can only be performed on the master secret server.")
NOT_ADMIN = (0xC0002A13, "This function can only be performed by a local administrator.")
NOT_SSO_ADMIN = (0xC0002A14, "The user is not a member of the specified SSO Admin account.")
SSO_NOT_IN_NEW_SSO_ADMIN = (0xC0002A16, "The SSO service account is not a member of the specified SSO Admin account.")
INVALID_ACCOUNT = (0xC0002A1C, "The account name is not valid or does not exist.")
WRONG_PASSWORD = (0xC0002A1B, "An incorrect password was specified for the backup file.")
NO_SECRET = (
    0xC0002A1F,
    "Cannot perform encryption because the secret is not available from the master secret server. See the event "
    "log for related errors.",
)
FILE_OPEN_FAILED = (
    0xC0002A20,
    "Could not create or open the specified file. Check the file name and access permissions.",
)
DB_ACCESS = (0xC0002A21, "An error occurred while attempting to access the SSO database.")
DTC_IMPORT_FAILED = (
    0xC0002A24,
    "Could not import a DTC transaction. Please check that MSDTC is configured correctly for remote operation. "
    "See documentation for details.",
)
DATABASE_EXISTS = (0xC0002A4F, "The specified SSO database already exists.")
DATABASE_NOT_CONFIGURED = (0xC0002A51, "The specified SSO database is not configured.")
CALLER_NOT_SSO_ADMIN = (0xC0002A52, "The current user is not a member of the specified SSO Admin account.")
PASSWORD_TOO_SHORT = (0xC0002A54, "The specified password is too short, it must be at least 7 characters.")
BACKUP_FORMAT = (
    0xC0002944,
    "The backup file does not have the correct format.",
)  # SSO_ERROR_BACKUP_FILE_INCORRECT_FORMAT

# RPC failures as the admin tools append them (observed: the biztalknotes post quoted in F-SSO-13).
RPC_NO_ENDPOINTS = "RPC: 0x800706D9: There are no more endpoints available from the endpoint mapper."
RPC_UNAVAILABLE = "RPC: 0x800706BA: The RPC server is unavailable."

# Event texts ("\r\n" for %r).
BACKUP_OK = (
    "The master secrets were successfully backed up.\r\nFile Name: {0}\r\nCurrent MSID: {1}\r\nPrevious MSID: {2}"
    "\r\nClient User: {3}\r\nClient Computer: {4}"
)
BACKUP_FAILED = (
    "Failed to back up the master secrets.\r\nFile Name: {0}\r\nCurrent MSID: {1}\r\nPrevious MSID: {2}"
    "\r\nClient User: {3}\r\nError Code: {4}"
)
RESTORE_OK = (
    "The master secrets were successfully restored.\r\nFile Name: {0}\r\nCurrent MSID: {1}\r\nPrevious MSID: {2}"
    "\r\nClient User: {3}\r\nClient Computer: {4}"
)
RESTORE_FAILED = (
    "Failed to restore the master secrets.\r\nFile Name: {0}\r\nCurrent MSID: {1}\r\nPrevious MSID: {2}"
    "\r\nClient User: {3}\r\nError Code: {4}"
)
GENERATE_OK = (
    "A new master secret was successfully generated.\r\nMSID: {0}\r\nClient User: {1}\r\nClient Computer: {2}"
    "\r\nTracking ID: {3}"
)
DATABASE_CREATED = (  # the space before the full stop is ENTSSO's
    "The SSO database was created and initialized .\r\nSQL Server Name: {0}\r\nSSO Database Name: {1}"
    "\r\nClient User: {2}"
)
CHANGED_SECRET_SERVER = (
    "Updated secret server name.\r\nNew Secret Server: {0}\r\nOld Secret Server: {1}\r\nTracking ID: {2}"
    "\r\nClient Computer: {3}\r\nClient User: {4}"
)

# SQL Server as a client library reports it (implements F-SSO-30, F-SSO-31).
SQL_UNREACHABLE = (
    "A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server "
    "was not found or was not accessible. Verify that the instance name is correct and that SQL Server is configured "
    "to allow remote connections. (provider: Named Pipes Provider, error: 40 - Could not open a connection to SQL "
    "Server)"
)
ANONYMOUS = "NT AUTHORITY\\ANONYMOUS LOGON"


def hex_code(hresult: int) -> str:
    return f"0x{hresult & 0xFFFFFFFF:08X}"


def signed(hresult: int) -> int:
    """An HRESULT as .NET's Int32 HResult holds it."""
    return hresult - (1 << 32) if hresult & 0x80000000 else hresult


def com_error(code: tuple[int, str], *inserts: object, detail: str = "") -> DotNetError:
    """The COMException a COM client sees for an ENTSSO error code (text through IErrorInfo: assumed)."""
    hresult, text = code
    message = text.format(*inserts) if inserts else text
    if detail:
        message = f"{message} ({detail})"
    return DotNetError(
        NetException(
            "System.Runtime.InteropServices.COMException",
            message,
            hresult=signed(hresult),
            extra={"ErrorCode": signed(hresult)},
        )
    )


def tool_line(code: tuple[int, str], *inserts: object, detail: str = "") -> str:
    """How ssomanage prints an error: "ERROR: 0xC0002A0F : <text>" (observed, F-SSO-13/15)."""
    hresult, text = code
    message = text.format(*inserts) if inserts else text
    return f"ERROR: {hex_code(hresult)} : {message}" + (f" ({detail})" if detail else "")
