"""Parsing PowerShell with the tree-sitter grammar, and PowerShell's wording for what does not parse.

tree-sitter recovers from errors differently from PowerShell's own parser, so the diagnosis maps
the shapes tree-sitter produces onto the ParserStrings PowerShell would report for the same text:
an unterminated string, a block or hash literal without its closing brace, a parenthesis that is
never closed, a stray closing token, and, for anything else, an unexpected token.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter
import tree_sitter_powershell


@dataclass(frozen=True)
class Position:
    """Where an error points in a script, as PowerShell's PositionMessage shows it."""

    line: int  # 1-based
    column: int  # 1-based, in characters
    width: int  # characters underlined on that line; 0 for a point between two characters
    line_text: str

    def message(self) -> str:
        underline = " " * (self.column - 1) + "~" * max(1, self.width)
        return f"At line:{self.line} char:{self.column}\n+ {self.line_text}\n+ {underline}"


LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())

_OPENERS = {"{": "}", "@{": "}", "(": ")", "@(": ")", "$(": ")", "[": "]"}
_CLOSERS = {"}", ")", "]"}
_BINARY_OPERATORS = {"+", "-", "*", "/", "%", "-and", "-or", "-xor", "-band", "-bor", "-f", ".."}
_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e'


@dataclass(frozen=True)
class ParseFailure:
    """The first error PowerShell's parser would report for a script."""

    message: str
    error_id: str
    position: Position


def parse(text: str) -> tree_sitter.Tree:
    # A Parser is cheap and not thread-safe; the WS-Man server runs commands on many threads.
    parser = tree_sitter.Parser(LANGUAGE)
    tree = parser.parse(text.encode("utf-8"))
    if tree.root_node.type == "ERROR" and [c.type for c in tree.root_node.children] == ["param_block"]:
        # The grammar rejects a text that is nothing but a param block without attributes when no line break
        # follows it (`[ScriptBlock]::Create('param($a)')`, which the bootstrap builds for a script without
        # [CmdletBinding()]); PowerShell's parser accepts it. The line break changes no position.
        return parser.parse((text + "\n").encode("utf-8"))
    return tree


@functools.lru_cache(maxsize=512)
def check(text: str) -> ParseFailure | None:
    """None when the script parses; otherwise PowerShell's first parse error for it."""
    tree = parse(text)
    source = _Source(text)
    if not tree.root_node.has_error or _only_missing_semicolons(tree.root_node):
        return _missing_catch(tree.root_node, source)
    unterminated = _unterminated_string(text)
    if unterminated is not None:
        offset, quote = unterminated
        return source.failure(
            f"The string is missing the terminator: {quote}.", "TerminatorExpectedAtEndOfString", offset, 1
        )
    problems = [_diagnose(node, source) for node in _problem_nodes(tree.root_node)]
    found = [problem for problem in problems if problem is not None]
    if not found:
        return _fallback(tree.root_node, source)
    return min(found, key=lambda failure: (failure.position.line, failure.position.column))


def _only_missing_semicolons(root: tree_sitter.Node) -> bool:
    """The grammar wants a statement after `[CmdletBinding()] param(...)` and inserts a zero-width ';'
    when there is none; PowerShell requires no semicolon, so that alone is no parse error."""
    found = list(_problem_nodes(root))
    return bool(found) and all(node.is_missing and node.type == ";" for node in found)


class _Source:
    """Byte offsets (tree-sitter) to PowerShell's line/char positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")

    def char_offset(self, byte_offset: int) -> int:
        return len(self.data[:byte_offset].decode("utf-8", errors="replace"))

    def failure(self, message: str, error_id: str, offset: int, width: int) -> ParseFailure:
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        line_end = len(self.text) if line_end < 0 else line_end
        line_text = self.text[line_start:line_end].rstrip("\r")
        position = Position(
            line=self.text.count("\n", 0, offset) + 1,
            column=offset - line_start + 1,
            width=min(width, max(0, len(line_text) - (offset - line_start))),
            line_text=line_text,
        )
        return ParseFailure(message, error_id, position)

    def at_node(self, message: str, error_id: str, node: tree_sitter.Node) -> ParseFailure:
        start = self.char_offset(node.start_byte)
        return self.failure(message, error_id, start, self.char_offset(node.end_byte) - start)

    def after_node(self, message: str, error_id: str, node: tree_sitter.Node) -> ParseFailure:
        return self.failure(message, error_id, self.char_offset(node.end_byte), 0)


def _problem_nodes(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            yield node
            if node.type == "ERROR":
                continue
        if node.has_error:
            stack.extend(reversed(node.children))


def _leaves(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    if node.child_count == 0:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _diagnose(node: tree_sitter.Node, source: _Source) -> ParseFailure | None:
    if node.is_missing:
        return _missing_closer(node.type, node.parent, node, source)
    children = node.children
    if not children:
        return None
    opener = _unmatched_opener(children)
    if opener is not None:
        last = _leaves(node)[-1]
        return _missing_closer(_OPENERS[opener.type], node, last, source, opener)
    last = children[-1]
    if not last.is_named and last.type.lower() in _BINARY_OPERATORS:
        operator = (last.text or b"").decode("utf-8")
        return source.after_node(
            f"You must provide a value expression following the '{operator}' operator.",
            "ExpectedValueExpression",
            last,
        )
    first = children[0]
    if first.type in _CLOSERS or not first.is_named:
        return source.at_node(_unexpected(first), "UnexpectedToken", first)
    if len(children) == 1:
        following = node.next_sibling
        if following is None:
            return source.at_node(_unexpected(first), "UnexpectedToken", first)
        token = _leaves(following)[0]
        return source.at_node(_unexpected(token), "UnexpectedToken", token)
    # A complete expression followed by more: the first thing after it is what PowerShell rejects.
    start = source.char_offset(children[1].start_byte)
    word = _word_at(source.text, start)
    return source.failure(f"Unexpected token '{word}' in expression or statement.", "UnexpectedToken", start, len(word))


def _missing_catch(root: tree_sitter.Node, source: _Source) -> ParseFailure | None:
    """tree-sitter accepts `try { }` alone; PowerShell wants a catch or a finally."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "try_statement" and not any(
            child.type in ("catch_clauses", "catch_clause", "finally_clause") for child in node.children
        ):
            return source.after_node(
                "The Try statement is missing its Catch or Finally block.", "MissingCatchOrFinally", node
            )
        stack.extend(reversed(node.children))
    return None


def _missing_closer(
    closer: str,
    parent: tree_sitter.Node | None,
    last: tree_sitter.Node,
    source: _Source,
    opener: tree_sitter.Node | None = None,
) -> ParseFailure | None:
    if opener is None and parent is not None:
        opener = next((c for c in parent.children if _OPENERS.get(c.type) == closer), None)
    kind = opener.type if opener is not None else closer
    if kind == "@{":
        return source.after_node("The hash literal was incomplete.", "IncompleteHashLiteral", last)
    if closer == "}":
        target = opener if opener is not None else last
        return source.at_node(
            "Missing closing '}' in statement block or type definition.", "MissingEndCurlyBrace", target
        )
    if kind in ("@(", "$("):
        return source.after_node("Missing closing ')' in subexpression.", "MissingEndParenthesisInSubexpression", last)
    if closer == ")":
        return source.after_node("Missing closing ')' in expression.", "MissingEndParenthesisInExpression", last)
    if closer == "]":
        return source.after_node(
            "Missing ] at end of attribute or type literal.", "EndSquareBracketExpectedAtEndOfAttribute", last
        )
    return None


def _unmatched_opener(children: list[tree_sitter.Node]) -> tree_sitter.Node | None:
    open_stack: list[tree_sitter.Node] = []
    for child in children:
        if child.type in _OPENERS:
            open_stack.append(child)
        elif child.type in _CLOSERS and open_stack and _OPENERS[open_stack[-1].type] == child.type:
            open_stack.pop()
    return open_stack[0] if open_stack else None


def _unexpected(token: tree_sitter.Node) -> str:
    text = (token.text or b"").decode("utf-8", errors="replace")
    return f"Unexpected token '{_word_at(text, 0) or text}' in expression or statement."


def _word_at(text: str, start: int) -> str:
    """The token starting at `start`: up to whitespace, keeping a quoted string whole."""
    end = start
    quote = ""
    while end < len(text):
        char = text[end]
        if quote:
            if char == quote:
                quote = ""
        elif char in _SINGLE_QUOTES + _DOUBLE_QUOTES:
            quote = char
        elif char.isspace() or (char in ";" and end > start):
            break
        end += 1
    return text[start:end]


def _fallback(root: tree_sitter.Node, source: _Source) -> ParseFailure:
    """has_error without an ERROR or MISSING node: an empty node stands where something was needed."""
    empty = _first_empty_node(root)
    offset = source.char_offset(empty.start_byte) if empty is not None else 0
    while offset < len(source.text) and source.text[offset].isspace():
        offset += 1
    word = _word_at(source.text, offset) or source.text[offset : offset + 1]
    return source.failure(
        f"Unexpected token '{word}' in expression or statement.", "UnexpectedToken", offset, len(word)
    )


def _first_empty_node(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.start_byte == node.end_byte and node.parent is not None:
        return node
    for child in node.children:
        found = _first_empty_node(child)
        if found is not None:
            return found
    return None


def _unterminated_string(text: str) -> tuple[int, str] | None:
    """Offset and quote of a string literal that runs to the end of the script, if any."""
    scanner = _QuoteScanner(text)
    return scanner.run()


class _QuoteScanner:
    """Just enough of PowerShell's tokenizer to find strings, comments and here-strings."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def run(self) -> tuple[int, str] | None:
        return self._code(closing="")

    def _code(self, closing: str) -> tuple[int, str] | None:
        text = self.text
        depth = 0
        while self.at < len(text):
            char = text[self.at]
            if char == "`":
                self.at += 2
                continue
            if char == "#":
                end = text.find("\n", self.at)
                self.at = len(text) if end < 0 else end
                continue
            if text.startswith("<#", self.at):
                end = text.find("#>", self.at + 2)
                self.at = len(text) if end < 0 else end + 2
                continue
            if text.startswith(("@'", '@"'), self.at) and self._rest_of_line_blank(self.at + 2):
                problem = self._here_string()
            elif char in _SINGLE_QUOTES:
                problem = self._single()
            elif char in _DOUBLE_QUOTES:
                problem = self._double()
            else:
                if closing and char == "(":
                    depth += 1
                elif closing and char == ")":
                    if depth == 0:
                        self.at += 1
                        return None
                    depth -= 1
                self.at += 1
                continue
            if problem is not None:
                return problem
        return None

    def _rest_of_line_blank(self, start: int) -> bool:
        end = self.text.find("\n", start)
        return end >= 0 and not self.text[start:end].strip(" \t\r")

    def _single(self) -> tuple[int, str] | None:
        start, text = self.at, self.text
        self.at += 1
        while self.at < len(text):
            if text[self.at] in _SINGLE_QUOTES:
                if self.at + 1 < len(text) and text[self.at + 1] in _SINGLE_QUOTES:
                    self.at += 2
                    continue
                self.at += 1
                return None
            self.at += 1
        return start, "'"

    def _double(self) -> tuple[int, str] | None:
        start, text = self.at, self.text
        self.at += 1
        while self.at < len(text):
            char = text[self.at]
            if char == "`":
                self.at += 2
                continue
            if text.startswith("$(", self.at):
                self.at += 2
                problem = self._code(closing=")")
                if problem is not None:
                    return problem
                continue
            if char in _DOUBLE_QUOTES:
                if self.at + 1 < len(text) and text[self.at + 1] in _DOUBLE_QUOTES:
                    self.at += 2
                    continue
                self.at += 1
                return None
            self.at += 1
        return start, '"'

    def _here_string(self) -> tuple[int, str] | None:
        start, text = self.at, self.text
        quote = text[self.at + 1]
        terminator = "\n" + quote + "@"
        end = text.find(terminator, self.at)
        if end < 0:
            return start, quote + "@"
        self.at = end + len(terminator)
        return None
