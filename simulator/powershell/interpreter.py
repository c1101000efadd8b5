"""The evaluator: scopes, statements, pipelines, functions and the error model of Windows PowerShell 5.1.

One `Interpreter` is one runspace on one machine: its global scope, its commands, its `$Error`.
Statements write to the pipeline that runs them (`emit`); an expression statement writes its value,
an array unrolled. Commands run as processors (begin / process per pipeline object / end), streamed
from left to right.

Terminating errors are `PSTerminatingError`s. One marked `statement_only` (a cmdlet's
ThrowTerminatingError, a binding failure, a runtime error such as a failed method call) ends its
statement only, when no try/catch is active and $ErrorActionPreference is not Stop: PowerShell
writes it and goes on with the next statement; `throw` ends the script (about_Error_Handling,
about_Try_Catch_Finally, about_Preference_Variables, 5.1).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.powershell import ast
from simulator.powershell import operators as ops
from simulator.powershell import values as v
from simulator.powershell.binder import (
    ABSENT,
    ALL_SETS,
    Binder,
    BindingError,
    BoundCall,
    CommandSignature,
    NamedArgument,
    ParameterSpec,
    PositionalArgument,
    SetMembership,
)
from simulator.powershell.compiler import compile_script
from simulator.powershell.errors import (
    BreakSignal,
    ContinueSignal,
    ErrorRecord,
    ExitSignal,
    InvocationInfo,
    NetException,
    PSTerminatingError,
    ReturnSignal,
    StopUpstream,
    UnsupportedConstruct,
    make_record,
)
from simulator.powershell.members import Members
from simulator.powershell.types import (
    ConversionError,
    PSType,
    TypeValue,
    convert_with,
    enumerate_items,
    is_true,
    lineage_of,
    to_integer,
    to_string,
    type_name,
)

if TYPE_CHECKING:
    from simulator.powershell.cmdlets import CommandDefinition
    from simulator.powershell.machine import Console, Machine

Emit = Callable[[object], None]

PREFERENCES = ("SilentlyContinue", "Stop", "Continue", "Inquire", "Ignore", "Suspend")


class VariableSlot:
    __slots__ = ("name", "type", "value")

    def __init__(self, name: str, value: object, pstype: PSType | None = None) -> None:
        self.name = name
        self.value = value
        self.type = pstype


class Scope:
    __slots__ = ("functions", "is_script", "parent", "strict", "variables")

    def __init__(self, parent: Scope | None, is_script: bool = False) -> None:
        self.parent = parent
        self.variables: dict[str, VariableSlot] = {}
        self.functions: dict[str, FunctionInfo] = {}
        self.strict: int | None = None
        self.is_script = is_script


@dataclass
class FunctionInfo:
    name: str
    block: ast.ScriptBlockNode


class VariableReference(v.PSReference):
    """[ref]$x: a reference to the variable itself."""

    def __init__(self, interpreter: Interpreter, node: ast.Variable) -> None:
        super().__init__(None)
        self._interp = interpreter
        self._node = node

    @property  # type: ignore[override]
    def value(self) -> object:
        return self._interp.get_variable(self._node.name, self._node.scope, strict=False)

    @value.setter
    def value(self, new: object) -> None:
        if hasattr(self, "_interp"):
            self._interp.set_variable(self._node.name, new, self._node.scope)


@dataclass
class Streams:
    """Where the streams other than output go: records for the host (powershell.exe prints them)."""

    errors: list[ErrorRecord] = field(default_factory=list)
    host_lines: list[tuple[str, str]] = field(default_factory=list)  # (stream, text)

    def write(self, stream: str, text: str) -> None:
        self.host_lines.append((stream, text))


@dataclass
class CommandContext:
    """What a running command knows about its invocation."""

    name: str
    node: ast.Command | None
    call: BoundCall | None
    error_action: str | None = None  # -ErrorAction, when given
    warning_action: str | None = None
    error_variable: list[object] | None = None
    warning_variable: list[object] | None = None
    line: int = 0
    source: ast.Source | None = None

    def invocation_info(self) -> InvocationInfo:
        line_text = self.source.line_text(self.line) if self.source is not None and self.line else ""
        column = self.node.pos.column if self.node is not None else 0
        script_name = self.source.name if self.source is not None else ""
        return InvocationInfo(self.name, self.line, column, line_text, script_name)


class Interpreter:
    """One runspace: scopes, commands and the machine they run on."""

    def __init__(self, machine: Machine, console: Console | None = None, non_interactive: bool = True) -> None:
        from simulator.powershell import session_setup
        from simulator.powershell.machine import BufferConsole

        self.machine = machine
        self.console: Console = console if console is not None else BufferConsole()
        self.non_interactive = non_interactive
        self.global_scope = Scope(None)
        self.scope = self.global_scope
        self.try_depth = 0
        self.members = Members(self)
        self.streams = Streams()
        self.error_list: list[object] = []
        self.commands: dict[str, CommandDefinition] = {}
        self.aliases: dict[str, str] = {}
        self._source_stack: list[ast.Source] = []
        self._error_sinks: list[Callable[[ErrorRecord], None] | None] = []
        self._context_stack: list[CommandContext] = []
        self.loaded_assemblies: set[str] = set()
        self.gated_types: dict[str, list[PSType]] = {}
        self.location = "C:\\"
        self.function_stack: list[str] = []
        self.last_statement_ok = True  # $? after the last statement: powershell.exe -Command's exit code
        self.types = session_setup.type_registry(self)
        session_setup.initialize(self)

    def load_assembly_name(self, name: str) -> bool:
        from simulator.powershell import session_setup

        return session_setup.load_assembly_name(self, name)

    def function_name(self) -> str:
        """The innermost function running (qualifies Write-Error's error id)."""
        return self.function_stack[-1] if self.function_stack else ""

    # --- scopes and variables --------------------------------------------------------------------

    @contextlib.contextmanager
    def new_scope(self) -> Iterator[Scope]:
        saved = self.scope
        self.scope = Scope(saved)
        try:
            yield self.scope
        finally:
            self.scope = saved

    def strict_version(self) -> int:
        scope: Scope | None = self.scope
        while scope is not None:
            if scope.strict is not None:
                return scope.strict
            scope = scope.parent
        return 0

    def _find_slot(self, lower: str, qualifier: str = "") -> VariableSlot | None:
        if qualifier == "global":
            return self.global_scope.variables.get(lower)
        if qualifier == "script":
            return self._script_scope().variables.get(lower)
        if qualifier in ("local", "private"):
            return self.scope.variables.get(lower)
        scope: Scope | None = self.scope
        while scope is not None:
            slot = scope.variables.get(lower)
            if slot is not None:
                return slot
            scope = scope.parent
        return None

    def _script_scope(self) -> Scope:
        scope = self.scope
        while scope.parent is not None and not scope.is_script:
            scope = scope.parent
        return scope

    def get_variable(self, name: str, qualifier: str = "", strict: bool = True) -> object:
        lower = name.lower()
        if qualifier == "" and lower in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[lower]
        if qualifier == "env":
            return self.machine.environment().get(name)
        if qualifier == "variable":
            qualifier = ""
        slot = self._find_slot(lower, qualifier)
        if slot is not None:
            return slot.value
        if strict and self.strict_version() >= 1:
            # ParserStrings.VariableIsUndefined
            raise PSTerminatingError(
                make_record(
                    "System.Management.Automation.RuntimeException",
                    f"The variable '${name}' cannot be retrieved because it has not been set.",
                    "VariableIsUndefined",
                    "InvalidOperation",
                    target=name,
                ),
                statement_only=True,
            )
        return None

    def has_variable(self, name: str) -> bool:
        return self._find_slot(name.lower()) is not None

    def set_variable(self, name: str, value: object, qualifier: str = "", pstype: PSType | None = None) -> None:
        if value is v.AUTOMATION_NULL:
            value = None
        lower = name.lower()
        if qualifier == "" and lower in ("true", "false", "null"):
            if lower == "null":
                return  # $null = ... discards
            raise PSTerminatingError(
                make_record(
                    "System.Management.Automation.SessionStateUnauthorizedAccessException",
                    f"Cannot overwrite variable {name} because it is read-only or constant.",
                    "VariableNotWritable",
                    "WriteError",
                    target=name,
                ),
                statement_only=True,
            )
        if qualifier == "env":
            environment = self.machine.environment()
            if value is None or value == "":
                environment.pop(name, None)
            else:
                environment[name] = to_string(value)
            return
        if qualifier == "global":
            target = self.global_scope
        elif qualifier == "script":
            target = self._script_scope()
        elif qualifier in ("local", "private", "variable", ""):
            target = self.scope
        else:
            target = self.scope
        slot = target.variables.get(lower)
        if slot is None:
            if qualifier in ("", "variable"):
                # Assignment creates the variable in the current scope; an existing one higher up is shadowed.
                pass
            target.variables[lower] = VariableSlot(name, self._constrained(value, pstype), pstype)
            return
        if pstype is not None:
            slot.type = pstype
        slot.value = self._constrained(value, slot.type)

    def _constrained(self, value: object, pstype: PSType | None) -> object:
        if pstype is None:
            return value
        try:
            return convert_with(pstype, value)
        except ConversionError as problem:
            raise problem.terminating() from None

    def set_local(self, name: str, value: object) -> None:
        self.scope.variables[name.lower()] = VariableSlot(name, value)

    # --- running scripts -------------------------------------------------------------------------

    def run_text(self, text: str, name: str = "") -> list[object]:
        """Run script text in the global scope (powershell.exe -Command); raises what it raises."""
        compiled = compile_script(text, name)
        if compiled.block is None:
            raise self.compile_problem(compiled)
        output: list[object] = []
        self.run_block_here(compiled.block, output.append)
        return output

    def compile_problem(self, compiled: Any) -> PSTerminatingError:
        if compiled.parse_failure is not None:
            failure = compiled.parse_failure
            record = make_record(
                "System.Management.Automation.ParseException",
                failure.message,
                failure.error_id,
                "ParserError",
            )
            record.invocation_info = InvocationInfo(
                "", failure.position.line, failure.position.column, failure.position.line_text
            )
            return PSTerminatingError(record)
        problem: UnsupportedConstruct = compiled.unsupported
        return self.unsupported_error(problem)

    def unsupported_error(self, problem: UnsupportedConstruct) -> PSTerminatingError:
        record = make_record(
            "System.Management.Automation.RuntimeException",
            str(problem),
            "SimulatorUnsupportedConstruct",
            "NotImplemented",
        )
        record.invocation_info = InvocationInfo("", problem.line)
        return PSTerminatingError(record)

    def run_block_here(self, block: ast.ScriptBlockNode, emit: Emit) -> None:
        """Run a script block's statements in the current scope (dot-sourcing / -Command)."""
        self._source_stack.append(block.source)
        try:
            self._define_functions(block)
            for part in (block.begin, block.process, block.end):
                if part is not None:
                    self.exec_statements(part, emit)
        finally:
            self._source_stack.pop()

    def _define_functions(self, block: ast.ScriptBlockNode) -> None:
        # PowerShell defines a script's functions as their statements run; nothing here.
        return

    @property
    def source(self) -> ast.Source | None:
        return self._source_stack[-1] if self._source_stack else None

    # --- statements ------------------------------------------------------------------------------

    def exec_statements(self, statements: list[ast.Node], emit: Emit) -> None:
        for statement in statements:
            errors_before = len(self.error_list)
            try:
                self.exec_statement(statement, emit)
                self.last_statement_ok = len(self.error_list) == errors_before
            except PSTerminatingError as error:
                self.last_statement_ok = False
                self._locate(error, statement)
                if self.try_depth > 0:
                    raise
                # The statement-level handler (about_Error_Handling, 5.1): $ErrorActionPreference, not
                # -ErrorAction, decides. SilentlyContinue/Ignore suppress even a script-terminating error
                # (throw); Stop makes a statement-terminating one script-terminating; otherwise a
                # statement-terminating error is written and the next statement runs.
                preference = self.preference("ErrorActionPreference")
                if preference in ("SilentlyContinue", "Ignore"):
                    self.error_list.insert(0, error.record)
                    continue
                if not error.statement_only:
                    raise
                if preference == "Stop":
                    error.statement_only = False
                    raise
                self.report_error(error.record, preference, terminating=True)

    def _locate(self, error: PSTerminatingError, node: ast.Node) -> None:
        info = error.record.invocation_info
        if info.script_line_number == 0 and self.source is not None:
            info.script_line_number = node.pos.line
            info.offset_in_line = node.pos.column
            info.line = self.source.line_text(node.pos.line)
            info.script_name = self.source.name

    def preference(self, name: str) -> str:
        value = self.get_variable(name, strict=False)
        text = to_string(value)
        for choice in PREFERENCES:
            if choice.lower() == text.lower():
                return choice
        if isinstance(value, v.EnumValue):
            return str(value)
        return "Continue"

    def report_error(self, record: ErrorRecord, preference: str, terminating: bool = False) -> None:
        """An error that did not stop anything: $Error, then the error stream (or its redirection)."""
        if preference == "Ignore":
            return
        self.error_list.insert(0, record)
        if preference == "SilentlyContinue":
            return
        sink = self._error_sinks[-1] if self._error_sinks else None
        if sink is not None:
            sink(record)
            return
        self.streams.errors.append(record)

    def exec_statement(self, node: ast.Node, emit: Emit) -> None:
        kind = type(node)
        if kind is ast.PipelineStatement:
            elements = node.pipeline.elements  # type: ignore[attr-defined]
            if len(elements) == 1 and isinstance(elements[0], ast.Unary) and elements[0].op in _STEPS:
                self.eval(elements[0])  # $i++ as a statement writes nothing
                return
            self.run_pipeline(node.pipeline, emit)  # type: ignore[attr-defined]
        elif kind is ast.Assignment:
            self.assign(node)  # type: ignore[arg-type]
        elif kind is ast.If:
            self.exec_if(node, emit)  # type: ignore[arg-type]
        elif kind is ast.Try:
            self.exec_try(node, emit)  # type: ignore[arg-type]
        elif kind is ast.Foreach:
            self.exec_foreach(node, emit)  # type: ignore[arg-type]
        elif kind is ast.Return:
            if node.value is not None:  # type: ignore[attr-defined]
                self.exec_value_statement(node.value, emit)  # type: ignore[attr-defined]
            raise ReturnSignal()
        elif kind is ast.Throw:
            raise self.throw_error(node)  # type: ignore[arg-type]
        elif kind is ast.FunctionDefinition:
            self.scope.functions[node.name.lower()] = FunctionInfo(node.name, node.body)  # type: ignore[attr-defined]
        elif kind is ast.Exit:
            code = 0
            if node.value is not None:  # type: ignore[attr-defined]
                value = self.statement_value(node.value)  # type: ignore[attr-defined]
                code = to_integer(value) if value is not None else 0
            raise ExitSignal(code)
        elif kind is ast.For:
            self.exec_for(node, emit)  # type: ignore[arg-type]
        elif kind is ast.While:
            self.exec_while(node, emit)  # type: ignore[arg-type]
        elif kind is ast.DoLoop:
            self.exec_do(node, emit)  # type: ignore[arg-type]
        elif kind is ast.Switch:
            self.exec_switch(node, emit)  # type: ignore[arg-type]
        elif kind is ast.Break:
            raise BreakSignal(node.label)  # type: ignore[attr-defined]
        elif kind is ast.Continue:
            raise ContinueSignal(node.label)  # type: ignore[attr-defined]
        elif kind is ast.Block:
            self.exec_statements(node.statements, emit)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Pipeline):
            self.run_pipeline(node, emit)
        else:
            raise self.unsupported_error(UnsupportedConstruct(type(node).__name__, node.pos.line))

    def exec_value_statement(self, node: ast.Node, emit: Emit) -> None:
        """A statement in a value position that writes its output (return, a hash value)."""
        if isinstance(node, ast.Pipeline):
            self.run_pipeline(node, emit)
        elif isinstance(node, ast.Assignment):
            self.assign(node)
        else:
            self.exec_statement(node, emit)

    def statement_value(self, node: ast.Node) -> object:
        """The value of a statement used as an expression: its output, 0 / 1 / many items."""
        if isinstance(node, ast.Pipeline) and len(node.elements) == 1 and not isinstance(node.elements[0], ast.Command):
            return self.eval(node.elements[0])
        if isinstance(node, ast.Assignment):
            self.assign(node)
            return self.eval(node.target) if not isinstance(node.target, ast.ArrayLiteral) else None
        output: list[object] = []
        self.exec_value_statement(node, output.append)
        return collapse(output)

    def throw_error(self, node: ast.Throw) -> PSTerminatingError:
        value = None if node.value is None else self.statement_value(node.value)
        if value is v.AUTOMATION_NULL:
            value = None
        if isinstance(value, ErrorRecord):
            record = value
            error = PSTerminatingError(record)
        elif isinstance(value, NetException):
            record = ErrorRecord(value, value.Message, target_object=None)
            record.category_info.category = "OperationStopped"
            record.category_info.reason = value.type_name.rsplit(".", 1)[-1]
            error = PSTerminatingError(record)
        else:
            message = "ScriptHalted" if value is None else to_string(value)
            record = make_record(
                "System.Management.Automation.RuntimeException",
                message,
                message,
                "OperationStopped",
                target=value,
            )
            record.exception.extra["_thrown"] = True
            error = PSTerminatingError(record)
        self._locate(error, node)
        return error

    def exec_if(self, node: ast.If, emit: Emit) -> None:
        for condition, body in node.clauses:
            if is_true(self.statement_value(condition)):
                self.exec_statements(body.statements, emit)
                return
        if node.otherwise is not None:
            self.exec_statements(node.otherwise.statements, emit)

    def exec_try(self, node: ast.Try, emit: Emit) -> None:
        try:
            self.try_depth += 1
            try:
                self.exec_statements(node.body.statements, emit)
            finally:
                self.try_depth -= 1
        except PSTerminatingError as error:
            handler = self._catch_for(node, error.record)
            if handler is None:
                if node.final is not None:
                    self.exec_statements(node.final.statements, emit)
                raise
            try:
                saved = self._find_slot("_")
                self.set_local("_", error.record)
                self.set_local("PSItem", error.record)
                try:
                    self.exec_statements(handler.body.statements, emit)
                finally:
                    if saved is not None:
                        self.scope.variables["_"] = saved
            finally:
                if node.final is not None:
                    self.exec_statements(node.final.statements, emit)
            return
        except BaseException:
            if node.final is not None:
                self.exec_statements(node.final.statements, emit)
            raise
        if node.final is not None:
            self.exec_statements(node.final.statements, emit)

    def _catch_for(self, node: ast.Try, record: ErrorRecord) -> ast.Catch | None:
        lineage = [name.lower() for name in lineage_of(record.exception)]
        for clause in node.catches:
            if not clause.type_names:
                return clause
            for written in clause.type_names:
                pstype = self.resolve_type(written, clause.pos.line)
                if pstype.full_name.lower() in lineage:
                    return clause
        return None

    def _loop_body(self, body: ast.Block, emit: Emit, label: str | None) -> str:
        """Run a loop body once: "next", "break" or "continue"."""
        try:
            self.exec_statements(body.statements, emit)
        except BreakSignal as signal:
            if signal.label is None or (label is not None and signal.label.lower() == label.lower()):
                return "break"
            raise
        except ContinueSignal as signal:
            if signal.label is None or (label is not None and signal.label.lower() == label.lower()):
                return "continue"
            raise
        return "next"

    def exec_foreach(self, node: ast.Foreach, emit: Emit) -> None:
        collection = self.statement_value(node.iterable)
        if collection is v.AUTOMATION_NULL:
            return
        items = enumerate_items(collection)
        sequence = [collection] if items is None else list(items)
        if collection is None:
            sequence = []  # foreach over $null runs zero times (PowerShell 3+)
        for item in sequence:
            self.set_variable(node.variable.name, item)
            if self._loop_body(node.body, emit, node.label) == "break":
                break

    def exec_for(self, node: ast.For, emit: Emit) -> None:
        if node.init is not None:
            self.exec_value_statement(node.init, emit)
        while node.condition is None or is_true(self.statement_value(node.condition)):
            if self._loop_body(node.body, emit, node.label) == "break":
                break
            if node.step is not None:
                self.exec_value_statement(node.step, lambda _: None)

    def exec_while(self, node: ast.While, emit: Emit) -> None:
        while is_true(self.statement_value(node.condition)):
            if self._loop_body(node.body, emit, node.label) == "break":
                break

    def exec_do(self, node: ast.DoLoop, emit: Emit) -> None:
        while True:
            if self._loop_body(node.body, emit, node.label) == "break":
                break
            result = is_true(self.statement_value(node.condition))
            if result == node.until:
                break

    def exec_switch(self, node: ast.Switch, emit: Emit) -> None:
        subject = self.statement_value(node.subject)
        items = enumerate_items(subject)
        sequence = [subject] if items is None else list(items)
        case = "casesensitive" in node.options
        for item in sequence:
            matched = False
            stop = False
            saved = self._find_slot("_")
            self.set_local("_", item)
            try:
                for clause in node.clauses:
                    if clause.condition is None:
                        continue
                    if self._switch_matches(node.options, clause.condition, item, case):
                        matched = True
                        outcome = self._loop_body(clause.body, emit, node.label)
                        if outcome == "break":
                            stop = True
                            break
                        if outcome == "continue":
                            break
                if not matched and not stop:
                    for clause in node.clauses:
                        if clause.condition is None and self._loop_body(clause.body, emit, node.label) == "break":
                            stop = True
            finally:
                if saved is not None:
                    self.scope.variables["_"] = saved
            if stop:
                break

    def _switch_matches(self, options: frozenset[str], condition: ast.Node, item: object, case: bool) -> bool:
        if isinstance(condition, ast.ScriptBlockExpr):
            block = condition.block
            result = self.invoke_block_value(
                v.ScriptBlock(block, block.body_text), [], dollar_under=item, new_scope=False
            )
            return is_true(result)
        value = self.eval(condition)
        if "regex" in options:
            result, matches = ops.comparison("-cmatch" if case else "-match", item, value)
            if result and matches is not None:
                self.set_variable("Matches", matches)
            return bool(result)
        if "wildcard" in options:
            return ops.like(item, value, case)
        return ops.equals(item, value, case)

    # --- assignment ------------------------------------------------------------------------------

    def assign(self, node: ast.Assignment) -> None:
        if node.op == "=":
            value = self.statement_value(node.value)
            if isinstance(value, list) and not isinstance(node.value, ast.Pipeline | ast.Paren):
                pass
            self.assign_to(node.target, value)
            return
        current = self.eval(node.target)
        operand = self.statement_value(node.value)
        op = node.op[0]
        self.assign_to(node.target, ops.arithmetic(op, current, operand, self.ofs()))

    def assign_to(self, target: ast.Node, value: object) -> None:
        if value is v.AUTOMATION_NULL:
            value = None
        if isinstance(target, ast.Variable):
            self.set_variable(target.name, value, target.scope)
        elif isinstance(target, ast.Cast):
            inner = target.operand
            if not isinstance(inner, ast.Variable):
                raise self.unsupported_error(UnsupportedConstruct("assignment to a cast expression", target.pos.line))
            pstype = self.resolve_type(target.type_name, target.pos.line)
            self.set_variable(inner.name, value, inner.scope, pstype)
        elif isinstance(target, ast.Member):
            owner = self.eval(target.target)
            name = target.name if isinstance(target.name, str) else to_string(self.eval(target.name))
            if target.static:
                raise self.unsupported_error(UnsupportedConstruct("assigning a static member", target.pos.line))
            self.members.set(owner, name, value)
        elif isinstance(target, ast.Index):
            owner = self.eval(target.target)
            key = self.eval(target.index)
            self.set_index(owner, key, value)
        elif isinstance(target, ast.ArrayLiteral):
            items = enumerate_items(value)
            sequence = [value] if items is None else list(items)
            for position, element in enumerate(target.items):
                if position == len(target.items) - 1:
                    rest = sequence[position:]
                    self.assign_to(element, None if not rest else rest[0] if len(rest) == 1 else rest)
                else:
                    self.assign_to(element, sequence[position] if position < len(sequence) else None)
        else:
            raise self.unsupported_error(UnsupportedConstruct("this assignment target", target.pos.line))

    def set_index(self, owner: object, key: object, value: object) -> None:
        if owner is None:
            raise _runtime("Cannot index into a null array.", "NullArray")
        if isinstance(owner, v.Hashtable):
            owner[key] = value
            return
        if isinstance(owner, list | bytearray):
            index = to_integer(key)
            if not -len(owner) <= index < len(owner):
                raise PSTerminatingError(
                    make_record(
                        "System.IndexOutOfRangeException",
                        "Index was outside the bounds of the array.",
                        "System.IndexOutOfRangeException",
                        "OperationStopped",
                    ),
                    statement_only=True,
                )
            owner[index] = value  # type: ignore[assignment,call-overload]
            return
        setter = getattr(owner, "set_index", None)
        if callable(setter):
            setter(key, value)
            return
        raise _runtime(f"Unable to index into an object of type {type_name(owner)}.", "CannotIndex")

    def ofs(self) -> str:
        value = self.get_variable("OFS", strict=False)
        return " " if value is None else to_string(value)

    # --- expressions -----------------------------------------------------------------------------

    def eval(self, node: ast.Node) -> Any:
        method = _EVAL.get(type(node))
        if method is None:
            raise self.unsupported_error(UnsupportedConstruct(f"the expression {type(node).__name__}", node.pos.line))
        return method(self, node)

    def _eval_constant(self, node: ast.Constant) -> object:
        return node.value

    def _eval_variable(self, node: ast.Variable) -> object:
        try:
            return self.get_variable(node.name, node.scope)
        except PSTerminatingError as error:
            self._locate(error, node)
            raise

    def _eval_expandable(self, node: ast.ExpandableString) -> str:
        out: list[str] = []
        ofs = self.ofs()
        for part in node.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            if isinstance(part, ast.Variable):
                strict = self.strict_version() >= 2
                value = self.get_variable(part.name, part.scope, strict=strict)
            else:
                value = self.eval(part)
            out.append(to_string(value, ofs))
        return "".join(out)

    def _eval_member(self, node: ast.Member) -> object:
        try:
            if node.static:
                pstype = self._static_target(node.target)
                name = node.name if isinstance(node.name, str) else to_string(self.eval(node.name))
                return self.members.get_static(pstype, name)
            target = self.eval(node.target)
            name = node.name if isinstance(node.name, str) else to_string(self.eval(node.name))
            return self.members.get(target, name)
        except PSTerminatingError as error:
            self._locate(error, node)
            raise

    def _static_target(self, node: ast.Node) -> PSType:
        if isinstance(node, ast.TypeLiteral):
            return self.resolve_type(node.name, node.pos.line)
        value = self.eval(node)
        if isinstance(value, TypeValue):
            return value.pstype
        raise _runtime(f"Unable to find type [{to_string(value)}].", "TypeNotFound")

    def _eval_invoke(self, node: ast.InvokeMember) -> object:
        try:
            arguments = [self._argument(a) for a in node.arguments]
            name = node.name if isinstance(node.name, str) else to_string(self.eval(node.name))
            if node.static:
                pstype = self._static_target(node.target)
                return self.members.invoke_static(pstype, name, arguments)
            target = self.eval(node.target)
            if isinstance(target, v.ScriptBlock) and name.lower() in ("invoke", "invokereturnasis"):
                return self.invoke_block_value(target, arguments)
            return self.members.invoke(target, name, arguments)
        except PSTerminatingError as error:
            self._locate(error, node)
            raise

    def _argument(self, node: ast.Node) -> object:
        value = self.eval(node)
        return None if value is v.AUTOMATION_NULL else value

    def _eval_index(self, node: ast.Index) -> object:
        try:
            target = self.eval(node.target)
            key = self.eval(node.index)
            return self.index(target, key)
        except PSTerminatingError as error:
            self._locate(error, node)
            raise

    def index(self, target: object, key: object) -> object:
        if target is None or target is v.AUTOMATION_NULL:
            raise _runtime("Cannot index into a null array.", "NullArray")
        if isinstance(target, v.Hashtable):
            keys = enumerate_items(key)
            if keys is not None:
                return [target[k] for k in keys]
            return target[key]
        indexer = getattr(target, "index", None)
        if isinstance(target, v.DotNetObject) and callable(indexer):
            return indexer(key)
        if isinstance(target, str):
            sequence: list[object] | str | bytearray = target
        elif isinstance(target, list | bytearray):
            sequence = target
        elif isinstance(target, v.DotNetObject) and target.ps_enumerate() is not None:
            sequence = list(target.ps_enumerate() or [])
        else:
            sequence = [target]
        keys = enumerate_items(key)
        if keys is not None:
            found = [self._one_index(sequence, k) for k in keys]
            return [f for f in found if f is not v.AUTOMATION_NULL]
        result = self._one_index(sequence, key)
        return None if result is v.AUTOMATION_NULL else result

    def _one_index(self, sequence: list[object] | str | bytearray, key: object) -> object:
        try:
            index = to_integer(key)
        except ConversionError as problem:
            if self.strict_version() >= 3:
                raise problem.terminating() from None
            return v.AUTOMATION_NULL
        if -len(sequence) <= index < len(sequence):
            item = sequence[index]
            if isinstance(sequence, str):
                return v.PSChar(item)
            if isinstance(sequence, bytearray):
                return v.Byte(item)  # type: ignore[call-overload]
            return item
        if self.strict_version() >= 3:
            raise PSTerminatingError(
                make_record(
                    "System.IndexOutOfRangeException",
                    "Index was outside the bounds of the array.",
                    "System.IndexOutOfRangeException",
                    "OperationStopped",
                ),
                statement_only=True,
            )
        return v.AUTOMATION_NULL

    def _eval_unary(self, node: ast.Unary) -> object:
        op = node.op
        if op in ("++", "--", "post++", "post--"):
            current = self.eval(node.operand)
            changed = ops.arithmetic("+" if "+" in op else "-", current, 1)
            self.assign_to(node.operand, changed)
            return changed if not op.startswith("post") else v.AUTOMATION_NULL if False else current
        value = self.eval(node.operand)
        if op in ("-not", "!"):
            return not is_true(value)
        if op == ",":
            return [None if value is v.AUTOMATION_NULL else value]
        if op == "-":
            return ops.arithmetic("*", value, -1) if not isinstance(value, str) else ops.arithmetic("-", 0, value)
        if op == "+":
            return ops.arithmetic("+", 0, value)
        if op == "-bnot":
            return ~to_integer(value, "System.Int64")
        if op == "-split":
            return ops.split_whitespace(value)
        if op == "-join":
            return ops.join(value, "", self.ofs())
        raise self.unsupported_error(UnsupportedConstruct(f"the operator {op}", node.pos.line))

    def _eval_binary(self, node: ast.Binary) -> object:
        op = node.op
        try:
            if op == "-and":
                return is_true(self.eval(node.left)) and is_true(self.eval(node.right))
            if op == "-or":
                return is_true(self.eval(node.left)) or is_true(self.eval(node.right))
            left = self.eval(node.left)
            if op == "-xor":
                return is_true(left) != is_true(self.eval(node.right))
            if op in ("-is", "-isnot"):
                pstype = self._type_operand(node.right, op)
                result = left is not None and left is not v.AUTOMATION_NULL and self._is(left, pstype)
                return result if op == "-is" else not result
            if op == "-as":
                pstype = self._type_operand(node.right, op)
                try:
                    return convert_with(pstype, left)
                except ConversionError:
                    return None
            right = self.eval(node.right)
            if left is v.AUTOMATION_NULL:
                left = None
            if right is v.AUTOMATION_NULL:
                right = None
            if op in ("+", "-", "*", "/", "%"):
                return ops.arithmetic(op, left, right, self.ofs())
            if op == "-f":
                items = enumerate_items(right)
                arguments = [right] if items is None else list(items)
                return ops.format_string(to_string(left), arguments, self.ofs())
            if op == "..":
                start, stop = to_integer(left), to_integer(right)
                step = 1 if stop >= start else -1
                return list(range(start, stop + step, step))
            if op in ("-band", "-bor", "-bxor", "-shl", "-shr"):
                return ops.bitwise(op, left, right)
            if op == "-join":
                return ops.join(left, right, self.ofs())
            compared, matches = ops.comparison(op, left, right)
            if matches is not None:
                self.set_variable("Matches", matches)
            return compared
        except ConversionError as problem:
            error = problem.terminating()
            self._locate(error, node)
            raise error from None
        except PSTerminatingError as error:
            self._locate(error, node)
            raise

    def _type_operand(self, node: ast.Node, op: str) -> PSType:
        if isinstance(node, ast.TypeLiteral):
            return self.resolve_type(node.name, node.pos.line)
        value = self.eval(node)
        if isinstance(value, TypeValue):
            return value.pstype
        if isinstance(value, str):
            return self.resolve_type(value, node.pos.line)
        word = "is" if op.startswith("-is") else "as"
        raise _runtime(f"The right operand of '-{word}' must be a type.", f"{word.capitalize()}OperatorRequiresType")

    def _is(self, value: object, pstype: PSType) -> bool:
        if pstype.is_instance(value):
            return True
        return pstype.full_name.lower() in (name.lower() for name in lineage_of(value))

    def _eval_array_literal(self, node: ast.ArrayLiteral) -> list[object]:
        out: list[object] = []
        for item in node.items:
            value = self.eval(item)
            out.append(None if value is v.AUTOMATION_NULL else value)
        return out

    def _eval_array_expr(self, node: ast.ArrayExpr) -> list[object]:
        output: list[object] = []
        self.exec_statements(node.statements, output.append)
        return output

    def _eval_subexpr(self, node: ast.SubExpr) -> object:
        output: list[object] = []
        self.exec_statements(node.statements, output.append)
        return collapse(output)

    def _eval_paren(self, node: ast.Paren) -> object:
        statement = node.statement
        if (
            isinstance(statement, ast.Pipeline)
            and len(statement.elements) == 1
            and not isinstance(statement.elements[0], ast.Command)
        ):
            return self.eval(statement.elements[0])
        return self.statement_value(statement)

    def _eval_hash(self, node: ast.HashLiteral, ordered: bool = False) -> v.Hashtable:
        table: v.Hashtable = v.OrderedHashtable() if ordered else v.Hashtable()
        for key_node, value_node in node.entries:
            key = self.eval(key_node)
            value = self.statement_value(value_node)
            table[None if key is v.AUTOMATION_NULL else key] = None if value is v.AUTOMATION_NULL else value
        return table

    def _eval_scriptblock(self, node: ast.ScriptBlockExpr) -> v.ScriptBlock:
        return v.ScriptBlock(node.block, node.block.body_text)

    def _eval_type(self, node: ast.TypeLiteral) -> TypeValue:
        return TypeValue(self.resolve_type(node.name, node.pos.line))

    def _eval_cast(self, node: ast.Cast) -> object:
        lower = node.type_name.lower()
        if lower == "ordered":
            if not isinstance(node.operand, ast.HashLiteral):
                raise _runtime(
                    "The ordered attribute can be specified only on a hash literal node.",
                    "OrderedAttributeOnlyOnHashLiteralNode",
                )
            return self._eval_hash(node.operand, ordered=True)
        if lower in (
            "pscustomobject",
            "management.automation.pscustomobject",
            "system.management.automation.pscustomobject",
        ):
            if isinstance(node.operand, ast.HashLiteral):
                table = self._eval_hash(node.operand, ordered=True)
                return v.PSCustomObject((to_string(k), val) for k, val in table.items())
            value = self.eval(node.operand)
            if isinstance(value, v.Hashtable):
                return v.PSCustomObject((to_string(k), val) for k, val in value.items())
            return value
        if lower == "ref":
            if isinstance(node.operand, ast.Variable):
                return VariableReference(self, node.operand)
            value = self.eval(node.operand)
            return value if isinstance(value, v.PSReference) else v.PSReference(value)
        pstype = self.resolve_type(node.type_name, node.pos.line)
        value = self.eval(node.operand)
        if pstype.full_name == "System.String" and value is not None and value is not v.AUTOMATION_NULL:
            return to_string(value, self.ofs())
        try:
            return convert_with(pstype, value)
        except ConversionError as problem:
            error = problem.terminating()
            self._locate(error, node)
            raise error from None

    # --- types -----------------------------------------------------------------------------------

    def resolve_type(self, written: str, line: int = 0) -> PSType:
        found = self.types.resolve(written)
        if found is not None:
            return found
        record = make_record(
            "System.Management.Automation.RuntimeException",
            f"Unable to find type [{written}].",
            "TypeNotFound",
            "InvalidOperation",
            target=written,
        )
        if line and self.source is not None:
            record.invocation_info = InvocationInfo("", line, 0, self.source.line_text(line), self.source.name)
        raise PSTerminatingError(record, statement_only=True)

    def type_of(self, value: object) -> PSType:
        name = type_name(value) or "System.Object"
        found = self.types.resolve(name)
        if found is not None:
            return found
        return PSType(name)

    # --- pipelines -------------------------------------------------------------------------------

    def run_pipeline(self, pipeline: ast.Pipeline, emit: Emit) -> None:
        elements = pipeline.elements
        if len(elements) == 1 and not isinstance(elements[0], ast.Command):
            value = self.eval(elements[0])
            emit_value(value, emit)
            return
        from simulator.powershell.processors import build_processor

        processors: list[Any] = []
        first_value: object = v.AUTOMATION_NULL
        has_input = False
        for position, element in enumerate(elements):
            if not isinstance(element, ast.Command):
                if position != 0:
                    raise self.unsupported_error(
                        UnsupportedConstruct("an expression after the first element of a pipeline", element.pos.line)
                    )
                first_value = self.eval(element)
                has_input = True
                continue
            expects_input = has_input or (position > 0 and bool(processors))
            processors.append(build_processor(self, element, expects_input))
        outputs: list[Emit] = []
        for position in range(len(processors)):
            outputs.append(processors[position + 1].process if position + 1 < len(processors) else emit)
        for processor, output in zip(processors, outputs, strict=True):
            processor.output = output
        started: list[Any] = []
        try:
            for processor in processors:
                processor.start()
                started.append(processor)
            if has_input:
                items = enumerate_items(first_value) if first_value is not v.AUTOMATION_NULL else []
                sequence = [first_value] if items is None else items
                for item in sequence:
                    processors[0].process(item)
            else:
                processors[0].process_without_input()
            for processor in processors:
                processor.finish()
        except StopUpstream as stop:
            index = next(
                (i for i, p in enumerate(processors) if p is stop.owner or getattr(p, "cmdlet", None) is stop.owner),
                None,
            )
            if index is None:
                raise
            for processor in processors[index:]:
                processor.finish()
        finally:
            for processor in started:
                processor.dispose()

    # --- functions and script blocks -------------------------------------------------------------

    def find_function(self, name: str) -> FunctionInfo | None:
        lower = name.lower()
        scope: Scope | None = self.scope
        while scope is not None:
            found = scope.functions.get(lower)
            if found is not None:
                return found
            scope = scope.parent
        return None

    def signature_of(self, block: ast.ScriptBlockNode, name: str, kind: str) -> CommandSignature:
        cached = block.signature_cache
        if isinstance(cached, CommandSignature) and cached.name == name and cached.kind == kind:
            return cached
        specs: list[ParameterSpec] = []
        advanced = block.advanced
        default_set: str | None = None
        positional_binding = True
        block_attributes = block.param_block.attributes if block.param_block is not None else []
        supports_should_process = False
        for attribute in block_attributes:
            if attribute.name.lower() == "cmdletbinding":
                for key, value in attribute.named:
                    lower = key.lower()
                    if lower == "defaultparametersetname" and value is not None:
                        default_set = to_string(self.eval(value))
                    elif lower == "positionalbinding" and value is not None:
                        positional_binding = is_true(self.eval(value))
                    elif lower == "supportsshouldprocess":
                        supports_should_process = value is None or is_true(self.eval(value))
        implicit_position = 0
        if block.param_block is not None:
            for parameter in block.param_block.parameters:
                spec, explicit = self._parameter_spec(parameter, implicit_position if positional_binding else None)
                if not explicit and positional_binding and not spec.is_switch:
                    implicit_position += 1
                specs.append(spec)
        signature = CommandSignature(
            name,
            tuple(specs),
            default_set,
            qualifier=name,
            advanced=advanced,
            supports_should_process=supports_should_process,
            kind=kind,
            positional_binding=positional_binding,
        )
        block.signature_cache = signature
        return signature

    def _parameter_spec(self, node: ast.ParameterNode, implicit: int | None) -> tuple[ParameterSpec, bool]:
        memberships: list[SetMembership] = []
        aliases: list[str] = []
        fields: dict[str, Any] = {}
        explicit_position = False
        for attribute in node.attributes:
            lower = attribute.name.lower()
            if lower in ("parameter", "system.management.automation.parameter", "management.automation.parameter"):
                options: dict[str, object] = {}
                for key, value in attribute.named:
                    options[key.lower()] = True if value is None else self.eval(value)
                position = options.get("position")
                if position is not None:
                    explicit_position = True
                memberships.append(
                    SetMembership(
                        to_string(options.get("parametersetname", ALL_SETS)) or ALL_SETS,
                        is_true(options.get("mandatory", False)),
                        to_integer(position) if position is not None else None,
                        is_true(options.get("valuefrompipeline", False)),
                        is_true(options.get("valuefrompipelinebypropertyname", False)),
                    )
                )
            elif lower == "alias":
                aliases.extend(to_string(self.eval(a)) for a in attribute.positional)
            elif lower == "validateset":
                fields["validate_set"] = tuple(to_string(self.eval(a)) for a in attribute.positional)
                for key, value in attribute.named:
                    if key.lower() == "ignorecase" and value is not None:
                        fields["validate_set_ignore_case"] = is_true(self.eval(value))
            elif lower == "validatepattern":
                fields["validate_pattern"] = to_string(self.eval(attribute.positional[0]))
            elif lower == "validaterange":
                fields["validate_range"] = (self.eval(attribute.positional[0]), self.eval(attribute.positional[1]))
            elif lower == "validatenotnull":
                fields["validate_not_null"] = True
            elif lower == "validatenotnullorempty":
                fields["validate_not_null_or_empty"] = True
            elif lower == "allownull":
                fields["allow_null"] = True
            elif lower == "allowemptystring":
                fields["allow_empty_string"] = True
            elif lower == "allowemptycollection":
                fields["allow_empty_collection"] = True
            elif lower in (
                "diagnostics.codeanalysis.suppressmessageattribute",
                "system.diagnostics.codeanalysis.suppressmessageattribute",
                "diagnostics.codeanalysis.suppressmessage",
                "outputtype",
            ):
                continue
            else:
                raise self.unsupported_error(
                    UnsupportedConstruct(f"the parameter attribute [{attribute.name}]", attribute.pos.line)
                )
        type_written = node.type_name or "System.Object"
        is_switch = type_written.lower() in (
            "switch",
            "system.management.automation.switchparameter",
            "switchparameter",
        )
        if not memberships:
            memberships.append(SetMembership(ALL_SETS))
        adjusted = []
        for membership in memberships:
            position = membership.position
            if position is None and implicit is not None and not is_switch and not explicit_position:
                position = implicit
            adjusted.append(
                SetMembership(
                    membership.set_name,
                    membership.mandatory,
                    position,
                    membership.from_pipeline,
                    membership.from_pipeline_by_name,
                )
            )
        spec = ParameterSpec(
            node.name,
            type_written,
            tuple(adjusted),
            tuple(aliases),
            default=node.default,
            has_default=node.default is not None,
            **fields,
        )
        return spec, explicit_position

    def invoke_block_value(
        self,
        block: v.ScriptBlock,
        arguments: list[object],
        dollar_under: object = ABSENT,
        new_scope: bool = True,
    ) -> object:
        """Call a script block from .NET (a delegate, Where-Object's filter): its output as one value."""
        output: list[object] = []
        positional: list[NamedArgument | PositionalArgument] = [PositionalArgument(a) for a in arguments]
        self.invoke_script_block(
            block.node, positional, output.append, name="", dollar_under=dollar_under, new_scope=new_scope
        )
        return collapse(output)

    def invoke_script_block(
        self,
        block: ast.ScriptBlockNode,
        arguments: list[NamedArgument | PositionalArgument],
        emit: Emit,
        name: str = "",
        kind: str = "script",
        input_items: list[object] | None = None,
        dollar_under: object = ABSENT,
        new_scope: bool = True,
        context: CommandContext | None = None,
    ) -> None:
        """Bind and run a script block or function once, all its input given at once (begin/process/end)."""
        signature = self.signature_of(block, name, kind)
        binder = Binder(signature, self.types, self.non_interactive)
        try:
            call = binder.bind(arguments)
        except BindingError as problem:
            raise problem.to_error(signature.qualifier) from None
        self.run_bound_block(block, signature, call, emit, input_items, dollar_under, new_scope)

    def run_bound_block(
        self,
        block: ast.ScriptBlockNode,
        signature: CommandSignature,
        call: BoundCall,
        emit: Emit,
        input_items: list[object] | None = None,
        dollar_under: object = ABSENT,
        new_scope: bool = True,
    ) -> None:
        saved_scope = self.scope
        if new_scope:
            self.scope = Scope(saved_scope)
        self._source_stack.append(block.source)
        try:
            self.bind_into_scope(signature, call)
            if dollar_under is not ABSENT:
                self.set_local("_", dollar_under)
                self.set_local("PSItem", dollar_under)
            items = input_items or []
            self.set_local("input", list(items))
            try:
                if block.begin is not None:
                    self.exec_statements(block.begin, emit)
                if block.process is not None:
                    for item in items if items else ([] if input_items is not None else [v.AUTOMATION_NULL]):
                        if item is not v.AUTOMATION_NULL:
                            self.set_local("_", item)
                            self.set_local("PSItem", item)
                        try:
                            self.exec_statements(block.process, emit)
                        except ReturnSignal:
                            continue
                if block.end is not None:
                    self.exec_statements(block.end, emit)
            except ReturnSignal:
                pass
        finally:
            self._source_stack.pop()
            self.scope = saved_scope

    def bind_into_scope(self, signature: CommandSignature, call: BoundCall) -> None:
        bound = v.Hashtable()
        for spec in signature.parameters:
            pstype = self.types.resolve(spec.type_name) if spec.type_name else None
            if spec.name in call.values:
                value = call.values[spec.name]
                if spec.is_switch:
                    value = v.SwitchParameter(bool(value))
                bound[spec.name] = value
                self.set_variable(spec.name, value, pstype=None)
                slot = self.scope.variables[spec.name.lower()]
                slot.type = pstype if not spec.is_switch else None
            elif spec.has_default and isinstance(spec.default, ast.Node):
                default = self.eval(spec.default)
                if default is v.AUTOMATION_NULL:
                    default = None
                if spec.is_switch:
                    value = v.SwitchParameter(is_true(default))
                    self.set_variable(spec.name, value)
                else:
                    self.set_variable(spec.name, default, pstype=pstype)
            elif spec.is_switch:
                self.set_variable(spec.name, v.SwitchParameter(False))
            else:
                self.set_variable(
                    spec.name,
                    None,
                    pstype=pstype if pstype is not None and pstype.full_name != "System.Object" else None,
                )
        for common, value in call.common.items():
            bound[common] = value
            if common == "ErrorAction":
                self.set_variable("ErrorActionPreference", value)
            elif common == "WarningAction":
                self.set_variable("WarningPreference", value)
            elif common == "Verbose":
                self.set_variable("VerbosePreference", "Continue" if value else "SilentlyContinue")
        self.set_local("PSBoundParameters", bound)
        self.set_local("args", list(call.unbound))

    # --- errors for commands ---------------------------------------------------------------------

    @contextlib.contextmanager
    def error_sink(self, sink: Callable[[ErrorRecord], None] | None) -> Iterator[None]:
        self._error_sinks.append(sink)
        try:
            yield
        finally:
            self._error_sinks.pop()

    def error_redirected(self) -> bool:
        return bool(self._error_sinks) and self._error_sinks[-1] is not None

    @contextlib.contextmanager
    def command_context(self, context: CommandContext) -> Iterator[None]:
        self._context_stack.append(context)
        try:
            yield
        finally:
            self._context_stack.pop()

    def write_error(self, record: ErrorRecord, context: CommandContext) -> None:
        """A non-terminating error from a command: -ErrorAction, else $ErrorActionPreference, decides."""
        if record.invocation_info.script_line_number == 0:
            record.invocation_info = context.invocation_info()
        if context.error_variable is not None:
            context.error_variable.append(record)
        preference = context.error_action or self.preference("ErrorActionPreference")
        if preference == "Stop":
            raise PSTerminatingError(record, statement_only=False)
        if preference == "Inquire" and self.non_interactive:
            raise PSTerminatingError(record, statement_only=False)
        self.report_error(record, preference)

    def write_stream(self, stream: str, message: str, context: CommandContext | None) -> None:
        """Warning, verbose, debug and information records."""
        if stream == "warning":
            if context is not None and context.warning_variable is not None:
                context.warning_variable.append(WarningRecord(message))
            preference = (context.warning_action if context is not None else None) or self.preference(
                "WarningPreference"
            )
            if preference == "Stop":
                record = make_record(
                    "System.Management.Automation.ActionPreferenceStopException",
                    'The running command stopped because the preference variable "WarningPreference" or common '
                    f"parameter is set to Stop: {message}",
                    "ActionPreferenceStop",
                    "OperationStopped",
                )
                raise PSTerminatingError(record)
            if preference in ("SilentlyContinue", "Ignore"):
                return
            self.streams.write("warning", message)
            return
        variable = {
            "verbose": "VerbosePreference",
            "debug": "DebugPreference",
            "information": "InformationPreference",
        }.get(stream)
        if variable is not None and self.preference(variable) in ("SilentlyContinue", "Ignore"):
            return
        self.streams.write(stream, message)


class WarningRecord(v.DotNetObject):
    TYPE_NAME = "System.Management.Automation.WarningRecord"
    PROPERTIES = ("Message", "InvocationInfo")

    def __init__(self, message: str) -> None:
        self.Message = message
        self.InvocationInfo = None

    def ps_to_string(self) -> str:
        return self.Message


_STEPS = ("++", "--", "post++", "post--")


def collapse(output: list[object]) -> object:
    if not output:
        return v.AUTOMATION_NULL
    if len(output) == 1:
        return output[0]
    return output


def emit_value(value: object, emit: Emit) -> None:
    """Write a value to the pipeline: collections unroll, AutomationNull writes nothing."""
    if value is v.AUTOMATION_NULL:
        return
    items = enumerate_items(value)
    if items is None:
        emit(value)
        return
    for item in items:
        emit(item)


def _runtime(message: str, error_id: str, category: str = "InvalidOperation") -> PSTerminatingError:
    return PSTerminatingError(
        make_record("System.Management.Automation.RuntimeException", message, error_id, category),
        statement_only=True,
    )


_EVAL: dict[type, Callable[[Interpreter, Any], Any]] = {
    ast.Constant: Interpreter._eval_constant,
    ast.Variable: Interpreter._eval_variable,
    ast.ExpandableString: Interpreter._eval_expandable,
    ast.Member: Interpreter._eval_member,
    ast.InvokeMember: Interpreter._eval_invoke,
    ast.Index: Interpreter._eval_index,
    ast.Unary: Interpreter._eval_unary,
    ast.Binary: Interpreter._eval_binary,
    ast.ArrayLiteral: Interpreter._eval_array_literal,
    ast.ArrayExpr: Interpreter._eval_array_expr,
    ast.SubExpr: Interpreter._eval_subexpr,
    ast.Paren: Interpreter._eval_paren,
    ast.HashLiteral: Interpreter._eval_hash,
    ast.ScriptBlockExpr: Interpreter._eval_scriptblock,
    ast.TypeLiteral: Interpreter._eval_type,
    ast.Cast: Interpreter._eval_cast,
}
