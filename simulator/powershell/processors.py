"""Command processors: one per command in a pipeline (a cmdlet, a function or script block, an executable).

Each is bound when the pipeline is built (a binding error stops the whole pipeline before
anything runs), then `start` (begin), `process` (once per pipeline object, or once without
input), `finish` (end). Redirections apply around every call: `2>&1` merges the error stream
into the command's output, `2>$null` discards it (the error still reaches $Error).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator.powershell import ast
from simulator.powershell import values as v
from simulator.powershell.binder import (
    ABSENT,
    Binder,
    BindingError,
    BoundCall,
    CommandSignature,
    NamedArgument,
    PositionalArgument,
)
from simulator.powershell.errors import (
    ErrorRecord,
    PSTerminatingError,
    ReturnSignal,
    UnsupportedConstruct,
    make_record,
)
from simulator.powershell.types import enumerate_items, to_string

if TYPE_CHECKING:
    from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
    from simulator.powershell.interpreter import CommandContext, Interpreter, Scope
    from simulator.powershell.machine import Executable

Emit = Callable[[object], None]


def command_not_found(name: str) -> PSTerminatingError:
    # DiscoveryExceptions.CommandNotFoundException
    record = make_record(
        "System.Management.Automation.CommandNotFoundException",
        f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
        "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
        "CommandNotFoundException",
        "ObjectNotFound",
        target=name,
    )
    return PSTerminatingError(record, statement_only=True)


def evaluate_arguments(interp: Interpreter, node: ast.Command) -> list[NamedArgument | PositionalArgument]:
    arguments: list[NamedArgument | PositionalArgument] = []
    for element in node.elements:
        if isinstance(element, ast.CommandParameter):
            if element.value is not None:
                value = interp.eval(element.value)
                arguments.append(NamedArgument(element.name, _plain(value), True, element.text, element.pos.line))
            else:
                arguments.append(NamedArgument(element.name, None, False, element.text, element.pos.line))
            continue
        assert isinstance(element, ast.CommandArgument)
        value = interp.eval(element.value)
        if element.splat:
            if isinstance(value, v.Hashtable):
                for key, item in value.items():
                    arguments.append(
                        NamedArgument(to_string(key), _plain(item), True, f"-{to_string(key)}", element.pos.line)
                    )
                continue
            items = enumerate_items(value)
            if items is not None:
                arguments.extend(PositionalArgument(_plain(item), element.pos.line) for item in items)
                continue
            if value is None or value is v.AUTOMATION_NULL:
                continue
        arguments.append(PositionalArgument(_plain(value), element.pos.line))
    return arguments


def _plain(value: object) -> object:
    return None if value is v.AUTOMATION_NULL else value


class Processor:
    """The shared part: output, redirections, the command context."""

    def __init__(self, interp: Interpreter, node: ast.Command | None, name: str) -> None:
        self.interp = interp
        self.node = node
        self.name = name
        self.output: Emit = lambda item: None
        self.context: CommandContext | None = None
        self._sink: Callable[[ErrorRecord], None] | None = None
        self._redirected = False
        if node is not None:
            for redirection in node.redirections:
                if redirection.source_stream == "2" and redirection.merge_to == "1":
                    self._redirected = True
                    self._sink = lambda record: self.output(record)
                elif redirection.source_stream == "2" and redirection.target is not None:
                    self._redirected = True
                    self._sink = lambda record: None
                elif redirection.source_stream in ("3", "4", "5", "6") and redirection.target is not None:
                    continue  # other streams to $null: they are not shown anyway in this host
                else:
                    raise interp.unsupported_error(
                        UnsupportedConstruct(
                            f"the redirection of stream {redirection.source_stream}", redirection.pos.line
                        )
                    )

    def _guarded(self, action: Callable[[], None]) -> None:
        if not self._redirected:
            self._located(action)
            return
        with self.interp.error_sink(self._sink):
            self._located(action)

    def _located(self, action: Callable[[], None]) -> None:
        try:
            if self.context is not None:
                with self.interp.command_context(self.context):
                    action()
            else:
                action()
        except PSTerminatingError as error:
            info = error.record.invocation_info
            if info.script_line_number == 0 and self.context is not None:
                error.record.invocation_info = self.context.invocation_info()
            raise

    def start(self) -> None:
        return None

    def process(self, item: object) -> None:
        return None

    def process_without_input(self) -> None:
        return None

    def finish(self) -> None:
        return None

    def dispose(self) -> None:
        return None


def _property_of(interp: Interpreter) -> Callable[[object, str], object]:
    from simulator.powershell.members import MISSING

    def lookup(item: object, name: str) -> object:
        try:
            value = interp.members._get(item, name)
        except PSTerminatingError:
            return ABSENT
        return ABSENT if value is MISSING else value

    return lookup


def _context(interp: Interpreter, name: str, node: ast.Command | None, call: BoundCall | None) -> CommandContext:
    from simulator.powershell.interpreter import CommandContext

    context = CommandContext(name, node, call, line=node.pos.line if node is not None else 0, source=interp.source)
    if call is not None:
        common = call.common
        if "ErrorAction" in common:
            context.error_action = str(common["ErrorAction"])
        if "WarningAction" in common:
            context.warning_action = str(common["WarningAction"])
        for key, attribute in (("ErrorVariable", "error_variable"), ("WarningVariable", "warning_variable")):
            if key in common:
                variable = to_string(common[key])
                append = variable.startswith("+")
                variable = variable.lstrip("+")
                collected: list[object] = []
                if append:
                    existing = interp.get_variable(variable, strict=False)
                    items = enumerate_items(existing)
                    collected = list(items) if items is not None else ([] if existing is None else [existing])
                interp.set_variable(variable, collected)
                setattr(context, attribute, collected)
    return context


class CmdletProcessor(Processor):
    def __init__(
        self,
        interp: Interpreter,
        node: ast.Command | None,
        definition: CommandDefinition,
        arguments: list[NamedArgument | PositionalArgument],
        expects_input: bool,
    ) -> None:
        super().__init__(interp, node, definition.name)
        self.definition = definition
        self.binder = Binder(definition.signature, interp.types, interp.non_interactive)
        try:
            self.call = self.binder.bind(arguments, expects_input)
        except BindingError as problem:
            error = problem.to_error(definition.signature.qualifier)
            if node is not None and interp.source is not None:
                from simulator.powershell.interpreter import CommandContext

                error.record.invocation_info = CommandContext(
                    definition.name, node, None, line=node.pos.line, source=interp.source
                ).invocation_info()
            raise error from None
        self.context = _context(interp, definition.name, node, self.call)
        self.cmdlet: Cmdlet | None = None
        self._saw_input = False
        self._notify_binding(dict(self.call.values))

    def _notify_binding(self, values: dict[str, object]) -> None:
        """Tell a machine that watches cmdlet invocations (module logging, event 4103) what was bound."""
        notify = getattr(self.interp.machine, "command_invoked", None)
        if callable(notify) and values:
            notify(self.definition.name, self.definition.module, values)

    def _instance(self) -> Cmdlet:
        if self.cmdlet is None:
            from simulator.powershell.cmdlets import NotModelledCmdlet

            implementation = self.definition.implementation or NotModelledCmdlet
            assert self.context is not None
            self.cmdlet = implementation(self.interp, self.context, self.call, lambda item: self.output(item))
        return self.cmdlet

    def start(self) -> None:
        cmdlet = self._instance()
        self._guarded(cmdlet.begin)

    def process(self, item: object) -> None:
        cmdlet = self._instance()
        self._saw_input = True

        def run() -> None:
            try:
                bound = self.binder.bind_pipeline(self.call, item, self._property_of)
            except BindingError as problem:
                record = problem.to_error(self.definition.signature.qualifier).record
                record.target_object = item
                assert self.context is not None
                self.interp.write_error(record, self.context)
                return
            self._notify_binding(dict(bound))
            saved = cmdlet.params
            cmdlet.params = {**self.call.values, **bound}
            try:
                self._check_mandatory(cmdlet)
                cmdlet.process()
            finally:
                cmdlet.params = saved

        self._guarded(run)

    def _check_mandatory(self, cmdlet: Cmdlet) -> None:
        probe = BoundCall(
            self.call.signature,
            dict(cmdlet.params),
            dict(self.call.common),
            list(self.call.candidate_sets),
            [],
            self.call.parameter_set,
        )
        try:
            self.binder.check_mandatory(probe, pipeline_pending=False)
        except BindingError as problem:
            raise problem.to_error(self.definition.signature.qualifier) from None

    def _property_of(self, item: object, name: str) -> object:
        try:
            value = self.interp.members._get(item, name)
        except PSTerminatingError:
            return ABSENT
        from simulator.powershell.members import MISSING

        return ABSENT if value is MISSING else value

    def process_without_input(self) -> None:
        cmdlet = self._instance()

        def run() -> None:
            try:
                self.binder.check_mandatory(self.call, pipeline_pending=False)
            except BindingError as problem:
                raise problem.to_error(self.definition.signature.qualifier) from None
            cmdlet.process()

        self._guarded(run)

    def finish(self) -> None:
        cmdlet = self._instance()
        self._guarded(cmdlet.end)


class ScriptProcessor(Processor):
    """A function or script block: bound at construction, its blocks run in its own scope."""

    def __init__(
        self,
        interp: Interpreter,
        node: ast.Command | None,
        block: ast.ScriptBlockNode,
        name: str,
        kind: str,
        arguments: list[NamedArgument | PositionalArgument],
        dot_source: bool,
    ) -> None:
        super().__init__(interp, node, name)
        self.block = block
        self.signature: CommandSignature = interp.signature_of(block, name, kind)
        binder = Binder(self.signature, interp.types, interp.non_interactive)
        self.binder = binder
        self.takes_pipeline = any(
            m.from_pipeline or m.from_pipeline_by_name for p in self.signature.parameters for m in p.sets
        )
        try:
            self.call = binder.bind(arguments, expects_input=self.takes_pipeline)
        except BindingError as problem:
            error = problem.to_error(self.signature.qualifier)
            if node is not None and interp.source is not None:
                from simulator.powershell.interpreter import CommandContext

                error.record.invocation_info = CommandContext(
                    name, node, None, line=node.pos.line, source=interp.source
                ).invocation_info()
            raise error from None
        self.context = _context(interp, name, node, self.call) if self.signature.advanced else None
        self.dot_source = dot_source
        self.scope: Scope | None = None
        self.items: list[object] = []
        self._process_ran = False

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            super()._guarded(action)
        except PSTerminatingError as error:
            if self.signature.advanced:
                # An error leaving an advanced function or script block is statement-terminating for
                # its caller (about_Error_Handling, 5.1: "How escalation works").
                error.statement_only = True
            raise

    def _in_scope(self, action: Callable[[], None]) -> None:
        interp = self.interp
        saved = interp.scope
        if self.scope is None:
            from simulator.powershell.interpreter import Scope

            self.scope = saved if self.dot_source else Scope(saved)
        interp.scope = self.scope
        interp._source_stack.append(self.block.source)
        try:
            action()
        finally:
            interp._source_stack.pop()
            interp.scope = saved

    def start(self) -> None:
        def begin() -> None:
            self.interp.bind_into_scope(self.signature, self.call)
            if self.context is not None and self.context.error_action is not None:
                self.interp.set_local("ErrorActionPreference", self.context.error_action)
            if self.block.begin is not None:
                self._run(self.block.begin)

        self._guarded(lambda: self._in_scope(begin))

    def _run(self, statements: list[ast.Node]) -> None:
        with contextlib.suppress(ReturnSignal):
            self.interp.exec_statements(statements, self.output)

    def process(self, item: object) -> None:
        self.items.append(item)
        if self.block.process is None:
            return

        def run() -> None:
            self.interp.set_local("_", item)
            self.interp.set_local("PSItem", item)
            if self.takes_pipeline and not self._bind_item(item):
                return
            assert self.block.process is not None
            self._run(self.block.process)

        self._process_ran = True
        self._guarded(lambda: self._in_scope(run))

    def _bind_item(self, item: object) -> bool:
        """Bind one pipeline object to the parameters that take it; an unbound object is a non-terminating error."""
        try:
            bound = self.binder.bind_pipeline(self.call, item, _property_of(self.interp))
        except BindingError as problem:
            record = problem.to_error(self.signature.qualifier).record
            record.target_object = item
            if self.context is not None:
                self.interp.write_error(record, self.context)
            else:
                self.interp.report_error(record, self.interp.preference("ErrorActionPreference"))
            return False
        for name, value in bound.items():
            spec = self.signature.spec(name)
            pstype = self.interp.types.resolve(spec.type_name) if spec is not None else None
            self.interp.set_variable(
                name, value, pstype=pstype if pstype is not None and pstype.full_name != "System.Object" else None
            )
            parameters = self.interp.get_variable("PSBoundParameters", strict=False)
            if isinstance(parameters, v.Hashtable):
                parameters[name] = value
        return True

    def process_without_input(self) -> None:
        if self.block.process is None:
            return

        def run() -> None:
            if self.takes_pipeline:
                try:
                    self.binder.check_mandatory(self.call, pipeline_pending=False)
                except BindingError as problem:
                    raise problem.to_error(self.signature.qualifier) from None
            assert self.block.process is not None
            self._run(self.block.process)

        self._process_ran = True
        self._guarded(lambda: self._in_scope(run))

    def finish(self) -> None:
        def end() -> None:
            self.interp.set_local("input", list(self.items))
            if self.block.end is not None:
                self._run(self.block.end)

        self._guarded(lambda: self._in_scope(end))


class NativeProcessor(Processor):
    """An executable of the machine: arguments as text, stdout lines as output, stderr as error records."""

    def __init__(self, interp: Interpreter, node: ast.Command, executable: Executable, arguments: list[str]) -> None:
        super().__init__(interp, node, executable.name)
        from simulator.powershell.interpreter import CommandContext

        self.executable = executable
        self.arguments = arguments
        self.context = CommandContext(executable.name, node, None, line=node.pos.line, source=interp.source)
        self.input: list[object] = []

    def process(self, item: object) -> None:
        self.input.append(item)

    def finish(self) -> None:
        def run() -> None:
            stdin = "".join(to_string(item) + "\r\n" for item in self.input) if self.input else None
            result = self.executable.run(self.arguments, stdin)
            self.interp.set_variable("LASTEXITCODE", result.exit_code, "global")
            for line in result.stdout:
                self.output(line)
            for index, line in enumerate(result.stderr):
                if self._redirected or self.interp.error_redirected():
                    record = make_record(
                        "System.Management.Automation.RemoteException",
                        line,
                        "NativeCommandError" if index == 0 else "NativeCommandErrorMessage",
                        "NotSpecified",
                        target=line,
                    )
                    assert self.context is not None
                    self.interp.write_error(record, self.context)
                else:
                    self.interp.streams.write("stderr", line)

        self._guarded(run)


def build_processor(interp: Interpreter, node: ast.Command, expects_input: bool) -> Processor:
    arguments = evaluate_arguments(interp, node)
    dot_source = node.invocation == "."
    if node.name_expr is not None:
        target = interp.eval(node.name_expr)
        if isinstance(target, v.ScriptBlock):
            return ScriptProcessor(interp, node, target.node, "", "script", arguments, dot_source)
        name = to_string(target)
    else:
        assert node.name is not None
        name = node.name
    return _resolve(interp, node, name, arguments, expects_input, dot_source)


def _resolve(
    interp: Interpreter,
    node: ast.Command,
    name: str,
    arguments: list[NamedArgument | PositionalArgument],
    expects_input: bool,
    dot_source: bool,
) -> Processor:
    if "\\" in name and not name.lower().endswith((".exe", ".ps1", ".cmd", ".bat", ".com")) and ":" not in name:
        name = name.rsplit("\\", 1)[1]  # Module\Command
    target = interp.aliases.get(name.lower(), name)
    function = interp.find_function(target)
    if function is not None:
        return ScriptProcessor(interp, node, function.block, function.name, "function", arguments, dot_source)
    definition = interp.commands.get(target.lower())
    if definition is not None:
        return CmdletProcessor(interp, node, definition, arguments, expects_input)
    executable = interp.machine.find_executable(name)
    if executable is not None:
        return NativeProcessor(interp, node, executable, _native_arguments(arguments))
    error = command_not_found(name)
    if interp.source is not None:
        # The console names the term and underlines it where it stands (the command name's extent).
        from simulator.powershell.interpreter import CommandContext

        info = CommandContext(name, node, None, line=node.pos.line, source=interp.source).invocation_info()
        info.width = len(node.name) if node.name is not None else 1
        error.record.invocation_info = info
    raise error


def _native_arguments(arguments: list[NamedArgument | PositionalArgument]) -> list[str]:
    out: list[str] = []
    for argument in arguments:
        if isinstance(argument, NamedArgument):
            if argument.has_value:
                out.append(f"{argument.text.rstrip(':')}:{to_string(argument.value)}")
            else:
                out.append(argument.text)
            continue
        items = enumerate_items(argument.value)
        if items is not None and not isinstance(argument.value, bytearray):
            out.extend(to_string(item) for item in items)
        elif argument.value is not None:
            out.append(to_string(argument.value))
    return out


def run_command(
    interp: Interpreter,
    definition: CommandDefinition,
    arguments: list[NamedArgument | PositionalArgument],
    input_items: list[object] | None = None,
) -> list[object]:
    """Run one cmdlet outside a script (the world calls a cmdlet the way a script would)."""
    processor = CmdletProcessor(interp, None, definition, arguments, input_items is not None)
    output: list[object] = []
    processor.output = output.append
    processor.start()
    if input_items is not None:
        for item in input_items:
            processor.process(item)
    else:
        processor.process_without_input()
    processor.finish()
    return output
