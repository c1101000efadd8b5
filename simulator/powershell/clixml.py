"""CLIXML: [Management.Automation.PSSerializer]::Serialize / ::Deserialize for the values scripts exchange.

Format: MS-PSRP 2.2.5 (Serialization); depth as PowerShell's serializer applies it
(serialization.cs at PowerShell/PowerShell v6.0.0-alpha.10): containers (hashtables, lists) do
not count towards the depth, property bags do; a property bag at depth 0 is written as its string.
PSSerializer.Serialize(object) uses depth 1. Deserialized lists come back as lists, hashtables as
hashtables, custom objects as PSCustomObjects.
"""

from __future__ import annotations

import base64
import decimal
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from xml.sax.saxutils import escape

from simulator.powershell import values as v
from simulator.powershell.errors import DotNetError, NetException
from simulator.powershell.types import INT32, format_double, to_string, type_name

NAMESPACE = "http://schemas.microsoft.com/powershell/2004/04"
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def _encode(text: str) -> str:
    encoded = _UNSAFE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return (
        escape(encoded).replace("\r", "_x000D_").replace("\n", "_x000A_")
        if "\r" in encoded or "\n" in encoded
        else escape(encoded)
    )


def _decode(text: str | None) -> str:
    if text is None:
        return ""
    return v.dotnet_text(re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ref = 0
        self.type_refs: dict[tuple[str, ...], int] = {}

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("  " * indent + text)

    def name_attr(self, name: str | None) -> str:
        return "" if name is None else f' N="{_encode(name)}"'

    def value(self, value: object, name: str | None, depth: int, indent: int) -> None:
        n = self.name_attr(name)
        if value is None or value is v.AUTOMATION_NULL:
            self.emit(indent, f"<Nil{n} />")
        elif isinstance(value, bool):
            self.emit(indent, f"<B{n}>{'true' if value else 'false'}</B>")
        elif isinstance(value, v.PSChar):
            self.emit(indent, f"<C{n}>{ord(value)}</C>")
        elif isinstance(value, str):
            self.emit(indent, f"<S{n}>{_encode(str(value))}</S>")
        elif isinstance(value, v.TypedInt):
            tag = {
                "System.UInt32": "U32",
                "System.UInt64": "U64",
                "System.Int16": "I16",
                "System.UInt16": "U16",
                "System.Byte": "By",
                "System.Int64": "I64",
            }.get(value.TYPE_NAME, "I32")
            self.emit(indent, f"<{tag}{n}>{int(value)}</{tag}>")
        elif isinstance(value, int):
            tag = "I32" if INT32[0] <= value <= INT32[1] else "I64"
            self.emit(indent, f"<{tag}{n}>{value}</{tag}>")
        elif isinstance(value, float):
            self.emit(indent, f"<Db{n}>{format_double(value)}</Db>")
        elif isinstance(value, decimal.Decimal):
            self.emit(indent, f"<D{n}>{value}</D>")
        elif isinstance(value, uuid.UUID):
            self.emit(indent, f"<G{n}>{value}</G>")
        elif isinstance(value, bytearray | bytes):
            self.emit(indent, f"<BA{n}>{base64.b64encode(bytes(value)).decode('ascii')}</BA>")
        elif isinstance(value, v.DateTime):
            self.emit(indent, f"<DT{n}>{value.moment.strftime('%Y-%m-%dT%H:%M:%S.%f')}0</DT>")
        elif isinstance(value, v.ScriptBlock):
            self.emit(indent, f"<SBK{n}>{_encode(value.text)}</SBK>")
        elif isinstance(value, v.Hashtable):
            self._container(value, n, indent, depth, "DCT")
        elif isinstance(value, list):
            self._container(value, n, indent, depth, "LST")
        elif isinstance(value, v.EnumValue):
            self._enum(value, n, indent)
        elif isinstance(value, v.PSCustomObject):
            self._bag(value, n, indent, depth)
        else:
            self._string_form(value, n, indent)

    def _types(self, names: tuple[str, ...], indent: int) -> None:
        known = self.type_refs.get(names)
        if known is not None:
            self.emit(indent, f'<TNRef RefId="{known}" />')
            return
        number = len(self.type_refs)
        self.type_refs[names] = number
        self.emit(indent, f'<TN RefId="{number}">')
        for name in names:
            self.emit(indent + 1, f"<T>{name}</T>")
        self.emit(indent, "</TN>")

    def _open(self, n: str, indent: int) -> None:
        self.emit(indent, f'<Obj{n} RefId="{self.ref}">')
        self.ref += 1

    def _container(self, value: v.Hashtable | list[object], n: str, indent: int, depth: int, tag: str) -> None:
        self._open(n, indent)
        if isinstance(value, v.Hashtable):
            self._types((value.TYPE_NAME, "System.Object"), indent + 1)
            self.emit(indent + 1, "<DCT>")
            for key, item in value.items():
                self.emit(indent + 2, "<En>")
                self.value(key, "Key", depth, indent + 3)
                self.value(item, "Value", depth, indent + 3)
                self.emit(indent + 2, "</En>")
            self.emit(indent + 1, "</DCT>")
        else:
            full = type_name(value)
            self._types((full, "System.Array", "System.Object"), indent + 1)
            self.emit(indent + 1, "<LST>")
            for item in value:
                self.value(item, None, depth, indent + 2)
            self.emit(indent + 1, "</LST>")
        self.emit(indent, "</Obj>")

    def _enum(self, value: v.EnumValue, n: str, indent: int) -> None:
        self._open(n, indent)
        self._types((value.enum.full_name, "System.Enum", "System.ValueType", "System.Object"), indent + 1)
        self.emit(indent + 1, f"<ToString>{_encode(str(value))}</ToString>")
        self.emit(indent + 1, f"<I32>{value.value}</I32>")
        self.emit(indent, "</Obj>")

    def _bag(self, value: v.PSCustomObject, n: str, indent: int, depth: int) -> None:
        if depth <= 0:
            self._string_form(value, n, indent)
            return
        self._open(n, indent)
        self._types((value.TYPE_NAME, "System.Object"), indent + 1)
        self.emit(indent + 1, "<MS>")
        for prop in value.properties():
            self.value(prop.value, prop.name, depth - 1, indent + 2)
        self.emit(indent + 1, "</MS>")
        self.emit(indent, "</Obj>")

    def _string_form(self, value: object, n: str, indent: int) -> None:
        self._open(n, indent)
        self._types((type_name(value), "System.Object"), indent + 1)
        self.emit(indent + 1, f"<ToString>{_encode(to_string(value))}</ToString>")
        self.emit(indent, "</Obj>")


def serialize(value: object, depth: int = 1) -> str:
    writer = _Writer()
    writer.value(value, None, depth, 1)
    body = "\r\n".join(writer.lines)
    return f'<Objs Version="1.1.0.1" xmlns="{NAMESPACE}">\r\n{body}\r\n</Objs>'


def _tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def deserialize(text: str) -> object:
    try:
        # A .NET string holds a character beyond U+FFFF as a surrogate pair; the XML parser wants characters.
        root = ET.fromstring(v.python_text(text))  # noqa: S314 - CLIXML a script of this node wrote
    except ET.ParseError as problem:
        raise DotNetError(NetException("System.Xml.XmlException", str(problem))) from None
    reader = _Reader()
    items = [reader.read(child) for child in root]
    if len(items) == 1:
        return items[0]
    return items


class _Reader:
    def __init__(self) -> None:
        self.objects: dict[str, object] = {}
        self.types: dict[str, list[str]] = {}

    def read(self, element: ET.Element) -> object:
        tag = _tag(element)
        text = element.text
        simple: dict[str, Callable[[], object]] = {
            "S": lambda: _decode(text),
            "B": lambda: (text or "").strip() == "true",
            "I32": lambda: int(text or 0),
            "I64": lambda: int(text or 0),
            "I16": lambda: v.Int16(int(text or 0)),
            "U32": lambda: v.UInt32(int(text or 0)),
            "U64": lambda: v.UInt64(int(text or 0)),
            "U16": lambda: v.UInt16(int(text or 0)),
            "By": lambda: v.Byte(int(text or 0)),
            "Db": lambda: float(text or 0),
            "D": lambda: decimal.Decimal(text or "0"),
            "C": lambda: v.PSChar(chr(int(text or 0))),
            "G": lambda: uuid.UUID(text or ""),
            "BA": lambda: bytearray(base64.b64decode(text or "")),
            "Nil": lambda: None,
            "SBK": lambda: _decode(text),
        }
        if tag in simple:
            return simple[tag]()
        if tag == "Ref":
            return self.objects.get(element.get("RefId", ""))
        if tag != "Obj":
            raise DotNetError(NetException("System.Xml.XmlException", f"The simulator does not read CLIXML <{tag}>."))
        names: list[str] = []
        result: object = None
        for child in element:
            child_tag = _tag(child)
            if child_tag == "TN":
                names = [t.text or "" for t in child]
                self.types[child.get("RefId", "")] = names
            elif child_tag == "TNRef":
                names = self.types.get(child.get("RefId", ""), [])
        for child in element:
            child_tag = _tag(child)
            if child_tag == "DCT":
                table = v.OrderedHashtable() if names and "OrderedDictionary" in names[0] else v.Hashtable()
                for entry in child:
                    key = value = None
                    for part in entry:
                        if part.get("N") == "Key":
                            key = self.read(part)
                        elif part.get("N") == "Value":
                            value = self.read(part)
                    table[key] = value
                result = table
            elif child_tag in ("LST", "IE", "STK", "QUE"):
                result = [self.read(item) for item in child]
            elif child_tag == "MS":
                bag = v.PSCustomObject()
                for item in child:
                    bag.add(_decode(item.get("N", "")), self.read(item))
                result = bag if result is None else result
            elif child_tag == "ToString" and result is None:
                result = _decode(child.text)
            elif child_tag in ("I32",) and names and result is None:
                result = int(child.text or 0)
        self.objects[element.get("RefId", "")] = result
        return result
