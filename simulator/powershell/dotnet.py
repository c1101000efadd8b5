"""The .NET types and static members the project's scripts use, over the machine's services.

[Convert], [Text.Encoding], [IO.File], [IO.Path], [guid], [BitConverter], [Environment], [Console],
[regex], [Math], [string], [Security.Cryptography.SHA256 / RandomNumberGenerator / ProtectedData /
DataProtectionScope], [Xml.XmlWriter], [Reflection.BindingFlags], [Type]::GetTypeFromProgID,
[Activator]::CreateInstance, Type.InvokeMember, [Management.Automation.PSSerializer],
[Management.Automation.Language.Parser]::ParseInput, [ScriptBlock]::Create,
[Security.AccessControl.DirectorySecurity / FileSystemAccessRule], PSCredential.

Types of assemblies Windows PowerShell does not load by default (System.Security: ProtectedData,
DataProtectionScope) exist only after `Add-Type -AssemblyName System.Security`, as on Windows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import urllib.parse
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from simulator.powershell import ast
from simulator.powershell import regex as psregex
from simulator.powershell import values as v
from simulator.powershell.compiler import compile_script
from simulator.powershell.errors import (
    TARGET_INVOCATION_MESSAGE,
    DotNetError,
    NetException,
    PSTerminatingError,
    dotnet_error,
)
from simulator.powershell.types import (
    PSType,
    TypeRegistry,
    TypeValue,
    enum_convert,
    enumerate_items,
    is_true,
    to_integer,
    to_string,
)

if TYPE_CHECKING:
    from simulator.powershell.interpreter import Interpreter
    from simulator.powershell.machine import Machine

BINDING_FLAGS = v.EnumType(
    "System.Reflection.BindingFlags",
    (
        ("Default", 0),
        ("IgnoreCase", 1),
        ("DeclaredOnly", 2),
        ("Instance", 4),
        ("Static", 8),
        ("Public", 16),
        ("NonPublic", 32),
        ("FlattenHierarchy", 64),
        ("InvokeMethod", 256),
        ("CreateInstance", 512),
        ("GetField", 1024),
        ("SetField", 2048),
        ("GetProperty", 4096),
        ("SetProperty", 8192),
        ("PutDispProperty", 16384),
        ("PutRefDispProperty", 32768),
        ("ExactBinding", 65536),
        ("SuppressChangeType", 131072),
        ("OptionalParamBinding", 262144),
        ("IgnoreReturn", 16777216),
    ),
    flags=True,
)
DATA_PROTECTION_SCOPE = v.EnumType(
    "System.Security.Cryptography.DataProtectionScope", (("CurrentUser", 0), ("LocalMachine", 1))
)
FILE_SYSTEM_RIGHTS = v.EnumType(
    "System.Security.AccessControl.FileSystemRights",
    (
        ("ListDirectory", 1),
        ("ReadData", 1),
        ("WriteData", 2),
        ("CreateFiles", 2),
        ("CreateDirectories", 4),
        ("AppendData", 4),
        ("ReadExtendedAttributes", 8),
        ("WriteExtendedAttributes", 16),
        ("Traverse", 32),
        ("ExecuteFile", 32),
        ("DeleteSubdirectoriesAndFiles", 64),
        ("ReadAttributes", 128),
        ("WriteAttributes", 256),
        ("Write", 278),
        ("Delete", 65536),
        ("ReadPermissions", 131072),
        ("Read", 131209),
        ("ReadAndExecute", 131241),
        ("Modify", 197055),
        ("ChangePermissions", 262144),
        ("TakeOwnership", 524288),
        ("Synchronize", 1048576),
        ("FullControl", 2032127),
    ),
    flags=True,
)
INHERITANCE_FLAGS = v.EnumType(
    "System.Security.AccessControl.InheritanceFlags",
    (("None", 0), ("ContainerInherit", 1), ("ObjectInherit", 2)),
    flags=True,
)
PROPAGATION_FLAGS = v.EnumType(
    "System.Security.AccessControl.PropagationFlags",
    (("None", 0), ("NoPropagateInherit", 1), ("InheritOnly", 2)),
    flags=True,
)
ACCESS_CONTROL_TYPE = v.EnumType("System.Security.AccessControl.AccessControlType", (("Allow", 0), ("Deny", 1)))
# System.Management.Automation.ErrorCategory (learn.microsoft.com/dotnet/api/system.management.automation.errorcategory)
ERROR_CATEGORY = v.EnumType(
    "System.Management.Automation.ErrorCategory",
    tuple(
        (name, number)
        for number, name in enumerate(
            [
                "NotSpecified",
                "OpenError",
                "CloseError",
                "DeviceError",
                "DeadlockDetected",
                "InvalidArgument",
                "InvalidData",
                "InvalidOperation",
                "InvalidResult",
                "InvalidType",
                "MetadataError",
                "NotImplemented",
                "NotInstalled",
                "ObjectNotFound",
                "OperationStopped",
                "OperationTimeout",
                "SyntaxError",
                "ParserError",
                "PermissionDenied",
                "ResourceBusy",
                "ResourceExists",
                "ResourceUnavailable",
                "ReadError",
                "WriteError",
                "FromStdErr",
                "SecurityError",
                "ProtocolError",
                "ConnectionError",
                "AuthenticationError",
                "LimitsExceeded",
                "QuotaExceeded",
                "NotEnabled",
            ]
        )
    ),
)
ACTION_PREFERENCE = v.EnumType(
    "System.Management.Automation.ActionPreference",
    (("SilentlyContinue", 0), ("Stop", 1), ("Continue", 2), ("Inquire", 3), ("Ignore", 4), ("Suspend", 5)),
)

# Assemblies whose types Windows PowerShell 5.1 does not load until Add-Type -AssemblyName.
KNOWN_ASSEMBLIES = {
    "system.security": "System.Security",
    "system.web": "System.Web",
    "system.web.extensions": "System.Web.Extensions",
    "system.xml": "System.Xml",
    "system.core": "System.Core",
    "system.management.automation": "System.Management.Automation",
    "mscorlib": "mscorlib",
    "system": "System",
    "system.directoryservices.accountmanagement": "System.DirectoryServices.AccountManagement",
}


def _bytes(value: object, what: str = "bytes") -> bytes:
    if isinstance(value, bytearray | bytes):
        return bytes(value)
    if value is None:
        raise dotnet_error("System.ArgumentNullException", f"Value cannot be null.\r\nParameter name: {what}")
    items = enumerate_items(value)
    if items is not None:
        return bytes(to_integer(item, "System.Byte") for item in items)
    raise dotnet_error("System.ArgumentException", f"Cannot convert {to_string(value)} to a byte array.")


# --- instances -----------------------------------------------------------------------------------


class Encoding(v.DotNetObject):
    TYPE_NAME = "System.Text.UTF8Encoding"
    METHODS: ClassVar[tuple[str, ...]] = ("GetBytes", "GetString", "GetPreamble")
    PROPERTIES: ClassVar[tuple[str, ...]] = ("WebName", "EncodingName", "CodePage")

    def __init__(self, codec: str, type_name: str, web_name: str, code_page: int, preamble: bytes) -> None:
        self.codec = codec
        self.TYPE_NAME = type_name  # type: ignore[misc]
        self.WebName = web_name
        self.EncodingName = web_name
        self.CodePage = code_page
        self.preamble = preamble

    def GetBytes(self, text: object) -> bytearray:
        if text is None:
            raise dotnet_error(
                "System.ArgumentNullException",
                "String reference not set to an instance of a String.\r\nParameter name: s",
            )
        source = "".join(to_string(c) for c in text) if isinstance(text, list) else to_string(text)
        return bytearray(v.python_text(source).encode(self.codec, errors="replace"))

    def GetString(self, data: object, index: object = None, count: object = None) -> str:
        raw = _bytes(data)
        if index is not None:
            start = to_integer(index)
            raw = raw[start : start + to_integer(count)] if count is not None else raw[start:]
        return v.dotnet_text(raw.decode(self.codec, errors="replace"))

    def GetPreamble(self) -> bytearray:
        return bytearray(self.preamble)


UTF8 = Encoding("utf-8", "System.Text.UTF8Encoding", "utf-8", 65001, b"\xef\xbb\xbf")
UNICODE = Encoding("utf-16-le", "System.Text.UnicodeEncoding", "utf-16", 1200, b"\xff\xfe")
ASCII = Encoding("ascii", "System.Text.ASCIIEncoding", "us-ascii", 20127, b"")


class HashAlgorithm(v.DotNetObject):
    TYPE_NAME = "System.Security.Cryptography.SHA256CryptoServiceProvider"
    METHODS: ClassVar[tuple[str, ...]] = ("ComputeHash", "Dispose", "Clear")
    PROPERTIES: ClassVar[tuple[str, ...]] = ("HashSize", "Hash")

    def __init__(self, name: str) -> None:
        self.name = name
        self.HashSize = hashlib.new(name).digest_size * 8
        self.Hash: bytearray | None = None
        self.disposed = False

    def ComputeHash(self, data: object, offset: object = None, count: object = None) -> bytearray:
        if self.disposed:
            raise dotnet_error(
                "System.ObjectDisposedException", "Cannot access a disposed object.\r\nObject name: 'SHA256'."
            )
        raw = _bytes(data, "buffer")
        if offset is not None:
            start = to_integer(offset)
            raw = raw[start : start + to_integer(count)]
        self.Hash = bytearray(hashlib.new(self.name, raw).digest())
        return bytearray(self.Hash)

    def Dispose(self) -> None:
        self.disposed = True

    def Clear(self) -> None:
        self.disposed = True


class RandomGenerator(v.DotNetObject):
    TYPE_NAME = "System.Security.Cryptography.RNGCryptoServiceProvider"
    METHODS: ClassVar[tuple[str, ...]] = ("GetBytes", "Dispose")

    def __init__(self, interp: Interpreter) -> None:
        self._interp = interp

    def GetBytes(self, buffer: object) -> None:
        if not isinstance(buffer, bytearray):
            raise dotnet_error("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: data")
        buffer[:] = self._interp.machine.random_bytes(len(buffer))

    def Dispose(self) -> None:
        return None


class ConsoleReader(v.DotNetObject):
    TYPE_NAME = "System.IO.SyncTextReader"
    METHODS: ClassVar[tuple[str, ...]] = ("ReadToEnd", "ReadLine")

    def __init__(self, interp: Interpreter) -> None:
        self._interp = interp
        self._buffer: str | None = None

    def _text(self) -> str:
        if self._buffer is None:
            self._buffer = self._interp.console.read_all()
        return self._buffer

    def ReadToEnd(self) -> str:
        text = self._text()
        self._buffer = ""
        return text

    def ReadLine(self) -> str | None:
        text = self._text()
        if not text:
            return v.NULL  # type: ignore[return-value]
        line, _, rest = text.partition("\n")
        self._buffer = rest
        return line.rstrip("\r")


class ConsoleWriter(v.DotNetObject):
    TYPE_NAME = "System.IO.TextWriter+SyncTextWriter"
    METHODS: ClassVar[tuple[str, ...]] = ("WriteLine", "Write", "Flush")

    def __init__(self, interp: Interpreter) -> None:
        self._interp = interp

    def WriteLine(self, text: object = "") -> None:
        self._interp.console.write(v.python_text(to_string(text)) + "\r\n")

    def Write(self, text: object) -> None:
        self._interp.console.write(v.python_text(to_string(text)))

    def Flush(self) -> None:
        return None


def _xml_text(text: str, attribute: bool = False) -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        out = out.replace('"', "&quot;")
    return out


class XmlWriterSettings(v.DotNetObject):
    TYPE_NAME = "System.Xml.XmlWriterSettings"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Indent", "IndentChars", "NewLineChars", "OmitXmlDeclaration", "Encoding")
    SETTABLE: ClassVar[tuple[str, ...]] = PROPERTIES

    def __init__(self) -> None:
        self.Indent = False
        self.IndentChars = "  "
        self.NewLineChars = "\r\n"
        self.OmitXmlDeclaration = False
        self.Encoding: object = UTF8

    def ps_set(self, name: str, value: object) -> None:
        if name in ("Indent", "OmitXmlDeclaration"):
            value = is_true(value)
        setattr(self, name, value)


class XmlWriter(v.DotNetObject):
    """XmlWriter.Create(path[, settings]): UTF-8 with a byte order mark and an XML declaration by default;
    with Indent, each element on its own line (an element holding only text stays on one)."""

    TYPE_NAME = "System.Xml.XmlWellFormedWriter"
    METHODS: ClassVar[tuple[str, ...]] = (
        "WriteStartDocument",
        "WriteEndDocument",
        "WriteStartElement",
        "WriteEndElement",
        "WriteElementString",
        "WriteAttributeString",
        "WriteString",
        "WriteComment",
        "Flush",
        "Close",
        "Dispose",
    )

    def __init__(self, interp: Interpreter, path: str, settings: XmlWriterSettings | None = None) -> None:
        self._interp = interp
        self._path = path
        self._settings = settings or XmlWriterSettings()
        self._parts: list[str] = [] if self._settings.OmitXmlDeclaration else ['<?xml version="1.0" encoding="utf-8"?>']
        self._stack: list[list[object]] = []  # [name, has child elements]
        self._open_tag = False
        self._closed = False
        interp.machine.filesystem.write_bytes(path, b"")  # Create opens (and truncates) the file at once

    def _close_tag(self) -> None:
        if self._open_tag:
            self._parts.append(">")
            self._open_tag = False

    def _new_line(self) -> None:
        if self._settings.Indent and self._parts:
            self._parts.append(
                to_string(self._settings.NewLineChars) + to_string(self._settings.IndentChars) * len(self._stack)
            )

    def WriteStartDocument(self) -> None:
        return None

    def WriteEndDocument(self) -> None:
        while self._stack:
            self.WriteEndElement()

    def WriteStartElement(self, name: object) -> None:
        self._close_tag()
        if self._stack:
            self._stack[-1][1] = True
        self._new_line()
        self._parts.append(f"<{to_string(name)}")
        self._stack.append([to_string(name), False])
        self._open_tag = True

    def WriteEndElement(self) -> None:
        if not self._stack:
            raise dotnet_error("System.InvalidOperationException", "There was no XML start tag open.")
        name, has_children = self._stack.pop()
        if self._open_tag:
            self._parts.append(" />")
            self._open_tag = False
            return
        if has_children:
            self._new_line()
        self._parts.append(f"</{name}>")

    def WriteAttributeString(self, name: object, value: object) -> None:
        if not self._open_tag:
            raise dotnet_error(
                "System.InvalidOperationException",
                "Token StartAttribute in state Content would result in an invalid XML document.",
            )
        self._parts.append(f' {to_string(name)}="{_xml_text(to_string(value), True)}"')

    def WriteElementString(self, name: object, value: object) -> None:
        self.WriteStartElement(name)
        text = to_string(value)
        if text:
            self._close_tag()
            self._parts.append(_xml_text(text))
        self.WriteEndElement()

    def WriteString(self, text: object) -> None:
        self._close_tag()
        self._parts.append(_xml_text(to_string(text)))

    def WriteComment(self, text: object) -> None:
        self._close_tag()
        self._new_line()
        self._parts.append(f"<!--{to_string(text)}-->")

    def Flush(self) -> None:
        return None

    def Close(self) -> None:
        if self._closed:
            return
        self.WriteEndDocument()
        self._closed = True
        data = b"\xef\xbb\xbf" + v.python_text("".join(self._parts)).encode("utf-8")
        self._interp.machine.filesystem.write_bytes(self._path, data)

    def Dispose(self) -> None:
        self.Close()


class FileSystemAccessRule(v.DotNetObject):
    TYPE_NAME = "System.Security.AccessControl.FileSystemAccessRule"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "IdentityReference",
        "FileSystemRights",
        "InheritanceFlags",
        "PropagationFlags",
        "AccessControlType",
        "IsInherited",
    )

    def __init__(
        self,
        identity: object,
        rights: object,
        inheritance: object = None,
        propagation: object = None,
        kind: object = None,
    ) -> None:
        if kind is None and propagation is None:
            kind, inheritance = inheritance, None
        self.IdentityReference = to_string(identity)
        self.FileSystemRights = enum_convert(FILE_SYSTEM_RIGHTS, rights)
        self.InheritanceFlags = enum_convert(INHERITANCE_FLAGS, inheritance if inheritance is not None else 0)
        self.PropagationFlags = enum_convert(PROPAGATION_FLAGS, propagation if propagation is not None else 0)
        self.AccessControlType = enum_convert(ACCESS_CONTROL_TYPE, kind if kind is not None else 0)
        self.IsInherited = False


class DirectorySecurity(v.DotNetObject):
    """An ACL as data: the machine applies it (Set-Acl)."""

    TYPE_NAME = "System.Security.AccessControl.DirectorySecurity"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Access", "AreAccessRulesProtected", "Owner")
    METHODS: ClassVar[tuple[str, ...]] = (
        "SetAccessRuleProtection",
        "AddAccessRule",
        "SetAccessRule",
        "RemoveAccessRule",
        "GetAccessRules",
        "SetOwner",
    )

    def __init__(self) -> None:
        self.rules: list[FileSystemAccessRule] = []
        self.AreAccessRulesProtected = False
        self.preserve_inheritance = True
        self.Owner: str | None = None

    @property
    def Access(self) -> list[object]:
        return list(self.rules)

    def SetAccessRuleProtection(self, protected: object, preserve: object) -> None:
        self.AreAccessRulesProtected = is_true(protected)
        self.preserve_inheritance = is_true(preserve)

    def AddAccessRule(self, rule: object) -> None:
        if not isinstance(rule, FileSystemAccessRule):
            raise dotnet_error("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: rule")
        self.rules.append(rule)

    def SetAccessRule(self, rule: object) -> None:
        assert isinstance(rule, FileSystemAccessRule)
        self.rules = [r for r in self.rules if r.IdentityReference.lower() != rule.IdentityReference.lower()]
        self.rules.append(rule)

    def RemoveAccessRule(self, rule: object) -> bool:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r is not rule]
        return len(self.rules) != before

    def GetAccessRules(self, *args: object) -> list[object]:
        return list(self.rules)

    def SetOwner(self, owner: object) -> None:
        self.Owner = to_string(owner)


class PSCredential(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.PSCredential"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("UserName", "Password")
    METHODS: ClassVar[tuple[str, ...]] = ("GetNetworkCredential",)

    def __init__(self, user: object, password: object) -> None:
        if not isinstance(password, v.SecureString):
            raise dotnet_error(
                "System.Management.Automation.PSArgumentException",
                'Cannot process argument because the value of argument "password" is not valid.',
            )
        self.UserName = to_string(user)
        self.Password = password

    def GetNetworkCredential(self) -> NetworkCredential:
        return NetworkCredential(self.UserName, self.Password.reveal())


class NetworkCredential(v.DotNetObject):
    TYPE_NAME = "System.Net.NetworkCredential"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("UserName", "Password", "Domain")

    def __init__(self, user: str, password: str) -> None:
        domain, _, name = user.rpartition("\\")
        self.UserName = name
        self.Domain = domain
        self.Password = password


class WindowsIdentity(v.DotNetObject):
    TYPE_NAME = "System.Security.Principal.WindowsIdentity"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Name", "IsAuthenticated", "AuthenticationType")

    def __init__(self, name: str) -> None:
        self.Name = name
        self.IsAuthenticated = True
        self.AuthenticationType = "Negotiate"

    def ps_to_string(self) -> str:
        return self.Name


class ComTypeValue(TypeValue):
    """What [Type]::GetTypeFromProgID returns: System.__ComObject for one ProgID."""

    def __init__(self, progid: str, factory: Callable[[], v.DotNetObject]) -> None:
        super().__init__(PSType("System.__ComObject"))
        self.progid = progid
        self.factory = factory


# --- the parser's AST, as the bootstrap reads it -------------------------------------------------


class Extent(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.InternalScriptExtent"
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Text",
        "StartLineNumber",
        "StartColumnNumber",
        "EndLineNumber",
        "EndColumnNumber",
        "File",
    )

    def __init__(self, source: ast.Source, pos: ast.Pos) -> None:
        self.Text = source.text[pos.start : pos.end]
        self.StartLineNumber = pos.line
        self.StartColumnNumber = pos.column
        self.EndLineNumber = pos.line + self.Text.count("\n")
        self.EndColumnNumber = len(self.Text.rsplit("\n", 1)[-1]) + (pos.column if "\n" not in self.Text else 1)
        self.File = source.name or None

    def ps_to_string(self) -> str:
        return self.Text


class VariablePath(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.VariablePath"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("UserPath",)

    def __init__(self, name: str) -> None:
        self.UserPath = name

    def ps_to_string(self) -> str:
        return self.UserPath


class VariableExpressionAst(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.VariableExpressionAst"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("VariablePath", "Extent")

    def __init__(self, name: str, extent: Extent) -> None:
        self.VariablePath = VariablePath(name)
        self.Extent = extent

    def ps_to_string(self) -> str:
        return "$" + self.VariablePath.UserPath


class AttributeAst(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.AttributeAst"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Extent", "TypeName")

    def __init__(self, source: ast.Source, node: ast.AttributeNode) -> None:
        self.Extent = Extent(source, node.pos)
        self.TypeName = node.name

    def ps_to_string(self) -> str:
        return self.Extent.Text


class ParameterAst(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.ParameterAst"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Name", "StaticType", "Attributes", "DefaultValue", "Extent")

    def __init__(self, interp: Interpreter, source: ast.Source, node: ast.ParameterNode) -> None:
        self.Extent = Extent(source, node.pos)
        variable_text = source.text[node.pos.start : node.pos.end]
        self.Name = VariableExpressionAst(node.name, Extent(source, node.pos))
        self.Attributes = [AttributeAst(source, a) for a in node.attributes]
        self.DefaultValue = None
        resolved = interp.types.resolve(node.type_name) if node.type_name else None
        self.StaticType = TypeValue(resolved if resolved is not None else interp.types.resolve("object"))  # type: ignore[arg-type]
        del variable_text

    def ps_to_string(self) -> str:
        return self.Extent.Text


class ParamBlockAst(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.ParamBlockAst"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Attributes", "Parameters", "Extent")

    def __init__(self, interp: Interpreter, source: ast.Source, node: ast.ParamBlock) -> None:
        self.Extent = Extent(source, node.pos)
        self.Attributes = [AttributeAst(source, a) for a in node.attributes]
        self.Parameters = [ParameterAst(interp, source, p) for p in node.parameters]

    def ps_to_string(self) -> str:
        return self.Extent.Text


class ScriptBlockAst(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.ScriptBlockAst"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("ParamBlock", "Extent", "BeginBlock", "ProcessBlock", "EndBlock")
    METHODS: ClassVar[tuple[str, ...]] = ("GetScriptBlock", "ToString")

    def __init__(
        self,
        node: ast.ScriptBlockNode | None,
        interp: Interpreter | None = None,
        text: str = "",
        problem: PSTerminatingError | None = None,
    ) -> None:
        self._node = node
        self._interp = interp
        self._text = text
        self._problem = problem
        source = node.source if node is not None else ast.Source(text)
        self.Extent = Extent(source, ast.Pos(1, 1, 0, len(source.text)))
        self.BeginBlock = None
        self.ProcessBlock = None
        self.EndBlock = None

    @property
    def ParamBlock(self) -> ParamBlockAst | None:
        if self._node is None or self._node.param_block is None or self._interp is None:
            return None
        return ParamBlockAst(self._interp, self._node.source, self._node.param_block)

    def GetScriptBlock(self) -> v.ScriptBlock:
        if self._node is None:
            raise dotnet_error(
                "System.Management.Automation.ParseException",
                self._problem.record.message if self._problem is not None else "The script block has errors.",
            )
        return v.ScriptBlock(self._node, self._text)

    def ToString(self) -> str:
        return self._text


class ParseError(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.Language.ParseError"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Message", "ErrorId", "Extent", "IncompleteInput")

    def __init__(self, message: str, error_id: str, extent: Extent) -> None:
        self.Message = message
        self.ErrorId = error_id
        self.Extent = extent
        self.IncompleteInput = False

    def ps_to_string(self) -> str:
        return f"At line:{self.Extent.StartLineNumber} char:{self.Extent.StartColumnNumber}\n{self.Message}"


def parse_input(interp: Interpreter, text: object, tokens: object, errors: object) -> ScriptBlockAst:
    """Parser.ParseInput: the AST, parse errors written through the [ref] arguments."""
    source_text = "" if text is None else to_string(text)
    compiled = compile_script(source_text)
    found: list[object] = []
    if compiled.parse_failure is not None:
        failure = compiled.parse_failure
        position = failure.position
        line_start = sum(len(line) + 1 for line in source_text.split("\n")[: position.line - 1])
        start = line_start + position.column - 1
        extent = Extent(ast.Source(source_text), ast.Pos(position.line, position.column, start, start + position.width))
        found.append(ParseError(failure.message, failure.error_id, extent))
    elif compiled.unsupported is not None:
        problem = compiled.unsupported
        extent = Extent(ast.Source(source_text), ast.Pos(problem.line, 1, 0, 0))
        found.append(ParseError(str(problem), "SimulatorUnsupportedConstruct", extent))
    if isinstance(errors, v.PSReference):
        errors.value = found
    if isinstance(tokens, v.PSReference):
        tokens.value = []
    return ScriptBlockAst(compiled.block, interp, source_text)


# --- reflection over COM -------------------------------------------------------------------------


def invoke_member(type_value: TypeValue, arguments: list[object]) -> object:
    """Type.InvokeMember(name, flags, binder, target, args): the member's exception wrapped in
    TargetInvocationException, as reflection wraps it (the caller's MethodInvocationException unwraps it once)."""
    if len(arguments) < 5:
        raise DotNetError(NetException("System.Management.Automation.MethodException", "Cannot find an overload"))
    name, flags, _binder, target, args = arguments[:5]
    member = to_string(name)
    flag_value = flags.value if isinstance(flags, v.EnumValue) else to_integer(flags)
    call_args = args if isinstance(args, list) else ([] if args is None else [args])
    if target is None:
        raise dotnet_error("System.Reflection.TargetException", "Non-static method requires a target.")
    if not isinstance(target, v.DotNetObject):
        raise dotnet_error(
            "System.MissingMethodException", f"Method '{type_value.pstype.full_name}.{member}' not found."
        )
    try:
        invoker = getattr(target, "ps_invoke_member", None)
        if callable(invoker):
            kind = "get" if flag_value & 4096 else "set" if flag_value & 8192 else "method"
            return invoker(member, kind, call_args)
        if flag_value & 4096:
            real = target.ps_has_property(member)
            if real is None:
                raise dotnet_error(
                    "System.MissingMethodException", f"Method '{type_value.pstype.full_name}.{member}' not found."
                )
            return target.ps_get(real)
        method = target.ps_method(member)
        if method is None:
            raise dotnet_error(
                "System.MissingMethodException", f"Method '{type_value.pstype.full_name}.{member}' not found."
            )
        return method(*call_args)
    except DotNetError as problem:
        if problem.exception.is_a("System.MissingMethodException"):
            raise
        raise DotNetError(
            NetException("System.Reflection.TargetInvocationException", TARGET_INVOCATION_MESSAGE, problem.exception)
        ) from None


# --- registration --------------------------------------------------------------------------------


def _static(pstype: PSType, functions: dict[str, Callable[..., object]]) -> PSType:
    for name, function in functions.items():
        pstype.add_static(name, function)
    return pstype


def register(interp: Interpreter, registry: TypeRegistry, gated: dict[str, list[PSType]]) -> None:
    def machine() -> Machine:
        return interp.machine

    registry.add_enum(BINDING_FLAGS)
    registry.add_enum(ACTION_PREFERENCE)
    registry.add_enum(ERROR_CATEGORY)
    for enum in (FILE_SYSTEM_RIGHTS, INHERITANCE_FLAGS, PROPAGATION_FLAGS, ACCESS_CONTROL_TYPE):
        registry.add_enum(enum)

    convert = _static(
        PSType("System.Convert"),
        {
            "ToBase64String": lambda data, *rest: base64.b64encode(_bytes(data, "inArray")).decode("ascii"),
            "FromBase64String": _from_base64,
            "ToInt32": lambda value, base=None: (
                int(to_string(value), to_integer(base)) if base is not None else to_integer(value)
            ),
            "ToInt64": lambda value: to_integer(value, "System.Int64"),
            "ToString": lambda value, base=None: _to_base(value, base),
            "ToBoolean": lambda value: is_true(value) if not isinstance(value, str) else _parse_bool(value),
            "ToByte": lambda value: v.Byte(to_integer(value, "System.Byte")),
        },
    )
    registry.add(convert)

    encoding = PSType("System.Text.Encoding")
    encoding.add_static_property("UTF8", lambda: UTF8)
    encoding.add_static_property("Unicode", lambda: UNICODE)
    encoding.add_static_property("ASCII", lambda: ASCII)
    encoding.add_static_property(
        "Default", lambda: Encoding("cp1252", "System.Text.SBCSCodePageEncoding", "Windows-1252", 1252, b"")
    )
    encoding.add_static("GetEncoding", lambda name: UTF8 if "8" in to_string(name) else UNICODE)
    registry.add(encoding)

    def fs() -> Any:
        return machine().filesystem

    def read_all_bytes(path: object) -> bytearray:
        return bytearray(fs().read_bytes(to_string(path)))

    def write_all_bytes(path: object, data: object) -> None:
        fs().write_bytes(to_string(path), _bytes(data))

    def read_all_text(path: object, *encoding_arg: object) -> str:
        raw = fs().read_bytes(to_string(path))
        for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
            if raw.startswith(bom):
                return v.dotnet_text(raw[len(bom) :].decode(codec, errors="replace"))
        return v.dotnet_text(raw.decode("utf-8", errors="replace"))

    def write_all_text(path: object, text: object, *encoding_arg: object) -> None:
        codec = encoding_arg[0] if encoding_arg and isinstance(encoding_arg[0], Encoding) else None
        data = v.python_text(to_string(text)).encode(codec.codec if codec else "utf-8")
        if codec is not None and codec is not UTF8:
            data = codec.preamble + data
        fs().write_bytes(to_string(path), data)

    def file_exists(path: object) -> bool:
        entry = fs().stat(to_string(path)) if path is not None else None
        return entry is not None and not entry.is_directory

    registry.add(
        _static(
            PSType("System.IO.File"),
            {
                "ReadAllBytes": read_all_bytes,
                "WriteAllBytes": write_all_bytes,
                "ReadAllText": read_all_text,
                "WriteAllText": write_all_text,
                "ReadAllLines": lambda path, *e: read_all_text(path).replace("\r\n", "\n").split("\n"),
                "Exists": file_exists,
                "Delete": lambda path: fs().remove(to_string(path), False) if file_exists(path) else None,
            },
        )
    )
    registry.add(
        _static(
            PSType("System.IO.Directory"),
            {
                "Exists": lambda path: (lambda e: e is not None and e.is_directory)(fs().stat(to_string(path))),
                "CreateDirectory": lambda path: fs().make_directory(to_string(path)),
            },
        )
    )
    registry.add(
        _static(
            PSType("System.IO.Path"),
            {
                "Combine": lambda *parts: _combine([to_string(p) for p in parts]),
                "GetFileName": lambda path: to_string(path).replace("/", "\\").rsplit("\\", 1)[-1],
                "GetDirectoryName": lambda path: (
                    to_string(path).replace("/", "\\").rsplit("\\", 1)[0]
                    if "\\" in to_string(path).replace("/", "\\")
                    else ""
                ),
                "GetExtension": lambda path: (
                    ("." + to_string(path).rsplit(".", 1)[1]) if "." in to_string(path).rsplit("\\", 1)[-1] else ""
                ),
                "GetFileNameWithoutExtension": lambda path: (
                    to_string(path).replace("/", "\\").rsplit("\\", 1)[-1].rsplit(".", 1)[0]
                ),
                "IsPathRooted": lambda path: to_string(path)[1:3] == ":\\" or to_string(path).startswith("\\"),
                "GetTempPath": lambda: (machine().environment().get("TEMP") or "C:\\Windows\\Temp").rstrip("\\") + "\\",
                "GetRandomFileName": lambda: machine().new_guid().hex[:8] + "." + machine().new_guid().hex[:3],
            },
        )
    )

    guid = registry.resolve("guid")
    assert guid is not None
    _static(
        guid, {"NewGuid": lambda: machine().new_guid(), "Parse": lambda text: uuid.UUID(to_string(text).strip("{}"))}
    )
    guid.add_static_property("Empty", lambda: uuid.UUID(int=0))

    # [Uri]::EscapeDataString: RFC 3986 percent-encoding of everything but the unreserved characters
    # (learn.microsoft.com/dotnet/api/system.uri.escapedatastring, .NET Framework 4.5 and later).
    registry.add(
        _static(
            PSType("System.Uri"),
            {
                "EscapeDataString": lambda text: urllib.parse.quote(to_string(text), safe="-_.~"),
                "UnescapeDataString": lambda text: urllib.parse.unquote(to_string(text)),
            },
        ),
        "uri",
    )
    registry.add(
        _static(
            PSType("System.BitConverter"),
            {"ToString": lambda data, *rest: "-".join(f"{b:02X}" for b in _bytes(data, "value"))},
        )
    )

    environment = _static(
        PSType("System.Environment"),
        {
            "GetEnvironmentVariable": lambda name, target="Process": _get_env(
                interp, to_string(name), to_string(target)
            ),
            "SetEnvironmentVariable": lambda name, value, target="Process": _set_env(interp, name, value),
        },
    )
    environment.add_static_property("MachineName", lambda: machine().computer_name)
    environment.add_static_property("NewLine", lambda: "\r\n")
    environment.add_static_property("UserName", lambda: machine().identity().user.rsplit("\\", 1)[-1])
    environment.add_static_property("UserDomainName", lambda: machine().identity().user.rsplit("\\", 1)[0])
    registry.add(environment)

    reader = ConsoleReader(interp)
    writer = ConsoleWriter(interp)
    console = _static(
        PSType("System.Console"), {"WriteLine": writer.WriteLine, "Write": writer.Write, "ReadLine": reader.ReadLine}
    )
    console.add_static_property("In", lambda: reader)
    console.add_static_property("Out", lambda: writer)
    registry.add(console)

    regex_type = PSType(
        "System.Text.RegularExpressions.Regex",
        is_instance=lambda value: isinstance(value, psregex.Regex),
        convert=lambda value: (
            value if isinstance(value, psregex.Regex) or value is None else psregex.Regex(to_string(value))
        ),
    )
    _static(
        regex_type,
        {
            "Match": lambda text, pattern, options=0: psregex.Regex(to_string(pattern), _options(options)).Match(text),
            "Matches": lambda text, pattern, options=0: psregex.Regex(to_string(pattern), _options(options)).Matches(
                text
            ),
            "IsMatch": lambda text, pattern, options=0: psregex.Regex(to_string(pattern), _options(options)).IsMatch(
                text
            ),
            "Replace": lambda text, pattern, replacement, options=0: psregex.Regex(
                to_string(pattern), _options(options)
            ).Replace(text, _evaluator(interp, replacement)),
            "Split": lambda text, pattern, options=0: psregex.Regex(to_string(pattern), _options(options)).Split(text),
            "Escape": lambda text: _regex_escape(to_string(text)),
            "Unescape": lambda text: to_string(text).replace("\\", ""),
        },
    )
    regex_type.constructor = lambda pattern, options=0: psregex.Regex(to_string(pattern), _options(options))
    registry.add(regex_type, "regex")
    registry.add(PSType("System.Text.RegularExpressions.RegexOptions"))

    math_type = registry.add(
        _static(
            PSType("System.Math"),
            {
                "Max": lambda a, b: max(a, b),
                "Min": lambda a, b: min(a, b),
                "Abs": lambda a: abs(a),
                "Round": lambda a, digits=0: round(a, to_integer(digits)) if digits else round(a),
                "Floor": lambda a: float(int(a // 1)),
                "Ceiling": lambda a: float(-int(-a // 1)),
                "Truncate": lambda a: float(int(a)),
                "Pow": lambda a, b: float(a) ** float(b),
            },
        )
    )
    math_type.add_static_property("PI", lambda: 3.141592653589793)
    math_type.add_static_property("E", lambda: 2.718281828459045)
    string = registry.resolve("string")
    assert string is not None
    _static(
        string,
        {
            "IsNullOrEmpty": lambda text: text is None or to_string(text) == "",
            "IsNullOrWhiteSpace": lambda text: text is None or to_string(text).strip() == "",
            "Join": lambda separator, *items: to_string(separator).join(
                to_string(i) for i in (enumerate_items(items[0]) or [items[0]] if len(items) == 1 else items)
            ),
            "Concat": lambda *items: "".join(to_string(i) for i in items),
            "Format": lambda template, *args: __import__(
                "simulator.powershell.operators", fromlist=["x"]
            ).format_string(
                to_string(template), list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
            ),
        },
    )
    string.add_static_property("Empty", lambda: "")
    for name in ("int", "long", "byte", "uint32", "int16", "uint64"):
        number = registry.resolve(name)
        assert number is not None
        full = number.full_name
        low, high = {
            "System.Int32": (-(2**31), 2**31 - 1),
            "System.Int64": (-(2**63), 2**63 - 1),
            "System.Byte": (0, 255),
            "System.UInt32": (0, 2**32 - 1),
            "System.Int16": (-(2**15), 2**15 - 1),
            "System.UInt64": (0, 2**64 - 1),
        }[full]
        number.add_static_property("MaxValue", _constant(high))
        number.add_static_property("MinValue", _constant(low))
        number.add_static("Parse", _parser(number))
    double = registry.resolve("double")
    assert double is not None
    double.add_static("Parse", lambda text: double.convert(to_string(text)))

    datetime_type = registry.resolve("datetime")
    assert datetime_type is not None
    datetime_type.add_static_property("Now", lambda: v.DateTime(machine().now()))
    datetime_type.add_static_property("UtcNow", lambda: v.DateTime(machine().now()))
    datetime_type.add_static_property(
        "Today", lambda: v.DateTime(machine().now().replace(hour=0, minute=0, second=0, microsecond=0))
    )
    datetime_type.add_static("Parse", lambda text: datetime_type.convert(to_string(text)))

    sha256 = _static(PSType("System.Security.Cryptography.SHA256"), {"Create": lambda *name: HashAlgorithm("sha256")})
    registry.add(sha256)
    registry.add(_static(PSType("System.Security.Cryptography.SHA1"), {"Create": lambda *name: HashAlgorithm("sha1")}))
    registry.add(_static(PSType("System.Security.Cryptography.MD5"), {"Create": lambda *name: HashAlgorithm("md5")}))
    managed = PSType("System.Security.Cryptography.SHA256Managed")
    managed.constructor = lambda: HashAlgorithm("sha256")
    registry.add(managed)
    registry.add(
        _static(
            PSType("System.Security.Cryptography.RandomNumberGenerator"),
            {"Create": lambda *name: RandomGenerator(interp)},
        )
    )
    rng = PSType("System.Security.Cryptography.RNGCryptoServiceProvider")
    rng.constructor = lambda: RandomGenerator(interp)
    registry.add(rng)

    protected = _static(
        PSType("System.Security.Cryptography.ProtectedData"),
        {
            "Protect": lambda data, entropy, scope: bytearray(
                machine().protect(
                    _bytes(data, "userData"), None if entropy is None else _bytes(entropy), to_string(scope)
                )
            ),
            "Unprotect": lambda data, entropy, scope: bytearray(
                machine().unprotect(
                    _bytes(data, "encryptedData"), None if entropy is None else _bytes(entropy), to_string(scope)
                )
            ),
        },
    )
    scope_type = PSType(
        DATA_PROTECTION_SCOPE.full_name,
        is_instance=lambda x: isinstance(x, v.EnumValue) and x.enum == DATA_PROTECTION_SCOPE,
        convert=lambda x: None if x is None else enum_convert(DATA_PROTECTION_SCOPE, x),
    )
    scope_type.enum = DATA_PROTECTION_SCOPE
    for member, value in DATA_PROTECTION_SCOPE.members:
        scope_type.add_static_property(member, _constant(v.EnumValue(DATA_PROTECTION_SCOPE, value)))
    gated.setdefault("system.security", []).extend([protected, scope_type])

    xml_writer = _static(
        PSType("System.Xml.XmlWriter"),
        {
            "Create": lambda path, settings=None: XmlWriter(
                interp, to_string(path), settings if isinstance(settings, XmlWriterSettings) else None
            )
        },
    )
    writer_settings = PSType("System.Xml.XmlWriterSettings", is_instance=lambda x: isinstance(x, XmlWriterSettings))
    writer_settings.constructor = XmlWriterSettings
    registry.add(writer_settings)
    registry.add(xml_writer)

    type_type = registry.resolve("type")
    assert type_type is not None
    _static(
        type_type,
        {
            "GetTypeFromProgID": lambda progid, *server: _type_from_progid(interp, to_string(progid)),
            "GetType": lambda name, *rest: _get_type(interp, to_string(name)),
        },
    )
    registry.add(
        _static(PSType("System.Activator"), {"CreateInstance": lambda kind, *args: _create_instance(kind, list(args))})
    )

    serializer = _static(
        PSType("System.Management.Automation.PSSerializer"),
        {
            "Serialize": lambda value, depth=1: _clixml().serialize(value, to_integer(depth)),
            "Deserialize": lambda text: _clixml().deserialize(to_string(text)),
        },
    )
    registry.add(serializer)
    registry.add(
        _static(
            PSType("System.Management.Automation.Language.Parser"),
            {"ParseInput": lambda text, tokens, errors: parse_input(interp, text, tokens, errors)},
        )
    )
    scriptblock = registry.resolve("scriptblock")
    assert scriptblock is not None
    scriptblock.add_static("Create", lambda text: _create_scriptblock(interp, to_string(text)))

    directory_security = PSType(
        "System.Security.AccessControl.DirectorySecurity",
        is_instance=lambda x: isinstance(x, DirectorySecurity),
        bases=("System.Security.AccessControl.FileSystemSecurity",),
    )
    directory_security.constructor = lambda *args: DirectorySecurity()
    registry.add(directory_security)
    rule = PSType(
        "System.Security.AccessControl.FileSystemAccessRule", is_instance=lambda x: isinstance(x, FileSystemAccessRule)
    )
    rule.constructor = FileSystemAccessRule
    registry.add(rule)
    registry.add(
        _static(
            PSType("System.Security.Principal.WindowsIdentity", is_instance=lambda x: isinstance(x, WindowsIdentity)),
            {"GetCurrent": lambda *args: WindowsIdentity(machine().identity().user)},
        )
    )
    credential = PSType("System.Management.Automation.PSCredential", is_instance=lambda x: isinstance(x, PSCredential))
    credential.constructor = PSCredential
    registry.add(credential, "pscredential")

    timespan = registry.resolve("timespan")
    assert timespan is not None
    import datetime as _dt

    _static(
        timespan,
        {
            "FromSeconds": lambda n: v.TimeSpan(_dt.timedelta(seconds=float(n))),
            "FromMinutes": lambda n: v.TimeSpan(_dt.timedelta(minutes=float(n))),
            "FromMilliseconds": lambda n: v.TimeSpan(_dt.timedelta(milliseconds=float(n))),
        },
    )


def _constant(value: object) -> Callable[[], object]:
    return lambda: value


def _parser(pstype: PSType) -> Callable[[object], object]:
    return lambda text: pstype.convert(to_string(text))


def _clixml() -> Any:
    from simulator.powershell import clixml

    return clixml


def _from_base64(text: object) -> bytearray:
    if text is None:
        raise dotnet_error("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: s")
    compact = "".join(to_string(text).split())
    try:
        return bytearray(base64.b64decode(compact, validate=True))
    except (binascii.Error, ValueError):
        raise dotnet_error(
            "System.FormatException",
            "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding "
            "characters, or an illegal character among the padding characters. ",
        ) from None


def _to_base(value: object, base: object) -> str:
    if base is None:
        return to_string(value)
    number = to_integer(value)
    radix = to_integer(base)
    if radix == 16:
        return format(number & 0xFFFFFFFF if number < 0 else number, "x")
    if radix == 2:
        return format(number & 0xFFFFFFFF if number < 0 else number, "b")
    if radix == 8:
        return format(number, "o")
    return str(number)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise dotnet_error("System.FormatException", "String was not recognized as a valid Boolean.")


def _combine(parts: list[str]) -> str:
    result = ""
    for part in parts:
        if not part:
            continue
        if part[1:3] == ":\\" or part.startswith("\\"):
            result = part
        elif not result or result.endswith(("\\", "/", ":")):
            result = result + part
        else:
            result = result + "\\" + part
    return result


def _get_env(interp: Interpreter, name: str, target: str) -> object:
    if target.lower() == "process":
        found = interp.machine.environment().get(name)
    else:
        found = interp.machine.machine_environment(name, target)
    return v.NULL if found is None else found


def _set_env(interp: Interpreter, name: object, value: object) -> None:
    if value is None:
        interp.machine.environment().pop(to_string(name), None)
    else:
        interp.machine.environment()[to_string(name)] = to_string(value)


def _options(options: object) -> int:
    if isinstance(options, v.EnumValue):
        return options.value
    if isinstance(options, str):
        names = {
            "none": 0,
            "ignorecase": 1,
            "multiline": 2,
            "explicitcapture": 4,
            "compiled": 8,
            "singleline": 16,
            "ignorepatternwhitespace": 32,
            "righttoleft": 64,
            "ecmascript": 256,
            "cultureinvariant": 512,
        }
        total = 0
        for part in options.split(","):
            total |= names.get(part.strip().lower(), 0)
        return total
    return to_integer(options)


def _regex_escape(text: str) -> str:
    out = []
    for char in text:
        if char in "\\*+?|{[()^$.# ":
            out.append("\\" + char)
        elif char == "\t":
            out.append("\\t")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\f":
            out.append("\\f")
        else:
            out.append(char)
    return "".join(out)


def _evaluator(interp: Interpreter, replacement: object) -> object:
    if isinstance(replacement, v.ScriptBlock):

        def evaluate(found: Any) -> str:
            match = psregex.Match(found, found.re, found.string)
            return to_string(interp.invoke_block_value(replacement, [match]))

        return evaluate
    return "" if replacement is None else to_string(replacement)


def _type_from_progid(interp: Interpreter, progid: str) -> object:
    factory = interp.machine.com_class(progid)
    if factory is None:
        return v.NULL  # Type.GetTypeFromProgID returns null for an unregistered ProgID
    return ComTypeValue(progid, factory)


def _get_type(interp: Interpreter, name: str) -> object:
    found = interp.types.resolve(name)
    return v.NULL if found is None else TypeValue(found)


def _create_instance(kind: object, arguments: list[object]) -> object:
    if kind is None:
        raise dotnet_error("System.ArgumentNullException", "Value cannot be null.\r\nParameter name: type")
    if isinstance(kind, ComTypeValue):
        return kind.factory()
    if isinstance(kind, TypeValue) and kind.pstype.constructor is not None:
        return kind.pstype.constructor(*arguments)
    raise dotnet_error("System.MissingMethodException", "No parameterless constructor defined for this object.")


def _create_scriptblock(interp: Interpreter, text: str) -> v.ScriptBlock:
    compiled = compile_script(text)
    if compiled.block is None:
        if compiled.parse_failure is not None:
            failure = compiled.parse_failure
            raise dotnet_error(
                "System.Management.Automation.ParseException",
                f"At line:{failure.position.line} char:{failure.position.column}\n+ {failure.position.line_text}\n"
                f"{failure.message}",
            )
        assert compiled.unsupported is not None
        raise interp.unsupported_error(compiled.unsupported)
    return v.ScriptBlock(compiled.block, text)
