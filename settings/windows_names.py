"""What Windows refuses in the names, paths and passwords a stack hands it, said before anything runs.

Each function returns why Windows (or the tool that carries the value there) would refuse a value, in one
sentence without the value when it may be secret, or None. The rules and their sources are facts of
docs/windows-facts.md:

- F-FS-12: file and directory names (Microsoft Learn, "Naming Files, Paths, and Namespaces"): the reserved
  characters < > : " / \\ | ? *, the characters 0-31, the device names CON, PRN, AUX, NUL, COM1-9, LPT1-9 (also
  with an extension), no trailing space or period;
- F-FS-13: MAX_PATH, 260 characters with the terminating NUL; a directory leaves room for an 8.3 file name;
- F-CLU-31: a cluster resource's name is not empty and is unique in the cluster, case-insensitively;
- F-CLU-32: computer, cluster and client access point names (KB 909264): 2-15 characters, not a reserved word,
  not a two-letter SDDL SID string;
- F-SSO-36: ENTSSO's configuration answer file is XML written with .NET's XmlWriter, which refuses the control
  characters XML 1.0 excludes.

Control characters (Unicode category Cc: U+0000-U+001F, U+007F-U+009F) are refused in every name, path, reminder
and password of a stack: where Windows itself refuses them (F-FS-12, F-SSO-36) and, for the rest (a tab or line
break in a password), because no console prompt, logon or log line carries them intact (our rule).
"""

from __future__ import annotations

import re
import unicodedata


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# F-FS-12: reserved in a file or directory name (the backslash separates the names of a path).
NTFS_RESERVED = '<>:"/\\|?*'
RESERVED_DEVICE_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))]
)
MAX_PATH = 260  # F-FS-13: with the terminating NUL
MAX_FILE_PATH = MAX_PATH - 1
MAX_DIRECTORY_PATH = MAX_PATH - 12 - 1  # "the directory name cannot exceed MAX_PATH minus 12" (an 8.3 name)
# F-CLU-32 (KB 909264): "Table of reserved words", the one-word entries of its Windows Server 2008 column (the
# others hold a space, which no host name does), and RFC 952's reserved host names it lists.
RESERVED_HOST_NAMES = _words(
    "ANONYMOUS BATCH BUILTIN DIALUP DOMAIN ENTERPRISE INTERACTIVE INTERNET LOCAL NETWORK NULL PROXY "
    "RESTRICTED SELF SERVER SERVICE SYSTEM USERS WORLD GATEWAY GW TAC"
)
# F-CLU-32: "Two-character SDDL user strings that are listed in well-known SIDs list can't be used" (KB 909264),
# the SDDL SID strings of Sddl.h (learn.microsoft.com/windows/win32/secauthz/sid-strings).
SDDL_SID_STRINGS = _words(
    "AA AC AN AO AP AU BA BG BO BU CA CD CG CN CO CY DA DC DD DG DU EA ED EK ER ES HA HI IS IU KA LA LG LS LU "
    "LW ME MP MU NO NS NU OW PA PO PS PU RA RC RD RE RM RO RS RU SA SI SO SS SU SY UD WD WR"
)
_DRIVE = re.compile(r"^[A-Za-z]:\\")


def control_characters(text: str) -> list[str]:
    """The control characters in `text`, as U+XXXX, each once, in order."""
    found: list[str] = []
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            code = f"U+{ord(ch):04X}"
            if code not in found:
                found.append(code)
    return found


def control_character_problem(text: str, *, secret: bool = False) -> str | None:
    """Control characters in a name, path, reminder or password; a secret's are not named (they are its data)."""
    found = control_characters(text)
    if not found:
        return None
    if secret:
        return (
            "contains a control character (U+0000-U+001F or U+007F-U+009F), which no Windows logon, SSO prompt or "
            "configuration file carries intact; choose one without"
        )
    return (
        f"contains the control character(s) {', '.join(found)}, which Windows takes in no name or path (nor ENTSSO's "
        "answer file); remove them"
    )


def name_problem(name: str) -> str | None:
    """One file or directory name (a component of a path), as Windows names it (F-FS-12)."""
    reserved = sorted({ch for ch in name if ch in NTFS_RESERVED}, key=NTFS_RESERVED.index)
    if reserved:
        shown = " ".join(reserved)
        return f"'{name}' contains {shown}, which Windows refuses in a file or directory name"
    stem = name.split(".", 1)[0].rstrip(" ")
    if stem.upper() in RESERVED_DEVICE_NAMES:
        return f"'{name}' is the device name {stem.upper()}, which Windows reserves (also with an extension)"
    if name.endswith((" ", ".")):
        return f"'{name}' ends with a space or a period, which Windows drops from a file or directory name"
    return None


def windows_path_problem(path: str, *, directory: bool) -> str | None:
    """A full path on a node's own disk (`X:\\...`): its names (F-FS-12) and its length (F-FS-13).

    The scripts run it (or create it) in the WinRM session on the node itself, so a relative path would depend on
    the session's working directory and a share would need credentials the session does not pass on (F-REM-03).
    """
    control = control_character_problem(path)
    if control:
        return control
    if not _DRIVE.match(path):
        example = r"C:\ProgramData\EntssoCluster" if directory else r"C:\Install\BizTalk\Setup.exe"
        return f"'{path}' is not a full path on the node's own disk; write it as e.g. {example}"
    names = path[3:].split("\\")
    if directory and len(names) > 1 and names[-1] == "":
        names = names[:-1]  # C:\Folder\ names the folder
    if names == [""]:
        return f"'{path}' names the drive itself; name a {'folder' if directory else 'file'} on it"
    if any(name == "" for name in names):
        return f"'{path}' has an empty name between two backslashes; write each folder once, e.g. C:\\Folder\\Name"
    for name in names:
        problem = name_problem(name)
        if problem:
            return problem
    limit = MAX_DIRECTORY_PATH if directory else MAX_FILE_PATH
    if len(path) > limit:
        what = (
            "a directory path (MAX_PATH 260, less 12 for a file name in it and the NUL)"
            if directory
            else ("a file path (MAX_PATH 260 with the terminating NUL)")
        )
        return f"is {len(path)} characters; Windows takes {limit} in {what}"
    return None


def host_name_reserved_problem(name: str) -> str | None:
    """What KB 909264 adds to the character rules of a computer name (F-CLU-32): length 2, reserved words."""
    if len(name) < 2:
        return f"'{name}' is one character; a DNS host name needs at least two"
    if name.upper() in RESERVED_HOST_NAMES:
        return f"'{name}' is a reserved word, which Windows refuses as a computer name"
    if name.upper() in SDDL_SID_STRINGS:
        return f"'{name}' is a two-letter SDDL SID string ({name.upper()}), which Windows refuses as a computer name"
    return None


def cluster_resource_name_problem(name: str, taken: dict[str, str]) -> str | None:
    """A cluster resource name (F-CLU-31): not empty, and not the name of another resource of the stack's cluster,
    case-insensitively. `taken` maps each other resource's name to what it is."""
    if not name.strip():
        return "is empty; a cluster resource needs a name"
    for other, what in taken.items():
        if other.upper() == name.upper():
            return f"'{name}' is already the name of {what}; the cluster refuses a second resource of one name"
    return None
