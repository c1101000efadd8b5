"""From tree-sitter's concrete tree to the interpreter's syntax tree (`ast`), cached by script text.

The grammar (tree-sitter-powershell 0.26.4) nests every expression in a chain of precedence
nodes (logical -> bitwise -> comparison -> ... -> unary); single-child links are skipped.
Whatever the grammar can express but this compiler does not know raises `UnsupportedConstruct`
with the construct and its line: nothing is ever ignored silently.

Known gaps of the grammar, worked around here:
- `1..3` where a pipeline starts (`$a = 1..3`, `foreach ($i in 1..3)`) parses as a command
  named "1..3": a command name that is a numeric range becomes the range expression.
- `2>$null` inside a command parses as a bare word: a bare word that is a redirection becomes one.
- A bare-word list `-Name a,b` parses as two tokens "a" and ",b": they become one array argument.
"""

from __future__ import annotations

import functools
import re

import tree_sitter

from simulator.powershell import ast, syntax
from simulator.powershell.errors import UnsupportedConstruct

Ts = tree_sitter.Node

_PASS_THROUGH = {
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "array_literal_expression",
    "unary_expression",
    "logical_argument_expression",
    "bitwise_argument_expression",
    "comparison_argument_expression",
    "additive_argument_expression",
    "multiplicative_argument_expression",
    "format_argument_expression",
    "range_argument_expression",
    "argument_expression",
    "string_literal",
    "integer_literal",
    "left_assignment_expression",
}
_BINARY_NODES = {
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "logical_argument_expression",
    "bitwise_argument_expression",
    "comparison_argument_expression",
    "additive_argument_expression",
    "multiplicative_argument_expression",
    "format_argument_expression",
    "range_argument_expression",
}
_UNSUPPORTED_STATEMENTS = {
    "trap_statement": "the trap statement",
    "data_statement": "the data statement",
    "class_statement": "class definitions",
    "enum_statement": "enum definitions",
    "inlinescript_statement": "inlinescript",
    "parallel_statement": "parallel",
    "sequence_statement": "sequence",
    "pipeline_chain_tail": "pipeline chain operators (&& and ||, PowerShell 7 only)",
    "stop_parsing": "the stop-parsing token --%",
    "invokation_foreach_expression": "the .ForEach{} / .Where{} methods",
}
_RANGE_NAME = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
_REDIRECTION_WORD = re.compile(r"^([1-6*])?(>>?)(.+)$")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class CompiledScript:
    """A script's syntax tree, or the first reason it cannot run."""

    def __init__(
        self,
        block: ast.ScriptBlockNode | None,
        parse_failure: syntax.ParseFailure | None = None,
        unsupported: UnsupportedConstruct | None = None,
    ) -> None:
        self.block = block
        self.parse_failure = parse_failure
        self.unsupported = unsupported


@functools.lru_cache(maxsize=1024)
def compile_script(text: str, name: str = "") -> CompiledScript:
    """Parse and compile a script once per text (the envelope's script, the library, the bootstrap)."""
    failure = syntax.check(text)
    if failure is not None:
        return CompiledScript(None, parse_failure=failure)
    tree = syntax.parse(text)
    compiler = _Compiler(ast.Source(text, name))
    try:
        block = compiler.script(tree.root_node)
    except UnsupportedConstruct as problem:
        return CompiledScript(None, unsupported=problem)
    return CompiledScript(block)


class _Compiler:
    def __init__(self, source: ast.Source) -> None:
        self.source = source
        data = source.text.encode("utf-8")
        self._ascii = len(data) == len(source.text)
        self._data = data
        self._line_starts = [0]
        for index, char in enumerate(source.text):
            if char == "\n":
                self._line_starts.append(index + 1)

    # --- positions -------------------------------------------------------------------------------

    def char(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        return len(self._data[:byte_offset].decode("utf-8", errors="replace"))

    def pos(self, node: Ts) -> ast.Pos:
        start = self.char(node.start_byte)
        end = self.char(node.end_byte)
        line = node.start_point[0] + 1
        column = start - self._line_starts[line - 1] + 1
        return ast.Pos(line, column, start, end)

    def text(self, node: Ts) -> str:
        return (node.text or b"").decode("utf-8")

    def unsupported(self, what: str, node: Ts) -> UnsupportedConstruct:
        return UnsupportedConstruct(what, node.start_point[0] + 1)

    # --- script blocks ---------------------------------------------------------------------------

    def script(self, root: Ts) -> ast.ScriptBlockNode:
        return self.block_body(root, root, self.source.text)

    def block_body(self, owner: Ts, container: Ts | _Children, body_text: str) -> ast.ScriptBlockNode:
        """A script block from the children of `container` (param_block, statements or named blocks)."""
        param_block: ast.ParamBlock | None = None
        statements: list[ast.Node] = []
        named: dict[str, list[ast.Node]] = {}
        for child in self._flatten_block(container):
            kind = child.type
            if kind == "param_block":
                param_block = self.param_block(child)
            elif kind == "statement_list":
                statements.extend(self.statement_list(child))
            elif kind == "named_block_list":
                for block in child.named_children:
                    if block.type == "comment":
                        continue
                    name = self.text(block.children[0]).lower()
                    if name not in ("begin", "process", "end"):
                        raise self.unsupported(f"the {name} block", block)
                    body = next(c for c in block.children if c.type == "statement_block")
                    named[name] = self.statement_block(body).statements
            elif kind in ("comment", "{", "}"):
                continue
            elif kind in _UNSUPPORTED_STATEMENTS:
                raise self.unsupported(_UNSUPPORTED_STATEMENTS[kind], child)
            else:
                statements.extend(self.statement(child))
        node = ast.ScriptBlockNode(
            self.pos(owner),
            self.source,
            param_block,
            named.get("begin"),
            named.get("process"),
            named.get("end") if named else statements,
            body_text,
        )
        if named and statements:
            raise self.unsupported("statements outside the begin/process/end blocks", owner)
        return node

    def _flatten_block(self, container: Ts | _Children) -> list[Ts]:
        out: list[Ts] = []
        for child in container.children:
            if child.type in ("script_block", "script_block_body"):
                out.extend(self._flatten_block(child))
            else:
                out.append(child)
        return out

    def param_block(self, node: Ts) -> ast.ParamBlock:
        attributes: list[ast.AttributeNode] = []
        parameters: list[ast.ParameterNode] = []
        for child in node.children:
            if child.type == "attribute_list":
                attributes.extend(self.attributes(child))
            elif child.type == "attribute":
                attributes.append(self.attribute(child))
            elif child.type == "parameter_list":
                parameters.extend(self.parameter(p) for p in child.named_children if p.type == "script_parameter")
        return ast.ParamBlock(self.pos(node), attributes, parameters)

    def attributes(self, node: Ts) -> list[ast.AttributeNode]:
        return [self.attribute(a) for a in node.named_children if a.type == "attribute"]

    def attribute(self, node: Ts) -> ast.AttributeNode:
        type_literal = next((c for c in node.children if c.type == "type_literal"), None)
        if type_literal is not None and not any(c.type == "(" for c in node.children):
            return ast.AttributeNode(
                self.pos(node), "", [ast.TypeLiteral(self.pos(type_literal), self.type_name(type_literal))], []
            )
        name_node = next(
            (c for c in node.children if c.type in ("attribute_name", "type_name", "type_identifier")), None
        )
        if name_node is None:
            raise self.unsupported(f"the attribute {self.text(node)}", node)
        positional: list[ast.Node] = []
        named: list[tuple[str, ast.Node | None]] = []
        for args in (c for c in node.children if c.type == "attribute_arguments"):
            for argument in args.named_children:
                if argument.type == "comment":
                    continue
                inner = argument
                simple = [c for c in inner.children if c.type == "simple_name"]
                if simple and inner.type == "attribute_argument" and inner.children[0].type == "simple_name":
                    value = inner.children[-1] if len(inner.children) > 1 else None
                    named.append((self.text(simple[0]), None if value is None else self.expression(value)))
                elif inner.type == "simple_name":
                    named.append((self.text(inner), None))
                else:
                    target = inner.children[-1] if inner.type == "attribute_argument" else inner
                    positional.append(self.expression(target))
        return ast.AttributeNode(self.pos(node), self.text(name_node), positional, named)

    def parameter(self, node: Ts) -> ast.ParameterNode:
        variable = next(c for c in node.children if c.type == "variable")
        type_name: str | None = None
        attributes: list[ast.AttributeNode] = []
        for attribute_list in (c for c in node.children if c.type == "attribute_list"):
            for attribute in self.attributes(attribute_list):
                if attribute.name == "" and attribute.positional:
                    literal = attribute.positional[0]
                    assert isinstance(literal, ast.TypeLiteral)
                    type_name = literal.name
                else:
                    attributes.append(attribute)
        default_node = next((c for c in node.children if c.type == "script_parameter_default"), None)
        default = None if default_node is None else self.expression(default_node.children[-1])
        name = self.variable_name(variable)[0]
        return ast.ParameterNode(self.pos(node), name, type_name, attributes, default)

    # --- statements ------------------------------------------------------------------------------

    def statement_list(self, node: Ts) -> list[ast.Node]:
        out: list[ast.Node] = []
        label: str | None = None
        for child in node.children:
            if child.type == "label":
                label = self.text(child)[1:]
                continue
            for statement in self.statement(child):
                if label is not None and isinstance(
                    statement, ast.Foreach | ast.For | ast.While | ast.DoLoop | ast.Switch
                ):
                    statement.label = label
                out.append(statement)
            label = None
        return out

    def statement_block(self, node: Ts) -> ast.Block:
        statements: list[ast.Node] = []
        for child in node.children:
            if child.type == "statement_list":
                statements.extend(self.statement_list(child))
            elif child.type not in ("{", "}", "comment"):
                statements.extend(self.statement(child))
        return ast.Block(self.pos(node), statements)

    def statement(self, node: Ts) -> list[ast.Node]:
        kind = node.type
        if kind in ("empty_statement", "comment", ";"):
            return []
        if kind in _UNSUPPORTED_STATEMENTS:
            raise self.unsupported(_UNSUPPORTED_STATEMENTS[kind], node)
        if kind == "statement_list":
            return self.statement_list(node)
        handler = getattr(self, f"stmt_{kind}", None)
        if handler is None:
            if kind == "ERROR":
                raise self.unsupported(f"the text {self.text(node)[:40]!r}", node)
            return [self.pipeline_statement(node)]
        result = handler(node)
        return result if isinstance(result, list) else [result]

    def pipeline_statement(self, node: Ts) -> ast.Node:
        value = self.pipeline_or_assignment(node)
        if isinstance(value, ast.Assignment):
            return value
        assert isinstance(value, ast.Pipeline)
        return ast.PipelineStatement(value.pos, value)

    def pipeline_or_assignment(self, node: Ts) -> ast.Node:
        while node.type == "pipeline" and node.named_child_count == 1 and node.child_count == 1:
            node = node.children[0]
        if node.type == "assignment_expression":
            return self.assignment(node)
        if node.type == "pipeline_chain":
            return self.pipeline_chain(node)
        if node.type in (
            "if_statement",
            "switch_statement",
            "foreach_statement",
            "for_statement",
            "while_statement",
            "do_statement",
            "try_statement",
        ):
            return self.statement(node)[0]
        if node.type == "pipeline":
            parts = [c for c in node.children if c.type not in ("comment",)]
            if len(parts) == 1:
                return self.pipeline_or_assignment(parts[0])
            raise self.unsupported(f"the pipeline {self.text(node)[:40]!r}", node)
        return ast.Pipeline(self.pos(node), [self.pipeline_element(node)])

    def pipeline_chain(self, node: Ts) -> ast.Pipeline:
        elements: list[ast.Node] = []
        for child in node.children:
            if child.type in ("|", "comment"):
                continue
            if child.type in (
                "redirection",
                "redirections",
                "merging_redirection_operator",
                "file_redirection_operator",
            ):
                names = [n for n in _descendants(child) if n.type == "redirected_file_name"]
                if any(self.text(n).strip().lower() != "$null" for n in names):
                    raise self.unsupported("redirection to a file", child)
                raise self.unsupported("a redirection after an expression", child)
            if child.type in _UNSUPPORTED_STATEMENTS:
                raise self.unsupported(_UNSUPPORTED_STATEMENTS[child.type], child)
            elements.append(self.pipeline_element(child))
        return ast.Pipeline(self.pos(node), elements)

    def pipeline_element(self, node: Ts) -> ast.Node:
        inner = self._unwrap(node)
        if inner.type == "command":
            return self.command(inner)
        if inner.type == "command_name" and _RANGE_NAME.match(self.text(inner)):
            return self.range_from_name(inner)
        if inner.type == "command_name":
            return ast.Command(self.pos(inner), self.text(inner), None, "", [])
        return self.expression(node)

    def range_from_name(self, node: Ts) -> ast.Node:
        match = _RANGE_NAME.match(self.text(node))
        assert match is not None
        pos = self.pos(node)
        return ast.Binary(pos, "..", ast.Constant(pos, int(match.group(1))), ast.Constant(pos, int(match.group(2))))

    def assignment(self, node: Ts) -> ast.Assignment:
        children = node.children
        target = self.expression(children[0])
        operator = next(c for c in children if c.type == "assignement_operator")
        value_node = node.child_by_field_name("value") or children[-1]
        value = self.pipeline_or_assignment(value_node)
        op = self.text(operator).strip()
        if op not in ("=", "+=", "-=", "*=", "/=", "%="):
            raise self.unsupported(f"the assignment operator {op}", operator)
        if not isinstance(target, ast.Variable | ast.Member | ast.Index | ast.Cast | ast.ArrayLiteral):
            raise self.unsupported(f"assignment to {self.text(children[0])!r}", children[0])
        return ast.Assignment(self.pos(node), target, op, value)

    def condition(self, node: Ts) -> ast.Node:
        if node.type in ("for_initializer", "for_condition", "for_iterator") and node.named_child_count == 1:
            node = node.named_children[0]
        if node.type == "while_condition":
            node = next(c for c in node.children if c.type not in ("(", ")", "comment"))
        return self.pipeline_or_assignment(node)

    def stmt_pipeline(self, node: Ts) -> ast.Node:
        return self.pipeline_statement(node)

    def stmt_if_statement(self, node: Ts) -> ast.If:
        clauses: list[tuple[ast.Node, ast.Block]] = []
        otherwise: ast.Block | None = None
        condition = node.child_by_field_name("condition")
        body = next(c for c in node.children if c.type == "statement_block")
        assert condition is not None
        clauses.append((self.condition(condition), self.statement_block(body)))
        for child in node.children:
            if child.type == "elseif_clauses":
                for clause in child.named_children:
                    if clause.type != "elseif_clause":
                        continue
                    cond = clause.child_by_field_name("condition")
                    block = next(c for c in clause.children if c.type == "statement_block")
                    assert cond is not None
                    clauses.append((self.condition(cond), self.statement_block(block)))
            elif child.type == "elseif_clause":
                cond = child.child_by_field_name("condition")
                block = next(c for c in child.children if c.type == "statement_block")
                assert cond is not None
                clauses.append((self.condition(cond), self.statement_block(block)))
            elif child.type == "else_clause":
                otherwise = self.statement_block(next(c for c in child.children if c.type == "statement_block"))
        return ast.If(self.pos(node), clauses, otherwise)

    def stmt_foreach_statement(self, node: Ts) -> ast.Foreach:
        if any(c.type == "foreach_parameter" for c in node.children):
            raise self.unsupported("foreach -parallel", node)
        variable = next(c for c in node.children if c.type == "variable")
        seen_in = False
        iterable: Ts | None = None
        for child in node.children:
            if child.type == "in":
                seen_in = True
            elif seen_in and child.type not in (")", "comment") and iterable is None:
                iterable = child
        body = next(c for c in node.children if c.type == "statement_block")
        assert iterable is not None
        var = self.expression(variable)
        assert isinstance(var, ast.Variable)
        return ast.Foreach(self.pos(node), var, self.condition(iterable), self.statement_block(body))

    def stmt_for_statement(self, node: Ts) -> ast.For:
        init = node.child_by_field_name("for_initializer")
        cond = node.child_by_field_name("for_condition")
        step = node.child_by_field_name("for_iterator")
        body = next(c for c in node.children if c.type == "statement_block")
        return ast.For(
            self.pos(node),
            None if init is None else self.condition(init),
            None if cond is None else self.condition(cond),
            None if step is None else self.condition(step),
            self.statement_block(body),
        )

    def stmt_while_statement(self, node: Ts) -> ast.While:
        cond = node.child_by_field_name("condition")
        body = next(c for c in node.children if c.type == "statement_block")
        assert cond is not None
        return ast.While(self.pos(node), self.condition(cond), self.statement_block(body))

    def stmt_do_statement(self, node: Ts) -> ast.DoLoop:
        cond = node.child_by_field_name("condition")
        body = next(c for c in node.children if c.type == "statement_block")
        until = any(c.type == "until" for c in node.children)
        assert cond is not None
        return ast.DoLoop(self.pos(node), self.statement_block(body), self.condition(cond), until)

    def stmt_switch_statement(self, node: Ts) -> ast.Switch:
        options: set[str] = set()
        subject: ast.Node | None = None
        clauses: list[ast.SwitchClause] = []
        for child in node.children:
            if child.type == "switch_parameters" or child.type == "switch_parameter":
                for option in child.children if child.type == "switch_parameters" else [child]:
                    word = self.text(option).lstrip("-").lower()
                    if word in ("file", "parallel"):
                        raise self.unsupported(f"switch -{word}", option)
                    if word:
                        options.add(word)
            elif child.type == "switch_condition":
                inner = [c for c in child.children if c.type not in ("(", ")")]
                subject = self.condition(inner[0])
            elif child.type == "switch_filename":
                raise self.unsupported("switch -file", child)
            elif child.type == "switch_body":
                for clause in self._switch_clauses(child):
                    condition = clause.children[0]
                    block = self.statement_block(clause.children[-1])
                    if condition.type == "switch_clause_condition" and self.text(condition).lower() == "default":
                        clauses.append(ast.SwitchClause(None, block))
                    else:
                        target = condition
                        if target.type == "switch_clause_condition":
                            if target.named_child_count == 0:
                                clauses.append(
                                    ast.SwitchClause(ast.Constant(self.pos(target), self.text(target)), block)
                                )
                                continue
                            target = target.children[0]
                        clauses.append(ast.SwitchClause(self.expression(target), block))
        assert subject is not None
        return ast.Switch(self.pos(node), frozenset(options), subject, clauses)

    def _switch_clauses(self, body: Ts) -> list[Ts]:
        found: list[Ts] = []
        for child in body.children:
            if child.type == "switch_clause":
                found.append(child)
            elif child.type == "switch_clauses":
                found.extend(c for c in child.children if c.type == "switch_clause")
        return found

    def stmt_try_statement(self, node: Ts) -> ast.Try:
        body = self.statement_block(next(c for c in node.children if c.type == "statement_block"))
        catches: list[ast.Catch] = []
        final: ast.Block | None = None
        for child in node.children:
            clauses = (
                [child]
                if child.type == "catch_clause"
                else ([c for c in child.children if c.type == "catch_clause"] if child.type == "catch_clauses" else [])
            )
            for clause in clauses:
                types: list[str] = []
                for type_list in (c for c in clause.children if c.type == "catch_type_list"):
                    types.extend(self.type_name(t) for t in type_list.children if t.type == "type_literal")
                block = self.statement_block(next(c for c in clause.children if c.type == "statement_block"))
                catches.append(ast.Catch(types, block, self.pos(clause)))
            if child.type == "finally_clause":
                final = self.statement_block(next(c for c in child.children if c.type == "statement_block"))
        return ast.Try(self.pos(node), body, catches, final)

    def stmt_flow_control_statement(self, node: Ts) -> ast.Node:
        keyword = self.text(node.children[0]).lower()
        rest = node.children[1:]
        value = None
        if rest:
            if keyword in ("break", "continue"):
                return (ast.Break if keyword == "break" else ast.Continue)(self.pos(node), self.text(rest[0]))
            value = self.pipeline_or_assignment(rest[0])
        pos = self.pos(node)
        if keyword == "throw":
            return ast.Throw(pos, value)
        if keyword == "return":
            return ast.Return(pos, value)
        if keyword == "exit":
            return ast.Exit(pos, value)
        if keyword == "break":
            return ast.Break(pos)
        if keyword == "continue":
            return ast.Continue(pos)
        raise self.unsupported(f"the {keyword} statement", node)

    def stmt_function_statement(self, node: Ts) -> ast.FunctionDefinition:
        keyword = self.text(node.children[0]).lower()
        if keyword not in ("function", "filter"):
            raise self.unsupported(keyword, node)
        if keyword == "filter":
            raise self.unsupported("filter functions", node)
        name = self.text(next(c for c in node.children if c.type == "function_name"))
        declaration = next((c for c in node.children if c.type == "function_parameter_declaration"), None)
        open_brace = next(i for i, c in enumerate(node.children) if c.type == "{")
        close_brace = max(i for i, c in enumerate(node.children) if c.type == "}")
        inner_start = node.children[open_brace].end_byte
        inner_end = node.children[close_brace].start_byte
        body_text = self._data[inner_start:inner_end].decode("utf-8")
        block = self.block_body(node, _Children(node.children[open_brace + 1 : close_brace]), body_text)
        if declaration is not None:
            if block.param_block is not None:
                raise self.unsupported("a function with both a parameter declaration and param()", node)
            parameters = [
                self.parameter(p)
                for plist in declaration.children
                if plist.type == "parameter_list"
                for p in plist.named_children
                if p.type == "script_parameter"
            ]
            block.param_block = ast.ParamBlock(self.pos(declaration), [], parameters)
        return ast.FunctionDefinition(self.pos(node), name, block)

    # --- commands --------------------------------------------------------------------------------

    def command(self, node: Ts) -> ast.Command:
        invocation = ""
        name: str | None = None
        name_expr: ast.Node | None = None
        elements: list[ast.Node] = []
        redirections: list[ast.Redirection] = []
        for child in node.children:
            kind = child.type
            if kind == "command_invokation_operator":
                invocation = self.text(child).strip()
            elif kind == "command_name":
                name = self.text(child)
                if "$" in name or "`" in name:
                    raise self.unsupported(f"the command name {name!r}", child)
            elif kind == "command_name_expr":
                name_expr = self.command_name_expr(child)
            elif kind == "command_elements":
                self.command_elements(child, elements, redirections)
            elif kind in ("redirections", "redirection"):
                self.redirection_nodes(child, redirections)
            elif kind == "comment":
                continue
            else:
                raise self.unsupported(f"the command part {self.text(child)[:30]!r}", child)
        if name is None and name_expr is None:
            raise self.unsupported(f"the command {self.text(node)[:40]!r}", node)
        return ast.Command(self.pos(node), name, name_expr, invocation, elements, redirections)

    def command_name_expr(self, node: Ts) -> ast.Node:
        inner = node
        while inner.child_count == 1 and inner.type in ("command_name_expr", "path_command_name"):
            inner = inner.children[0]
        if inner.type in ("command_name", "path_command_name_token", "path_command_name"):
            text = self.text(inner)
            if "$" in text:
                raise self.unsupported(f"the command name {text!r}", inner)
            return ast.Constant(self.pos(inner), text)
        return self.expression(inner)

    def command_elements(self, node: Ts, elements: list[ast.Node], redirections: list[ast.Redirection]) -> None:
        children = list(node.children)
        index = 0
        pending: ast.CommandParameter | None = None
        previous_end = -1
        while index < len(children):
            child = children[index]
            index += 1
            kind = child.type
            if kind == "command_argument_sep":
                if self.text(child).strip() == ":" and pending is not None:
                    value_node = children[index]
                    index += 1
                    pending.value = self.argument_value(value_node)
                    pending = None
                continue
            if kind == "comment":
                continue
            pending = None
            if kind == "command_parameter":
                text = self.text(child)
                parameter = ast.CommandParameter(self.pos(child), text[1:].rstrip(":"), None, text)
                if text.endswith(":"):
                    if index < len(children):
                        parameter.value = self.argument_value(children[index])
                        index += 1
                else:
                    pending = parameter
                elements.append(parameter)
            elif kind in ("merging_redirection_operator", "redirection", "redirections"):
                self.redirection_nodes(child, redirections, children, index)
            elif kind == "file_redirection_operator":
                raise self.unsupported("redirection to a file", child)
            elif kind == "generic_token":
                text = self.text(child)
                redirect = _REDIRECTION_WORD.match(text)
                if redirect is not None:
                    target = redirect.group(3)
                    if target.lower() != "$null":
                        raise self.unsupported(f"redirection to a file ({text})", child)
                    redirections.append(
                        ast.Redirection(
                            self.pos(child), redirect.group(1) or "1", "", ast.Constant(self.pos(child), None)
                        )
                    )
                    continue
                if text.startswith(",") and elements and child.start_byte == previous_end:
                    last = elements[-1]
                    assert isinstance(last, ast.CommandArgument)
                    items = last.value.items if isinstance(last.value, ast.ArrayLiteral) else [last.value]
                    for part in text[1:].split(","):
                        items.append(ast.Constant(self.pos(child), part))
                    last.value = ast.ArrayLiteral(last.value.pos, items)
                    previous_end = child.end_byte
                    continue
                if "$" in text or "`" in text or "," in text:
                    raise self.unsupported(f"the bare word {text!r}", child)
                elements.append(
                    ast.CommandArgument(self.pos(child), ast.Constant(self.pos(child), text), bareword=True)
                )
            elif kind in _UNSUPPORTED_STATEMENTS:
                raise self.unsupported(_UNSUPPORTED_STATEMENTS[kind], child)
            elif kind == "argument_list" and elements and child.start_byte == previous_end:
                # `-X $now.AddDays(30)`: the grammar splits the call into a member and its arguments.
                last = elements[-1]
                if not (isinstance(last, ast.CommandArgument) and isinstance(last.value, ast.Member)):
                    raise self.unsupported(f"the argument {self.text(child)!r}", child)
                member = last.value
                arguments = [
                    self.expression(a)
                    for part in child.children
                    if part.type == "argument_expression_list"
                    for a in part.children
                    if a.type not in (",", "comment")
                ]
                last.value = ast.InvokeMember(member.pos, member.target, member.name, arguments, member.static)
            else:
                inner = self._unwrap(child)
                if inner.type == "variable" and self.text(inner).startswith("@"):
                    variable = self.expression(inner)
                    elements.append(ast.CommandArgument(self.pos(child), variable, splat=True))
                elif inner.type == "command_name" and _RANGE_NAME.match(self.text(inner)):
                    elements.append(ast.CommandArgument(self.pos(child), self.range_from_name(inner)))
                else:
                    elements.append(ast.CommandArgument(self.pos(child), self.expression(child)))
            previous_end = child.end_byte

    def argument_value(self, node: Ts) -> ast.Node:
        if node.type == "generic_token":
            return ast.Constant(self.pos(node), self.text(node))
        return self.expression(node)

    def redirection_nodes(
        self, node: Ts, out: list[ast.Redirection], siblings: list[Ts] | None = None, index: int = 0
    ) -> None:
        if node.type == "redirections":
            for child in node.named_children:
                self.redirection_nodes(child, out)
            return
        text = self.text(node).strip()
        merge = re.fullmatch(r"([1-6*])>&([12])", text)
        if merge is not None:
            out.append(ast.Redirection(self.pos(node), merge.group(1), merge.group(2)))
            return
        if node.type == "redirection":
            operator = next((c for c in node.children if c.type == "file_redirection_operator"), None)
            target = next((c for c in node.children if c.type == "redirected_file_name"), None)
            found = re.fullmatch(r"([1-6*])?(>>?)", self.text(operator).strip()) if operator is not None else None
            if found is not None and target is not None and self.text(target).strip().lower() == "$null":
                stream = found.group(1) or "1"
                out.append(ast.Redirection(self.pos(node), stream, "", ast.Constant(self.pos(target), None)))
                return
            raise self.unsupported("redirection to a file", node)
        raise self.unsupported(f"the redirection {text}", node)

    # --- expressions -----------------------------------------------------------------------------

    def _unwrap(self, node: Ts) -> Ts:
        while node.type in _PASS_THROUGH and node.child_count == 1:
            node = node.children[0]
        return node

    def expression(self, node: Ts) -> ast.Node:
        node = self._unwrap(node)
        kind = node.type
        handler = getattr(self, f"expr_{kind}", None)
        if handler is not None:
            result: ast.Node = handler(node)
            return result
        if kind in _BINARY_NODES:
            return self.binary(node)
        if kind in _UNSUPPORTED_STATEMENTS:
            raise self.unsupported(_UNSUPPORTED_STATEMENTS[kind], node)
        if kind in (
            "pipeline",
            "pipeline_chain",
            "command",
            "assignment_expression",
            "if_statement",
            "switch_statement",
            "foreach_statement",
            "for_statement",
            "while_statement",
            "do_statement",
            "try_statement",
        ):
            # A statement where PowerShell wants a value (a hash entry's value, a parameter default).
            statement = self.pipeline_or_assignment(node)
            return ast.Paren(statement.pos, statement)
        if kind == "command_name" and _RANGE_NAME.match(self.text(node)):
            return self.range_from_name(node)
        raise self.unsupported(f"the expression {self.text(node)[:40]!r} ({kind})", node)

    def binary(self, node: Ts) -> ast.Node:
        children = [c for c in node.children if c.type != "comment"]
        if len(children) != 3:
            raise self.unsupported(f"the expression {self.text(node)[:40]!r}", node)
        left, operator, right = children
        op = self.text(operator).strip().lower()
        if op.startswith("-i") and op not in ("-in", "-is", "-isnot"):
            op = "-" + op[2:]  # -ieq is -eq
        return ast.Binary(self.pos(node), op, self.expression(left), self.expression(right))

    def expr_array_literal_expression(self, node: Ts) -> ast.Node:
        items = [self.expression(c) for c in node.children if c.type not in (",", "comment")]
        return ast.ArrayLiteral(self.pos(node), items)

    def expr_expression_with_unary_operator(self, node: Ts) -> ast.Node:
        first = node.children[0]
        if first.type == "cast_expression":
            return self.expression(first)
        op = self.text(first).strip().lower()
        operand = self.expression(node.children[-1])
        if op not in ("-not", "!", "-", "+", "-bnot", ",", "-split", "-join", "++", "--"):
            raise self.unsupported(f"the unary operator {op}", node)
        if op in ("-", "+") and isinstance(operand, ast.Constant) and isinstance(operand.value, int | float):
            value = operand.value
            return ast.Constant(self.pos(node), -value if op == "-" else value)
        return ast.Unary(self.pos(node), op, operand)

    def expr_pre_increment_expression(self, node: Ts) -> ast.Node:
        return ast.Unary(self.pos(node), "++", self.expression(node.children[-1]))

    def expr_pre_decrement_expression(self, node: Ts) -> ast.Node:
        return ast.Unary(self.pos(node), "--", self.expression(node.children[-1]))

    def expr_post_increment_expression(self, node: Ts) -> ast.Node:
        return ast.Unary(self.pos(node), "post++", self.expression(node.children[0]))

    def expr_post_decrement_expression(self, node: Ts) -> ast.Node:
        return ast.Unary(self.pos(node), "post--", self.expression(node.children[0]))

    def expr_cast_expression(self, node: Ts) -> ast.Node:
        type_literal = node.children[0]
        operand = self.expression(node.children[-1])
        return ast.Cast(self.pos(node), self.type_name(type_literal), operand)

    def expr_type_literal(self, node: Ts) -> ast.Node:
        return ast.TypeLiteral(self.pos(node), self.type_name(node))

    def type_name(self, node: Ts) -> str:
        text = self.text(node).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return "".join(text.split())

    def variable_name(self, node: Ts) -> tuple[str, str, bool]:
        text = self.text(node)
        splat = text.startswith("@")
        body = text[1:]
        if body.startswith("{") and body.endswith("}"):
            body = body[1:-1]
        scope = ""
        if ":" in body:
            head, tail = body.split(":", 1)
            if head.lower() in ("script", "global", "local", "private", "env", "variable", "using", "function"):
                scope, body = head.lower(), tail
            elif head:
                raise self.unsupported(f"the drive-qualified variable ${{{head}:...}}", node)
        return body, scope, splat

    def expr_variable(self, node: Ts) -> ast.Node:
        name, scope, splat = self.variable_name(node)
        if scope in ("using", "function"):
            raise self.unsupported(f"${scope}: variables", node)
        return ast.Variable(self.pos(node), name, scope, splat)

    def expr_decimal_integer_literal(self, node: Ts) -> ast.Node:
        return ast.Constant(self.pos(node), self.number(self.text(node), node))

    def expr_hexadecimal_integer_literal(self, node: Ts) -> ast.Node:
        return ast.Constant(self.pos(node), self.number(self.text(node), node))

    def number(self, text: str, node: Ts) -> int | float:
        lower = text.lower()
        multiplier = 1
        for suffix, factor in (("kb", 1024), ("mb", 1024**2), ("gb", 1024**3), ("tb", 1024**4), ("pb", 1024**5)):
            if lower.endswith(suffix):
                multiplier, lower = factor, lower[: -len(suffix)]
                break
        long = lower.endswith("l")
        if long:
            lower = lower[:-1]
        try:
            if lower.startswith("0x"):
                value = int(lower, 16)
                if not long and 2**31 <= value < 2**32:
                    value -= 2**32  # 0xFFFFFFFF is Int32 -1
            else:
                value = int(lower)
        except ValueError:
            raise self.unsupported(f"the number literal {text}", node) from None
        result = value * multiplier
        return result

    def expr_real_literal(self, node: Ts) -> ast.Node:
        text = self.text(node).lower()
        if text.endswith("d"):
            raise self.unsupported("decimal literals (d suffix)", node)
        return ast.Constant(self.pos(node), float(text))

    def expr_verbatim_string_characters(self, node: Ts) -> ast.Node:
        text = self.text(node)
        body = text[1:-1]
        for quote in "'\u2018\u2019\u201a\u201b":
            body = body.replace(quote + quote, quote) if quote == "'" else body
        return ast.Constant(self.pos(node), body.replace("''", "'"))

    def expr_verbatim_here_string_characters(self, node: Ts) -> ast.Node:
        return ast.Constant(self.pos(node), self._here_body(self.text(node)))

    def _here_body(self, text: str) -> str:
        # @'<newline>body<newline>'@ : the body excludes both line breaks.
        first = text.index("\n") + 1
        last = text.rindex("\n")
        body = text[first:last] if last >= first else ""
        if body.endswith("\r"):
            body = body[:-1]
        return body.replace("\r\n", "\n")

    def expr_expandable_string_literal(self, node: Ts) -> ast.Node:
        return self.expandable(node, node.start_byte + 1, node.end_byte - 1, here=False)

    def expr_expandable_here_string_literal(self, node: Ts) -> ast.Node:
        text = self._data[node.start_byte : node.end_byte].decode("utf-8")
        first = text.index("\n") + 1
        last = text.rindex("\n")
        if last > 0 and text[last - 1] == "\r":
            last -= 1
        start = node.start_byte + len(text[:first].encode("utf-8"))
        end = node.start_byte + len(text[:last].encode("utf-8"))
        return self.expandable(node, start, max(start, end), here=True)

    def expandable(self, node: Ts, start: int, end: int, here: bool) -> ast.Node:
        parts: list[str | ast.Node] = []
        cursor = start
        for child in node.named_children:
            if child.start_byte < start or child.end_byte > end:
                continue
            if child.start_byte > cursor:
                parts.append(self.unescape(self._data[cursor : child.start_byte].decode("utf-8"), here))
            if child.type == "variable":
                parts.append(self.expr_variable(child))
            elif child.type == "sub_expression":
                parts.append(self.expr_sub_expression(child))
            else:
                raise self.unsupported(f"{child.type} inside a string", child)
            cursor = child.end_byte
        if cursor < end:
            parts.append(self.unescape(self._data[cursor:end].decode("utf-8"), here))
        merged: list[str | ast.Node] = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + part
            elif part != "":
                merged.append(part)
        if all(isinstance(p, str) for p in merged):
            return ast.Constant(self.pos(node), "".join(p for p in merged if isinstance(p, str)))
        return ast.ExpandableString(self.pos(node), merged)

    def unescape(self, text: str, here: bool) -> str:
        out: list[str] = []
        index = 0
        if here:
            text = text.replace("\r\n", "\n")
        while index < len(text):
            char = text[index]
            if char == "`" and index + 1 < len(text):
                following = text[index + 1]
                out.append(_ESCAPES.get(following, following))
                index += 2
                continue
            if (
                not here
                and char in '"\u201c\u201d\u201e'
                and index + 1 < len(text)
                and text[index + 1] in '"\u201c\u201d\u201e'
            ):
                out.append(char)
                index += 2
                continue
            out.append(char)
            index += 1
        return "".join(out)

    def expr_sub_expression(self, node: Ts) -> ast.Node:
        return ast.SubExpr(self.pos(node), self.inner_statements(node))

    def expr_array_expression(self, node: Ts) -> ast.Node:
        return ast.ArrayExpr(self.pos(node), self.inner_statements(node))

    def inner_statements(self, node: Ts) -> list[ast.Node]:
        out: list[ast.Node] = []
        for child in node.children:
            if child.type in ("$(", "@(", "(", ")", "comment"):
                continue
            out.extend(self.statement(child))
        return out

    def expr_parenthesized_expression(self, node: Ts) -> ast.Node:
        inner = [c for c in node.children if c.type not in ("(", ")", "comment")]
        if len(inner) != 1:
            raise self.unsupported(f"the expression {self.text(node)[:40]!r}", node)
        statement = self.pipeline_or_assignment(inner[0])
        return ast.Paren(self.pos(node), statement)

    def expr_hash_literal_expression(self, node: Ts) -> ast.Node:
        entries: list[tuple[ast.Node, ast.Node]] = []
        for body in (c for c in node.children if c.type == "hash_literal_body"):
            for entry in body.children:
                if entry.type != "hash_entry":
                    continue
                parts = [c for c in entry.children if c.type not in ("=", ";", "comment")]
                key_node, value_node = parts[0], parts[-1]
                entries.append((self.hash_key(key_node), self.hash_value(value_node)))
        return ast.HashLiteral(self.pos(node), entries)

    def hash_key(self, node: Ts) -> ast.Node:
        inner = self._unwrap(node)
        if inner.type == "key_expression":
            inner = self._unwrap(inner.children[0]) if inner.child_count == 1 else inner
        if inner.type == "simple_name":
            return ast.Constant(self.pos(inner), self.text(inner))
        return self.expression(inner)

    def hash_value(self, node: Ts) -> ast.Node:
        if node.type in ("if_statement", "switch_statement", "foreach_statement", "pipeline", "assignment_expression"):
            statement = self.pipeline_or_assignment(node)
            return statement
        return ast.Pipeline(self.pos(node), [self.pipeline_element(node)])

    def expr_script_block_expression(self, node: Ts) -> ast.Node:
        open_brace = next(i for i, c in enumerate(node.children) if c.type == "{")
        close_brace = max(i for i, c in enumerate(node.children) if c.type == "}")
        inner_start = node.children[open_brace].end_byte
        inner_end = node.children[close_brace].start_byte
        body_text = self._data[inner_start:inner_end].decode("utf-8")
        block = self.block_body(node, _Children(node.children[open_brace + 1 : close_brace]), body_text)
        return ast.ScriptBlockExpr(self.pos(node), block)

    def member_name(self, node: Ts) -> str | ast.Node:
        inner = node
        while inner.type == "member_name" and inner.child_count == 1:
            inner = inner.children[0]
        if inner.type == "simple_name":
            return self.text(inner)
        if inner.type == "member_name":
            raise self.unsupported(f"the member name {self.text(node)!r}", node)
        return self.expression(inner)

    def expr_member_access(self, node: Ts) -> ast.Node:
        children = node.children
        target = self.expression(children[0])
        operator = self.text(children[1])
        name = self.member_name(children[2])
        if operator not in (".", "::"):
            raise self.unsupported(f"the member operator {operator}", node)
        return ast.Member(self.pos(node), target, name, static=operator == "::")

    def expr_invokation_expression(self, node: Ts) -> ast.Node:
        children = node.children
        target = self.expression(children[0])
        operator = self.text(children[1])
        name = self.member_name(children[2])
        arguments: list[ast.Node] = []
        argument_list = children[3] if len(children) > 3 else None
        if argument_list is None or argument_list.type != "argument_list":
            raise self.unsupported(f"the method call {self.text(node)[:40]!r}", node)
        for part in argument_list.children:
            if part.type == "argument_expression_list":
                arguments.extend(self.expression(a) for a in part.children if a.type not in (",", "comment"))
        return ast.InvokeMember(self.pos(node), target, name, arguments, static=operator == "::")

    def expr_element_access(self, node: Ts) -> ast.Node:
        children = [c for c in node.children if c.type not in ("[", "]")]
        return ast.Index(self.pos(node), self.expression(children[0]), self.expression(children[1]))

    def expr_braced_variable(self, node: Ts) -> ast.Node:
        return self.expr_variable(node)

    def expr_command_name(self, node: Ts) -> ast.Node:
        if _RANGE_NAME.match(self.text(node)):
            return self.range_from_name(node)
        return ast.Paren(
            self.pos(node), ast.Pipeline(self.pos(node), [ast.Command(self.pos(node), self.text(node), None, "", [])])
        )


def _descendants(node: Ts) -> list[Ts]:
    found = [node]
    for child in node.children:
        found.extend(_descendants(child))
    return found


class _Children:
    """A slice of a node's children, posing as a container for `block_body`."""

    def __init__(self, children: list[Ts]) -> None:
        self.children = children
