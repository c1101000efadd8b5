""".NET regular expressions on Python's `re`, and the Match/Group objects a script sees.

The translation covers what differs in the patterns PowerShell scripts write: named groups
`(?<name>...)`, back references `\\k<name>`, `\\z`/`\\Z`, and .NET replacement tokens
(`$1`, `${name}`, `$0`, `$&`, `$$`). A construct Python cannot express (`\\p{...}` classes,
balancing groups, RightToLeft) fails loudly instead of matching differently.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import ClassVar

from simulator.powershell import values as v
from simulator.powershell.errors import PSTerminatingError, make_record


class RegexError(Exception):
    pass


def translate(pattern: str) -> str:
    out: list[str] = []
    index = 0
    in_class = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            following = pattern[index + 1]
            if following in "pP" and not in_class:
                raise RegexError(f"the .NET regular expression construct \\{following}{{...}}")
            if following == "z":
                out.append(r"\Z")
            elif following == "Z":
                out.append(r"(?=\n?\Z)")
            elif following == "k" and pattern[index + 2 : index + 3] in ("<", "'"):
                close = ">" if pattern[index + 2] == "<" else "'"
                end = pattern.index(close, index + 3)
                out.append(f"(?P={pattern[index + 3 : end]})")
                index = end + 1
                continue
            else:
                out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append(char)
            index += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            if pattern[index + 1 : index + 2] == "^":
                out.append("^")
                index += 1
            if pattern[index + 1 : index + 2] == "]":
                out.append(r"\]")
                index += 1
            index += 1
            continue
        if pattern.startswith("(?<", index) and pattern[index + 3 : index + 4] not in ("=", "!"):
            end = pattern.index(">", index)
            name = pattern[index + 3 : end]
            if "-" in name:
                raise RegexError("balancing groups")
            out.append(f"(?P<{name}>")
            index = end + 1
            continue
        if pattern.startswith("(?'", index):
            end = pattern.index("'", index + 3)
            out.append(f"(?P<{pattern[index + 3 : end]}>")
            index = end + 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(translate(pattern), flags)


def compile_pattern(pattern: str, ignore_case: bool = True, options: int = 0) -> re.Pattern[str]:
    """Compile a .NET pattern; options are RegexOptions bits (IgnoreCase 1, Multiline 2, Singleline 16...)."""
    flags = re.IGNORECASE if ignore_case or options & 1 else 0
    if options & 2:
        flags |= re.MULTILINE
    if options & 16:
        flags |= re.DOTALL
    if options & 32:
        flags |= re.VERBOSE
    try:
        return _compile(pattern, flags)
    except RegexError as problem:
        raise PSTerminatingError(
            make_record(
                "System.Management.Automation.RuntimeException",
                f"The simulated Windows PowerShell does not support {problem} in regular expressions.",
                "SimulatorNotModelled",
                "NotImplemented",
            ),
            statement_only=True,
        ) from None
    except re.error as problem:
        # ParserStrings.InvalidRegularExpression, with .NET's parse message as the detail
        raise PSTerminatingError(
            make_record(
                "System.Management.Automation.RuntimeException",
                f"The regular expression pattern {pattern} is not valid.",
                "InvalidRegularExpression",
                "InvalidOperation",
                target=pattern,
            ),
            statement_only=True,
        ) from problem


def matches_table(compiled: re.Pattern[str], found: re.Match[str]) -> v.Hashtable:
    """$Matches after a successful -match: 0 is the whole match, then numbered and named groups."""
    table = v.Hashtable()
    table[0] = found.group(0)
    names = {index: name for name, index in compiled.groupindex.items()}
    for index in range(1, (compiled.groups or 0) + 1):
        group = found.group(index)
        if group is None:
            continue
        table[names.get(index, index)] = group
    return table


def expand_replacement(template: str, found: re.Match[str]) -> str:
    """A .NET replacement pattern for one match."""
    out: list[str] = []
    index = 0
    while index < len(template):
        char = template[index]
        if char != "$" or index + 1 >= len(template):
            out.append(char)
            index += 1
            continue
        following = template[index + 1]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "&":
            out.append(found.group(0))
            index += 2
        elif following == "`":
            out.append(found.string[: found.start()])
            index += 2
        elif following == "'":
            out.append(found.string[found.end() :])
            index += 2
        elif following == "_":
            out.append(found.string)
            index += 2
        elif following == "{":
            end = template.find("}", index)
            name = template[index + 2 : end] if end > 0 else ""
            try:
                key: int | str = int(name) if name.isdigit() else name
                out.append(found.group(key) or "")
                index = end + 1
            except (IndexError, error_types()):
                out.append(template[index : end + 1])
                index = end + 1
        elif following.isdigit():
            end = index + 1
            while end < len(template) and template[end].isdigit():
                end += 1
            number = int(template[index + 1 : end])
            if number <= (found.re.groups or 0):
                out.append(found.group(number) or "")
            else:
                out.append(template[index:end])
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


def error_types() -> type[Exception]:
    return re.error


def replace(
    compiled: re.Pattern[str], text: str, replacement: str | Callable[[re.Match[str]], str], count: int = 0
) -> str:
    if callable(replacement):
        return compiled.sub(replacement, text, count=max(count, 0))
    return compiled.sub(lambda found: expand_replacement(replacement, found), text, count=max(count, 0))


def split(compiled: re.Pattern[str], text: str, limit: int = 0) -> list[object]:
    parts = compiled.split(text, maxsplit=max(limit - 1, 0)) if limit != 1 else [text]
    return [part if part is not None else "" for part in parts]


class Group(v.DotNetObject):
    TYPE_NAME = "System.Text.RegularExpressions.Group"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Value", "Success", "Index", "Length", "Name", "Captures")
    METHODS: ClassVar[tuple[str, ...]] = ("ToString",)

    def __init__(self, found: re.Match[str] | None, key: int | str, name: str) -> None:
        self._found = found
        self._key = key
        self.Name = name
        value = found.group(key) if found is not None else None
        self.Success = value is not None
        self.Value = value or ""
        self.Index = found.start(key) if found is not None and value is not None else 0
        self.Length = len(self.Value)

    @property
    def Captures(self) -> v.Collection:
        return v.Collection([self] if self.Success else [], "System.Text.RegularExpressions.CaptureCollection")

    def ToString(self) -> str:
        return self.Value

    def ps_to_string(self) -> str:
        return self.Value


class GroupCollection(v.DotNetObject):
    TYPE_NAME = "System.Text.RegularExpressions.GroupCollection"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Count",)

    def __init__(self, found: re.Match[str]) -> None:
        self._found = found
        names = {index: name for name, index in found.re.groupindex.items()}
        self._groups = [Group(found, 0, "0")] + [
            Group(found, index, names.get(index, str(index))) for index in range(1, (found.re.groups or 0) + 1)
        ]

    @property
    def Count(self) -> int:
        return len(self._groups)

    def ps_enumerate(self) -> list[object] | None:
        return list(self._groups)

    def index(self, key: object) -> object:
        if isinstance(key, int) and not isinstance(key, bool):
            return self._groups[key] if 0 <= key < len(self._groups) else Group(None, key, str(key))
        wanted = str(key)
        return next((g for g in self._groups if g.Name == wanted), Group(None, wanted, wanted))


class Match(Group):
    TYPE_NAME = "System.Text.RegularExpressions.Match"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Value", "Success", "Index", "Length", "Groups", "Captures", "Name")
    METHODS: ClassVar[tuple[str, ...]] = ("ToString", "NextMatch", "Result")

    def __init__(self, found: re.Match[str] | None, compiled: re.Pattern[str] | None = None, text: str = "") -> None:
        super().__init__(found, 0, "0")
        self._compiled = compiled
        self._text = text

    @property
    def Groups(self) -> GroupCollection | v.Collection:
        if self._found is None:
            return v.Collection([Group(None, 0, "0")], GroupCollection.TYPE_NAME)
        return GroupCollection(self._found)

    def NextMatch(self) -> Match:
        if self._found is None or self._compiled is None:
            return Match(None)
        start = self._found.end() if self._found.end() > self._found.start() else self._found.end() + 1
        return Match(self._compiled.search(self._text, start), self._compiled, self._text)

    def Result(self, replacement: str) -> str:
        return expand_replacement(replacement, self._found) if self._found is not None else ""


class Regex(v.DotNetObject):
    """A [regex] instance."""

    TYPE_NAME = "System.Text.RegularExpressions.Regex"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Options",)
    METHODS: ClassVar[tuple[str, ...]] = ("Match", "Matches", "IsMatch", "Replace", "Split", "ToString")

    def __init__(self, pattern: str, options: int = 0) -> None:
        self.pattern = pattern
        self.options = options
        self.compiled = compile_pattern(pattern, ignore_case=bool(options & 1), options=options)

    @property
    def Options(self) -> int:
        return self.options

    def Match(self, text: object) -> Match:
        source = "" if text is None else str(text)
        return Match(self.compiled.search(source), self.compiled, source)

    def Matches(self, text: object) -> v.Collection:
        source = "" if text is None else str(text)
        return v.Collection(
            [Match(found, self.compiled, source) for found in self.compiled.finditer(source)],
            "System.Text.RegularExpressions.MatchCollection",
        )

    def IsMatch(self, text: object) -> bool:
        return self.compiled.search("" if text is None else str(text)) is not None

    def Replace(self, text: object, replacement: object) -> str:
        source = "" if text is None else str(text)
        if callable(replacement):
            return replace(self.compiled, source, replacement)
        return replace(self.compiled, source, "" if replacement is None else str(replacement))

    def Split(self, text: object) -> list[object]:
        return split(self.compiled, "" if text is None else str(text))

    def ToString(self) -> str:
        return self.pattern

    def ps_to_string(self) -> str:
        return self.pattern
