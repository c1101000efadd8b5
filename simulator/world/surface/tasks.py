"""Task Scheduler on a simulated node: the ScheduledTasks module, the Schedule.Service COM API, and task runs.

Both faces work on one store per node (`Node.tasks`): a task registered through `Register-ScheduledTask` is
the task `Schedule.Service` sees, and the other way round. A started task runs its action as a new process
on the node (`powershell.exe -File run.ps1 -Dir <dir>`: simulator/world/surface/processes.py), as the task's
user: a password logon holds that user's network credentials (implements F-REM-03, F-FS-02), an S4U logon
does not.

A run is asynchronous, as on Windows ("starts a registered background task asynchronously": implements
F-FS-11). The task's process runs on its own thread, but never at the same time as the process that
started it: the two take turns. The task advances only while time passes on its node: each
`STEP_SECONDS` of virtual time (a caller's `Start-Sleep`, or `QUERY_SECONDS` per status query) gives it
one step, and a step runs it to its next yield point:

- its launch (the first step: the task becomes Running, LastTaskResult 267009, F-FS-03);
- every file it writes, which takes a step with the file half-written and open (F-FS-06: another process
  sees the file exist, cannot read or delete it, and a directory holding it cannot be removed);
- a `Start-Sleep` (one step per `STEP_SECONDS`) and every native program it starts;
- its exit, which Task Scheduler reports one step later (Ready and the exit code as LastTaskResult).

So a script that polls sees the task Queued, then Running, can find its result file before it is
complete, and can unregister a task that still runs. The step length and the one-step delays are
assumed (a model of "asynchronously", no source gives durations). When a process the host ran ends,
time keeps passing: every run still going is driven to its end (`drain`), as Windows would.
`Unregister-ScheduledTask` of a running task leaves its process running as an orphan (implements F-FS-08);
`Stop-ScheduledTask` terminates it at its next yield point (LastTaskResult 267014, F-FS-09).
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import weakref
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, SetMembership, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import (
    CategoryInfo,
    ErrorRecord,
    NetException,
    PSTerminatingError,
    register_exception_type,
)
from simulator.powershell.machine import Identity, NativeResult
from simulator.powershell.types import to_string
from simulator.shell import cmdline
from simulator.world import surface
from simulator.world.machine import NodeFileSystem, NodeMachine, files_open_for_writing
from simulator.world.model import Node, ScheduledTask, World, key, path_key
from simulator.wsman.backend import Session

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from simulator.powershell.machine import Executable

MODULE = "ScheduledTasks"

STEP_SECONDS = 0.25  # virtual time one step of a task takes (assumed)
QUERY_SECONDS = 0.05  # virtual time a status query takes (assumed)
DRAIN_LIMIT = 100_000  # steps a process-end drain gives the runs still going before it kills them

# Task Scheduler's HRESULTs (W32 desktop-src/TaskSchd/task-scheduler-error-and-success-constants.md).
SCHED_S_TASK_RUNNING = 0x00041301  # 267009 "The task is currently running."
SCHED_S_TASK_HAS_NOT_RUN = 0x00041303  # 267011 "The task has not yet run."
SCHED_S_TASK_TERMINATED = 0x00041306  # 267014 "The last run of the task was terminated by the user."
SCHED_E_TASK_DISABLED = 0x80041326
SCHED_E_USER_NOT_LOGGED_ON = 0x80041320
# Win32 errors as HRESULTs (W32 desktop-src/Debug/system-error-codes).
E_ACCESS_DENIED = 0x80070005
E_FILE_NOT_FOUND = 0x80070002
E_ALREADY_EXISTS = 0x800700B7
E_LOGON_FAILURE = 0x8007052E  # 1326
E_LOGON_TYPE_NOT_GRANTED = 0x80070569  # 1385
E_INVALID_ARG = 0x80070057

MESSAGES = {
    E_ACCESS_DENIED: "Access is denied.",
    E_FILE_NOT_FOUND: "The system cannot find the file specified.",
    E_ALREADY_EXISTS: "Cannot create a file when that file already exists.",
    E_LOGON_FAILURE: "The user name or password is incorrect.",
    E_INVALID_ARG: "The parameter is incorrect.",
}
CATEGORIES = {
    E_ACCESS_DENIED: "PermissionDenied",
    E_FILE_NOT_FOUND: "ObjectNotFound",
    E_ALREADY_EXISTS: "ResourceExists",
    E_LOGON_FAILURE: "AuthenticationError",  # assumed (F-FS-04)
    E_INVALID_ARG: "InvalidArgument",
}

CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException"
CIM_JOB_EXCEPTION = "Microsoft.PowerShell.Cmdletization.Cim.CimJobException"
COM_EXCEPTION = "System.Runtime.InteropServices.COMException"
register_exception_type(CIM_JOB_EXCEPTION, "System.SystemException")

TASK_STATES = {"Unknown": 0, "Disabled": 1, "Queued": 2, "Ready": 3, "Running": 4}
STATE_ENUM = v.EnumType(
    "Microsoft.PowerShell.Cmdletization.GeneratedTypes.ScheduledTask.StateEnum", tuple(TASK_STATES.items())
)
LOGON_TYPES = {
    0: "None",
    1: "Password",
    2: "S4U",
    3: "InteractiveToken",
    4: "Group",
    5: "ServiceAccount",
    6: "Password",
}


class TaskError(Exception):
    """Task Scheduler refused: an HRESULT and its text."""

    def __init__(self, hresult: int) -> None:
        super().__init__(MESSAGES.get(hresult, f"0x{hresult:08X}"))
        self.hresult = hresult
        self.message = MESSAGES.get(hresult, f"0x{hresult:08X}")


class TaskTerminated(BaseException):
    """The task's process was terminated (Stop-ScheduledTask, a reboot): it unwinds at its next yield point."""


def signed(hresult: int) -> int:
    return hresult - (1 << 32) if hresult & 0x80000000 else hresult


def _now(machine: NodeMachine | None = None) -> _dt.datetime:
    return machine.now() if machine is not None else _dt.datetime.now()


def full_path(name: str, path: str = "\\") -> str:
    """A task's full path: "\\folder\\name" (a TaskName may carry its folder, as Get-ScheduledTaskInfo allows)."""
    name = name.strip()
    if "\\" in name:
        return "\\" + name.lstrip("\\")
    folder = "\\" + path.strip("\\") + "\\" if path.strip("\\") else "\\"
    return folder + name


def _split(full: str) -> tuple[str, str]:
    folder, _, name = full.rpartition("\\")
    return (folder + "\\") if folder else "\\", name


def find(node: Node, name: str, path: str = "\\") -> ScheduledTask | None:
    task = node.tasks.get(key(full_path(name, path)))
    if task is not None:
        _reconcile(node, task)
    return task


# --- runs ------------------------------------------------------------------------------------------------


class TaskRun:
    """One run of a task: its process on a thread that takes turns with the process that drives time."""

    def __init__(self, world: World, node: Node, task: ScheduledTask) -> None:
        self.world = world
        self.node = node
        self.task_key = key(full_path(task.name, task.path))
        self.task = task  # the definition as it was when the run started (it may be unregistered meanwhile)
        self.started = False
        self.exited = False  # the process has ended
        self.finished = False  # Task Scheduler has noticed (state and LastTaskResult updated)
        self.exit_code = 0
        self.kill_requested = False
        self.wait_steps = 0  # steps to let pass before the process runs again (a sleep)
        self.crash: BaseException | None = None
        self._to_task = threading.Semaphore(0)
        self._to_caller = threading.Semaphore(0)
        self._thread: threading.Thread | None = None

    # caller side ----------------------------------------------------------------------------------------

    def step(self) -> None:
        if self.finished:
            return
        if self.exited:
            self._report()
            return
        if not self.started:
            self.started = True
            self._launch()
            return
        if self.wait_steps > 0:
            self.wait_steps -= 1
            return
        self._resume()

    def kill(self) -> None:
        """Terminate the process (TerminateProcess): it stops at its next yield point."""
        if self.finished:
            return
        if not self.started or self._thread is None:
            self.exited, self.exit_code = True, SCHED_S_TASK_TERMINATED
            self._report()
            return
        self.kill_requested = True
        while not self.exited:
            self._resume()
        self.exit_code = SCHED_S_TASK_TERMINATED
        self._report()

    def _resume(self) -> None:
        self._to_task.release()
        self._to_caller.acquire()

    def _launch(self) -> None:
        current = self.node.tasks.get(self.task_key)
        task = current or self.task
        failure = launch_failure(self.world, self.node, task)
        if failure is not None:
            self.exited, self.exit_code = True, failure
            self._report()
            return
        if current is not None:
            current.state = "Running"
            current.last_result = SCHED_S_TASK_RUNNING
            current.last_run_time = _dt.datetime.now().isoformat(timespec="seconds")
        self._thread = threading.Thread(target=self._main, name=f"task {task.name}", daemon=True)
        self._thread.start()
        self._to_caller.acquire()  # the process starts and waits for its first step

    def _report(self) -> None:
        self.finished = True
        current = self.node.tasks.get(self.task_key)
        if current is not None:  # an unregistered task's orphan reports to no one
            current.state = "Ready"
            current.last_result = self.exit_code & 0xFFFFFFFF

    # task side ------------------------------------------------------------------------------------------

    def yield_(self, steps: int = 1) -> None:
        """The process reached a yield point: hand the turn back; resume after `steps` steps."""
        if self.kill_requested:
            raise TaskTerminated
        self.wait_steps = max(0, steps - 1)
        self._to_caller.release()
        self._to_task.acquire()
        if self.kill_requested:
            raise TaskTerminated

    def _main(self) -> None:
        self._to_caller.release()
        self._to_task.acquire()
        try:
            if self.kill_requested:
                raise TaskTerminated
            self.exit_code = run_action(self)
        except TaskTerminated:
            self.exit_code = SCHED_S_TASK_TERMINATED
        except BaseException as problem:  # a simulator bug must not hang the caller, nor go unnoticed
            self.crash = problem
            self.exit_code = 1
            log.error("scheduled task %s crashed inside the simulator", self.task_key, exc_info=problem)
        finally:
            self.exited = True
            self._to_caller.release()


_RUNS: dict[int, list[TaskRun]] = {}


def runs(world: World) -> list[TaskRun]:
    found = _RUNS.get(id(world))
    if found is None:
        found = _RUNS[id(world)] = []
        weakref.finalize(world, _RUNS.pop, id(world), None)
    return found


def live_run(world: World, node: Node, task: ScheduledTask) -> TaskRun | None:
    wanted = key(full_path(task.name, task.path))
    for run in runs(world):
        if run.node is node and run.task_key == wanted and not run.finished:
            return run
    return None


def _reconcile(node: Node, task: ScheduledTask) -> None:
    """A task the world file says is Running, with no process behind it (the simulator restarted): it ended."""
    if task.state in ("Running", "Queued"):
        for run in _RUNS.values():
            if any(
                r.node is node and r.task_key == key(full_path(task.name, task.path)) and not r.finished for r in run
            ):
                return
        task.state = "Ready"
        task.last_result = SCHED_S_TASK_TERMINATED


def advance(world: World, steps: int) -> None:
    for _ in range(steps):
        pending = [run for run in runs(world) if not run.finished]
        if not pending:
            break
        for run in pending:
            run.step()
    runs(world)[:] = [run for run in runs(world) if not run.finished]


_DEBT: dict[int, float] = {}


@surface.on_time_passing
def _time_passes(machine: NodeMachine, seconds: float) -> None:
    if isinstance(machine, TaskProcessMachine):
        return  # a task's own sleep is a yield point, handled by its machine
    if not runs(machine.world):
        return
    if id(machine.world) not in _DEBT:
        weakref.finalize(machine.world, _DEBT.pop, id(machine.world), None)
    total = _DEBT.get(id(machine.world), 0.0) + seconds
    steps = int(total / STEP_SECONDS + 1e-9)
    _DEBT[id(machine.world)] = total - steps * STEP_SECONDS
    if steps:
        advance(machine.world, steps)


@surface.on_process_end
def drain(world: World) -> None:
    """Time keeps passing after a process ends: every run still going runs to its end."""
    for _ in range(DRAIN_LIMIT):
        if not any(not run.finished for run in runs(world)):
            break
        advance(world, 1)
    for run in list(runs(world)):
        run.kill()
    runs(world).clear()


@surface.on_reboot
def _rebooted(world: World, node: Node) -> None:
    for run in [r for r in runs(world) if r.node is node]:
        run.kill()
    for task in node.tasks.values():
        if task.state in ("Running", "Queued"):
            task.state, task.last_result = "Ready", SCHED_S_TASK_TERMINATED


# --- what a run does --------------------------------------------------------------------------------------


def launch_failure(world: World, node: Node, task: ScheduledTask) -> int | None:
    """Why Task Scheduler cannot start the task's process, as the LastTaskResult it records; None if it can."""
    if task.logon_type in ("InteractiveToken", "Group"):
        return SCHED_E_USER_NOT_LOGGED_ON  # no interactive session on a server driven over WinRM (assumed)
    account = world.domain.user(task.user)
    if account is None or not account.enabled:
        return E_LOGON_FAILURE
    # implements F-FS-02: a password or S4U logon is a batch logon; Administrators hold the right by default.
    if not world.domain.in_any(task.user, node.administrators):
        return E_LOGON_TYPE_NOT_GRANTED  # the code is assumed (F-FS-02, C-29)
    return None


def task_identity(world: World, node: Node, task: ScheduledTask) -> Identity:
    admin = world.domain.in_any(task.user, node.administrators)
    return Identity(
        user=task.user,
        # implements F-FS-02: RunLevel Highest runs with the full (elevated) token; Limited with the filtered one.
        is_admin=admin and task.run_level == "Highest",
        # implements F-REM-03: a stored password logs on with credentials that reach the network; S4U does not.
        network_credentials=task.logon_type == "Password",
    )


def run_action(run: TaskRun) -> int:
    """The task's action, as Task Scheduler starts it: the executable with its argument line."""
    from simulator.world.surface import processes

    task = run.task
    machine = TaskProcessMachine(run, task_identity(run.world, run.node, task))
    argv = cmdline.split(f'"{task.execute}" {task.arguments}'.strip())
    program = machine.find_executable(task.execute)
    if program is None:
        return E_FILE_NOT_FOUND
    inner = program.inner if isinstance(program, _Yielding) else program
    if isinstance(inner, processes.PowerShellExe):
        inner.machine = machine  # the task's process is powershell.exe itself, not a child of it
    result = inner.run(argv[1:], None)
    return result.exit_code


class TaskFileSystem:
    """The node's disk as the task's process writes to it: every write takes a step, half done and open."""

    def __init__(self, inner: NodeFileSystem, run: TaskRun) -> None:
        self.inner = inner
        self.run = run

    def __getattr__(self, name: str) -> object:
        if self.run.kill_requested:
            raise TaskTerminated
        return getattr(self.inner, name)

    def write_bytes(self, path: str, data: bytes) -> None:
        if self.run.kill_requested:
            raise TaskTerminated
        if not data:
            self.inner.write_bytes(path, data)
            return
        self.inner.write_bytes(path, data[: len(data) // 2])  # implements F-FS-06: written in place
        locks = files_open_for_writing(self.inner.node)
        k = path_key(path)
        locks[k] = path
        try:
            self.run.yield_(1)
        finally:
            locks.pop(k, None)
        self.inner.write_bytes(path, data)


class TaskProcessMachine(NodeMachine):
    """The machine of a task's process (and of the processes it starts): a yield point at every wait."""

    def __init__(self, run: TaskRun, identity: Identity) -> None:
        task = run.task
        session = Session(
            node=run.node.name,
            user=task.user,
            auth="batch",  # a batch logon (the task's stored password or S4U), not a network session
            encrypted=True,
            delegated=identity.network_credentials,
            account=task.user,
        )
        super().__init__(run.world, run.node, session, identity)
        self.run = run
        self.filesystem = TaskFileSystem(NodeFileSystem(run.node), run)  # type: ignore[assignment]

    def child(self) -> TaskProcessMachine:
        return TaskProcessMachine(self.run, self.identity())

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.run.yield_(max(1, round(seconds / STEP_SECONDS)))

    def find_executable(self, name: str) -> Executable | None:
        found = super().find_executable(name)
        if found is None:
            return None
        return _Yielding(found, self.run)


class _Yielding:
    """A native program the task's process starts takes a step."""

    def __init__(self, inner: Executable, task_run: TaskRun) -> None:
        self.inner = inner
        self.task_run = task_run
        self.name = inner.name

    def run(self, arguments: list[str], stdin: str | None) -> NativeResult:
        self.task_run.yield_(1)
        return self.inner.run(arguments, stdin)


# --- Task Scheduler's rules --------------------------------------------------------------------------------


def register(
    machine: NodeMachine,
    name: str,
    path: str,
    action: tuple[str, str, str],
    user: str | None,
    password: str | None,
    logon_type: str,
    run_level: str,
    replace: bool,
) -> ScheduledTask:
    """Register (or, with `replace`, update) a task; raises TaskError with Windows' HRESULT."""
    caller = machine.identity()
    if not caller.is_admin:
        # implements F-FS-02: only an elevated administrator registers a task for another account or at Highest.
        raise TaskError(E_ACCESS_DENIED)
    if not name.strip() or name != name.strip():
        raise TaskError(E_INVALID_ARG)  # "A task name cannot begin or end with a space character."
    principal = user or caller.user
    if logon_type == "Password":
        # implements F-FS-04: Task Scheduler logs the account on with the password when the task is registered.
        if not password or not machine.world.domain.authenticate(principal, password):
            raise TaskError(E_LOGON_FAILURE)
    elif logon_type == "S4U" and machine.world.domain.user(principal) is None:
        raise TaskError(E_LOGON_FAILURE)
    full = full_path(name, path)
    existing = machine.node.tasks.get(key(full))
    if existing is not None and not replace:
        raise TaskError(E_ALREADY_EXISTS)
    folder, leaf = _split(full)
    task = ScheduledTask(
        name=leaf,
        path=folder,
        execute=action[0],
        arguments=action[1],
        working_directory=action[2],
        user=_qualified(machine, principal),
        logon_type=logon_type,
        run_level=run_level,
        author=caller.user,
    )
    if existing is not None:
        task.state, task.last_result, task.last_run_time = existing.state, existing.last_result, existing.last_run_time
    machine.node.tasks[key(full)] = task
    return task


def _qualified(machine: NodeMachine, account: str) -> str:
    if "\\" in account or "@" in account:
        return account
    return f"{machine.world.domain.netbios}\\{account}"


def start(machine: NodeMachine, task: ScheduledTask) -> None:
    if task.state == "Disabled":
        raise TaskError(SCHED_E_TASK_DISABLED)
    if live_run(machine.world, machine.node, task) is not None:
        return  # MultipleInstances IgnoreNew, the default: a running task is not started again
    task.state = "Queued"
    runs(machine.world).append(TaskRun(machine.world, machine.node, task))


def stop(machine: NodeMachine, task: ScheduledTask) -> None:
    run = live_run(machine.world, machine.node, task)
    if run is not None:
        run.kill()
        runs(machine.world)[:] = [r for r in runs(machine.world) if not r.finished]


def unregister(machine: NodeMachine, task: ScheduledTask) -> None:
    # implements F-FS-08: the definition goes; a running instance keeps running, an orphan.
    machine.node.tasks.pop(key(full_path(task.name, task.path)), None)


def time_for_a_query(machine: NodeMachine) -> None:
    """A status query takes a moment, in which the tasks of the node move on."""
    machine.sleep(QUERY_SECONDS)


# --- the CIM objects the ScheduledTasks module returns ---------------------------------------------------


class _Cim(v.DotNetObject):
    CIM_CLASS: ClassVar[str] = ""
    BASE_TYPES: ClassVar[tuple[str, ...]] = ("Microsoft.Management.Infrastructure.CimInstance", "System.Object")

    def ps_type_name(self) -> str:
        return f"Microsoft.Management.Infrastructure.CimInstance#Root/Microsoft/Windows/TaskScheduler/{self.CIM_CLASS}"

    def ps_to_string(self) -> str:
        return self.CIM_CLASS


class TaskAction(_Cim):
    """MSFT_TaskExecAction (New-ScheduledTaskAction's output)."""

    CIM_CLASS = "MSFT_TaskExecAction"
    PROPERTIES = ("Id", "Arguments", "Execute", "WorkingDirectory", "PSComputerName")

    def __init__(self, execute: str, arguments: str | None, working_directory: str | None) -> None:
        self.Id = None
        self.Execute = execute
        self.Arguments = arguments
        self.WorkingDirectory = working_directory
        self.PSComputerName = None


class TaskInstance(_Cim):
    """MSFT_ScheduledTask (Get-ScheduledTask, Register-ScheduledTask); State is live."""

    CIM_CLASS = "MSFT_ScheduledTask"
    PROPERTIES = (
        "Actions",
        "Author",
        "Date",
        "Description",
        "Documentation",
        "Principal",
        "SecurityDescriptor",
        "Settings",
        "Source",
        "State",
        "TaskName",
        "TaskPath",
        "Triggers",
        "URI",
        "Version",
        "PSComputerName",
    )

    def __init__(self, task: ScheduledTask) -> None:
        self._task = task
        self.Actions = [TaskAction(task.execute, task.arguments or None, task.working_directory or None)]
        self.Author = task.author
        self.Date = None
        self.Description = None
        self.Documentation = None
        self.Principal = None
        self.SecurityDescriptor = None
        self.Settings = None
        self.Source = None
        self.TaskName = task.name
        self.TaskPath = task.path
        self.Triggers: list[object] = []
        self.URI = full_path(task.name, task.path)
        self.Version = None
        self.PSComputerName = None
        self._state = task.state

    @property
    def State(self) -> v.EnumValue:
        return v.EnumValue(STATE_ENUM, TASK_STATES.get(self._state, 0))


class TaskDynamicInfo(_Cim):
    """MSFT_TaskDynamicInfo (Get-ScheduledTaskInfo)."""

    CIM_CLASS = "MSFT_TaskDynamicInfo"
    PROPERTIES = (
        "LastRunTime",
        "LastTaskResult",
        "NextRunTime",
        "NumberOfMissedRuns",
        "TaskName",
        "TaskPath",
        "PSComputerName",
    )

    def __init__(self, task: ScheduledTask) -> None:
        self.LastRunTime = v.DateTime(_dt.datetime.fromisoformat(task.last_run_time)) if task.last_run_time else None
        self.LastTaskResult = v.UInt32(task.last_result & 0xFFFFFFFF)
        self.NextRunTime = None
        self.NumberOfMissedRuns = v.UInt32(0)
        self.TaskName = task.name
        self.TaskPath = task.path
        self.PSComputerName = None


# --- the cmdlets (CDXML functions of the ScheduledTasks module; errors qualified by the command name) -------


def _sig(name: str, *params: object, default_set: str | None = None, risky: bool = False) -> CommandSignature:
    # WPD ScheduledTasks/<name>.md (winserver2022-ps): parameter sets, positions, types.
    return CommandSignature(
        name,
        tuple(params),  # type: ignore[arg-type]
        default_set,
        qualifier=name,
        supports_should_process=risky,
    )


_CIM_COMMON = (
    parameter("CimSession", "Microsoft.Management.Infrastructure.CimSession[]", aliases=["Session"]),
    parameter("ThrottleLimit", "int"),
    parameter("AsJob", "switch"),
)


class _TaskCmdlet(Cmdlet):
    @property
    def node_machine(self) -> NodeMachine:
        machine = self.machine
        assert isinstance(machine, NodeMachine)
        return machine

    def _not_modelled(self, *names: str) -> None:
        for name in names:
            if self.has(name):
                self.throw_terminating_error(
                    self.error(
                        "System.Management.Automation.RuntimeException",
                        f"The simulated node does not model {self.call.signature.name} -{name}.",
                        "SimulatorNotModelled",
                        "NotImplemented",
                    )
                )

    def cim_error(self, problem: TaskError, target: object = "PS_ScheduledTask") -> ErrorRecord:
        # Observed: "HRESULT 0x80070057,Register-ScheduledTask", CimException (github.com/kangyu-california/
        # PersistentWindows/issues/284); the other HRESULTs follow the same pattern (assumed, F-FS-04).
        return self.error(
            CIM_EXCEPTION,
            problem.message,
            f"HRESULT 0x{problem.hresult:08x}",
            CATEGORIES.get(problem.hresult, "NotSpecified"),
            target=target,
            hresult=signed(problem.hresult),
        )

    def not_found(self, name: str) -> ErrorRecord:
        # Observed: github.com/acceleration3/cloudgamestream/issues/17 (Get-ScheduledTask).
        return self.error(
            CIM_JOB_EXCEPTION,
            f"No MSFT_ScheduledTask objects found with property 'TaskName' equal to '{name}'.  Verify the value of "
            "the property and retry.",
            "CmdletizationQuery_NotFound_TaskName",
            "ObjectNotFound",
            target=name,
        )

    def task_named(self, name: str, path: str | None) -> ScheduledTask | None:
        return find(self.node_machine.node, name, path or "\\")

    def input_task(self) -> ScheduledTask | None:
        found = self.get("InputObject")
        if isinstance(found, TaskInstance):
            return self.task_named(found.TaskName, found.TaskPath)
        return None


class NewScheduledTaskAction(_TaskCmdlet):
    SIGNATURE = _sig(
        "New-ScheduledTaskAction",
        parameter("Execute", "string", mandatory=True, position=0),
        parameter("Argument", "string", position=1),
        parameter("WorkingDirectory", "string", position=2),
        parameter("Id", "string"),
        *_CIM_COMMON,
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        self.write_object(TaskAction(self.get("Execute"), self.get("Argument"), self.get("WorkingDirectory")))


class RegisterScheduledTask(_TaskCmdlet):
    SIGNATURE = _sig(
        "Register-ScheduledTask",
        ParameterSpec(
            "TaskName",
            "string",
            (
                *(SetMembership(s, mandatory=True, position=0) for s in ("User", "Xml", "Principal")),
                SetMembership("Object", position=4),
            ),
        ),
        parameter("Force", "switch"),
        parameter("TaskPath", "string", position=1),
        parameter(
            "Action",
            "Microsoft.Management.Infrastructure.CimInstance[]",
            mandatory=True,
            position=2,
            sets=["User", "Principal"],
        ),
        parameter("Xml", "string", mandatory=True, position=2, pipeline=True, sets=["Xml"]),
        parameter(
            "InputObject",
            "Microsoft.Management.Infrastructure.CimInstance",
            mandatory=True,
            position=2,
            pipeline=True,
            sets=["Object"],
        ),
        parameter("User", "string", position=3, sets=["User", "Xml", "Object"]),
        parameter("Password", "string", position=4, sets=["User", "Xml", "Object"]),
        parameter("Principal", "Microsoft.Management.Infrastructure.CimInstance", position=5, sets=["Principal"]),
        parameter(
            "Settings", "Microsoft.Management.Infrastructure.CimInstance", position=4, sets=["User", "Principal"]
        ),
        parameter(
            "Trigger", "Microsoft.Management.Infrastructure.CimInstance[]", position=3, sets=["User", "Principal"]
        ),
        parameter("Description", "string", position=8, sets=["User", "Principal"]),
        # RunLevelEnum (Limited, Highest): a validated string here, so a wrong value is refused (the refusal's
        # wording is ValidateSet's, not the enum conversion's: a simplification).
        parameter("RunLevel", "string", position=7, sets=["User"], validate_set=["Limited", "Highest"]),
        *_CIM_COMMON,
        default_set="User",
    )

    def process(self) -> None:
        self._not_modelled("Xml", "InputObject", "Principal", "Trigger", "CimSession", "AsJob")
        actions = [a for a in (self.get("Action") or []) if isinstance(a, TaskAction)]
        if len(actions) != 1:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models tasks with exactly one exec action.",
                    "SimulatorNotModelled",
                    "NotImplemented",
                )
            )
        action = actions[0]
        user, password = self.get("User"), self.get("Password")
        # Register-ScheduledTask -User -Password registers a password logon; -User alone an interactive one.
        logon = "Password" if password else "InteractiveToken"
        try:
            task = register(
                self.node_machine,
                to_string(self.get("TaskName")),
                to_string(self.get("TaskPath") or "\\"),
                (
                    to_string(action.Execute),
                    to_string(action.Arguments or ""),
                    to_string(action.WorkingDirectory or ""),
                ),
                user,
                password,
                logon,
                to_string(self.get("RunLevel") or "Limited"),
                bool(self.flag("Force")),
            )
        except TaskError as problem:
            self.write_error(self.cim_error(problem))
            return
        self.write_object(TaskInstance(task))


class _ByName(_TaskCmdlet):
    def target(self) -> ScheduledTask | None:
        if self.has("InputObject"):
            return self.input_task()
        return self.task_named(to_string(self.get("TaskName")), self.get("TaskPath"))


class StartScheduledTask(_ByName):
    SIGNATURE = _sig(
        "Start-ScheduledTask",
        parameter("TaskName", "string", mandatory=True, position=0, sets=["Path"]),
        parameter("TaskPath", "string", position=1, sets=["Path"]),
        parameter(
            "InputObject",
            "Microsoft.Management.Infrastructure.CimInstance",
            mandatory=True,
            position=1,
            pipeline=True,
            sets=["Object"],
        ),
        *_CIM_COMMON,
        default_set="Path",
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        task = self.target()
        if task is None:
            # assumed: the task service's ERROR_FILE_NOT_FOUND, as a CIM method error (F-FS-11)
            self.write_error(self.cim_error(TaskError(E_FILE_NOT_FOUND)))
            return
        try:
            start(self.node_machine, task)
        except TaskError as problem:
            self.write_error(self.cim_error(problem))


class StopScheduledTask(_ByName):
    SIGNATURE = _sig(
        "Stop-ScheduledTask",
        parameter("TaskName", "string", mandatory=True, position=0, sets=["Path"]),
        parameter("TaskPath", "string", position=1, sets=["Path"]),
        parameter(
            "InputObject",
            "Microsoft.Management.Infrastructure.CimInstance",
            mandatory=True,
            position=1,
            pipeline=True,
            sets=["Object"],
        ),
        *_CIM_COMMON,
        default_set="Path",
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        task = self.target()
        if task is None:
            self.write_error(self.cim_error(TaskError(E_FILE_NOT_FOUND)))
            return
        stop(self.node_machine, task)  # implements F-FS-09: "immediately stops all running instances"


class GetScheduledTask(_TaskCmdlet):
    SIGNATURE = _sig(
        "Get-ScheduledTask",
        parameter("TaskName", "string[]", position=0, by_property_name=True),
        parameter("TaskPath", "string[]", position=1, by_property_name=True),
        *_CIM_COMMON,
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        time_for_a_query(self.node_machine)
        node = self.node_machine.node
        names = [to_string(n) for n in (self.get("TaskName") or [])]
        paths = [to_string(p) for p in (self.get("TaskPath") or [])]
        tasks = sorted(node.tasks.values(), key=lambda t: full_path(t.name, t.path).upper())
        for task in tasks:
            _reconcile(node, task)
        selected = [
            t
            for t in tasks
            if (not names or any(_like(t.name, n) for n in names))
            and (not paths or any(_like(t.path, p) for p in paths))
        ]
        for name in names:
            if not any(ch in name for ch in "*?[") and not any(_like(t.name, name) for t in selected):
                self.write_error(self.not_found(name))
        for task in selected:
            self.write_object(TaskInstance(task))


def _like(value: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(value.upper(), pattern.upper())


class GetScheduledTaskInfo(_ByName):
    SIGNATURE = _sig(
        "Get-ScheduledTaskInfo",
        parameter("TaskName", "string", mandatory=True, position=0, sets=["Name"]),
        parameter("TaskPath", "string", position=1, sets=["Name"]),
        parameter(
            "InputObject",
            "Microsoft.Management.Infrastructure.CimInstance",
            mandatory=True,
            position=0,
            pipeline=True,
            sets=["Object"],
        ),
        *_CIM_COMMON,
        default_set="Name",
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        time_for_a_query(self.node_machine)
        task = self.target()
        if task is None:
            self.write_error(self.not_found(to_string(self.get("TaskName"))))  # assumed: the query's not-found
            return
        self.write_object(TaskDynamicInfo(task))


class UnregisterScheduledTask(_TaskCmdlet):
    SIGNATURE = _sig(
        "Unregister-ScheduledTask",
        parameter("TaskName", "string[]", position=0, by_property_name=True, sets=["ByPath"]),
        parameter("TaskPath", "string[]", position=1, by_property_name=True, sets=["ByPath"]),
        parameter(
            "InputObject",
            "Microsoft.Management.Infrastructure.CimInstance[]",
            mandatory=True,
            pipeline=True,
            sets=["InputObject (cdxml)"],
        ),
        parameter("PassThru", "switch"),
        *_CIM_COMMON,
        default_set="ByPath",
        risky=True,
    )

    def process(self) -> None:
        self._not_modelled("CimSession", "AsJob")
        node = self.node_machine.node
        if self.has("InputObject"):
            targets = [
                t
                for t in (
                    find(node, i.TaskName, i.TaskPath) for i in self.get("InputObject") if isinstance(i, TaskInstance)
                )
                if t is not None
            ]
        else:
            names = [to_string(n) for n in (self.get("TaskName") or ["*"])]
            paths = [to_string(p) for p in (self.get("TaskPath") or ["*"])]
            targets = [
                t
                for t in node.tasks.values()
                if any(_like(t.name, n) for n in names) and any(_like(t.path, p) for p in paths)
            ]
            for name in names:
                if not any(ch in name for ch in "*?[") and not any(_like(t.name, name) for t in targets):
                    self.write_error(self.not_found(name))  # assumed: the query's not-found, as Get-ScheduledTask
        for task in targets:
            if not self.should_process(task.name, "Unregister-ScheduledTask"):
                continue
            unregister(self.node_machine, task)
            if self.flag("PassThru"):
                self.write_object(TaskInstance(task))


for _cmdlet in (
    NewScheduledTaskAction,
    RegisterScheduledTask,
    StartScheduledTask,
    StopScheduledTask,
    GetScheduledTask,
    GetScheduledTaskInfo,
    UnregisterScheduledTask,
):
    surface.command(_cmdlet, module=MODULE)
# The ScheduledTasks module ships with Windows Server 2012 and later (WPD ScheduledTasks/ScheduledTasks.md).
surface.module(MODULE, installed=surface.always)


# --- Schedule.Service: the Task Scheduler 2.0 scripting objects (W32 desktop-src/TaskSchd) -----------------


def com_error(hresult: int) -> PSTerminatingError:
    """A failed call on a COM object PowerShell reaches through IDispatch: the COMException itself.

    Observed (github.com/taliesins/terraform-provider-hyperv/issues/135, `$folder.RegisterTaskDefinition(...)`
    in Windows PowerShell): CategoryInfo "OperationStopped: (:) [], COMException", FullyQualifiedErrorId
    "System.Runtime.InteropServices.COMException", the message "<text> (Exception from HRESULT: 0x...)".
    """
    text = MESSAGES.get(hresult, "Error HRESULT")
    message = f"{text} (Exception from HRESULT: 0x{hresult:08X})"
    exception = NetException(COM_EXCEPTION, message, hresult=signed(hresult))
    record = ErrorRecord(exception, COM_EXCEPTION, CategoryInfo("OperationStopped", "", "COMException", "", ""))
    return PSTerminatingError(record, statement_only=True)


class ComTaskService(v.DotNetObject):
    """TaskService (ProgID Schedule.Service): Connect, GetFolder, NewTask."""

    TYPE_NAME = "System.__ComObject#{2faba4c7-4da9-4013-9697-20cc3fd40f85}"
    PROPERTIES = ("Connected", "TargetServer", "ConnectedUser", "ConnectedDomain", "HighestVersion")
    METHODS = ("Connect", "GetFolder", "NewTask", "GetRunningTasks")

    def __init__(self, machine: NodeMachine) -> None:
        self._machine = machine
        self.Connected = False
        self.TargetServer = ""
        self.ConnectedUser = ""
        self.ConnectedDomain = ""
        self.HighestVersion = v.UInt32(0x10004)

    def Connect(self, *arguments: object) -> None:
        if (
            arguments
            and arguments[0] not in (None, "")
            and key(to_string(arguments[0])) != key(self._machine.node.name)
        ):
            raise com_error(E_ACCESS_DENIED)  # another computer: not modelled, refused (assumed)
        identity = self._machine.identity()
        self.Connected = True
        self.TargetServer = self._machine.node.name
        self.ConnectedDomain, _, self.ConnectedUser = identity.user.rpartition("\\")

    def _require(self) -> None:
        if not self.Connected:
            # SCHED_E_SERVICE_NOT_CONNECTED is not in the constants page; Task Scheduler answers 0x800704F4
            # ("not connected") per Win32 1252 (ERROR_NOT_CONNECTED, assumed).
            raise com_error(0x800704F4)

    def GetFolder(self, path: object) -> ComTaskFolder:
        self._require()
        folder = to_string(path) or "\\"
        if folder.strip("\\"):
            raise com_error(E_FILE_NOT_FOUND)  # only the root folder is modelled
        return ComTaskFolder(self._machine)

    def NewTask(self, flags: object = 0) -> ComTaskDefinition:
        self._require()
        return ComTaskDefinition()

    def GetRunningTasks(self, flags: object = 0) -> list[object]:
        self._require()
        return [ComRegisteredTask(self._machine, t) for t in self._machine.node.tasks.values() if t.state == "Running"]


class ComExecAction(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{4c3d624d-fd6b-49a3-b9b7-09cb3cd3f047}"
    PROPERTIES = ("Id", "Type", "Path", "Arguments", "WorkingDirectory")
    SETTABLE = ("Id", "Path", "Arguments", "WorkingDirectory")

    def __init__(self) -> None:
        self.Id = ""
        self.Type = 0  # TASK_ACTION_EXEC
        self.Path = ""
        self.Arguments = ""
        self.WorkingDirectory = ""


class ComActionCollection(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{02820e19-7b98-4ed2-b2e8-fdccceff619b}"
    PROPERTIES = ("Count",)
    METHODS = ("Create", "Clear", "Item")

    def __init__(self) -> None:
        self.items: list[ComExecAction] = []

    @property
    def Count(self) -> int:
        return len(self.items)

    def Create(self, kind: object) -> ComExecAction:
        if int(kind) != 0:  # type: ignore[call-overload]
            raise com_error(E_INVALID_ARG)  # only TASK_ACTION_EXEC (0) is modelled
        action = ComExecAction()
        self.items.append(action)
        return action

    def Clear(self) -> None:
        self.items.clear()

    def Item(self, index: object) -> ComExecAction:
        return self.items[int(index) - 1]  # type: ignore[call-overload]

    def ps_enumerate(self) -> list[object] | None:
        return list(self.items)


class ComPrincipal(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{d98d51e5-c9b4-496a-a9c1-18980261cf0f}"
    PROPERTIES = ("Id", "UserId", "GroupId", "LogonType", "RunLevel", "DisplayName")
    SETTABLE = ("Id", "UserId", "GroupId", "LogonType", "RunLevel", "DisplayName")

    def __init__(self) -> None:
        self.Id = ""
        self.UserId = ""
        self.GroupId = ""
        self.LogonType = 3  # TASK_LOGON_INTERACTIVE_TOKEN
        self.RunLevel = 0  # TASK_RUNLEVEL_LUA
        self.DisplayName = ""


class ComTaskSettings(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{8fd4711d-2d02-4c8c-87e3-eff699de127e}"
    PROPERTIES = (
        "AllowDemandStart",
        "DisallowStartIfOnBatteries",
        "StopIfGoingOnBatteries",
        "Enabled",
        "Hidden",
        "ExecutionTimeLimit",
        "MultipleInstances",
        "Priority",
        "StartWhenAvailable",
    )
    SETTABLE = PROPERTIES

    def __init__(self) -> None:
        self.AllowDemandStart = True
        self.DisallowStartIfOnBatteries = True
        self.StopIfGoingOnBatteries = True
        self.Enabled = True
        self.Hidden = False
        self.ExecutionTimeLimit = "PT72H"
        self.MultipleInstances = 2  # TASK_INSTANCES_IGNORE_NEW
        self.Priority = 7
        self.StartWhenAvailable = False


class ComRegistrationInfo(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{416d8b73-cb41-4ea1-805c-9be9a5ac4a74}"
    PROPERTIES = ("Author", "Description", "Source", "Date", "URI")
    SETTABLE = PROPERTIES

    def __init__(self) -> None:
        self.Author = ""
        self.Description = ""
        self.Source = ""
        self.Date = ""
        self.URI = ""


class ComTaskDefinition(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{f5bc8fc5-536d-4f77-b852-fbc1356fdeb6}"
    PROPERTIES = ("Actions", "Principal", "Settings", "RegistrationInfo", "Triggers", "Data")
    SETTABLE = ("Data",)

    def __init__(self) -> None:
        self.Actions = ComActionCollection()
        self.Principal = ComPrincipal()
        self.Settings = ComTaskSettings()
        self.RegistrationInfo = ComRegistrationInfo()
        self.Triggers = ComActionCollection()  # no trigger is modelled: an empty collection
        self.Data = ""


class ComTaskFolder(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{8cfac062-a080-4c15-9a88-aa7c2af80dfc}"
    PROPERTIES = ("Name", "Path")
    METHODS = ("RegisterTaskDefinition", "GetTask", "DeleteTask", "GetTasks")

    def __init__(self, machine: NodeMachine) -> None:
        self._machine = machine
        self.Name = "\\"
        self.Path = "\\"

    def RegisterTaskDefinition(
        self,
        path: object,
        definition: object,
        flags: object,
        user: object,
        password: object,
        logon_type: object,
        sddl: object = None,
    ) -> ComRegisteredTask:
        """W32 desktop-src/TaskSchd/taskfolder-registertaskdefinition.md: TASK_CREATE 2, TASK_UPDATE 4,
        TASK_CREATE_OR_UPDATE 6; TASK_LOGON_PASSWORD 1, TASK_LOGON_S4U 2 ("no access to either the network")."""
        if not isinstance(definition, ComTaskDefinition):
            raise com_error(E_INVALID_ARG)
        actions = definition.Actions.items
        if len(actions) != 1 or not actions[0].Path:
            raise com_error(E_INVALID_ARG)
        creation = int(flags)  # type: ignore[call-overload]
        if creation & 0x1:
            raise com_error(E_INVALID_ARG)  # TASK_VALIDATE_ONLY: not modelled
        logon = LOGON_TYPES.get(int(logon_type), "None")  # type: ignore[call-overload]
        if logon == "None":
            logon = LOGON_TYPES.get(int(definition.Principal.LogonType), "InteractiveToken")
        name = to_string(path)
        exists = find(self._machine.node, name) is not None
        if exists and not creation & 0x4:
            raise com_error(E_ALREADY_EXISTS)
        if not exists and not creation & 0x2:
            raise com_error(E_FILE_NOT_FOUND)
        run_level = "Highest" if int(definition.Principal.RunLevel) == 1 else "Limited"  # TASK_RUNLEVEL_HIGHEST
        principal = to_string(user) if user not in (None, "") else (definition.Principal.UserId or None)
        try:
            task = register(
                self._machine,
                name,
                "\\",
                (actions[0].Path, actions[0].Arguments or "", actions[0].WorkingDirectory or ""),
                principal,
                to_string(password) if password is not None else None,
                logon,
                run_level,
                replace=True,
            )
        except TaskError as problem:
            raise com_error(problem.hresult) from None
        if not definition.Settings.Enabled:
            task.state = "Disabled"
        return ComRegisteredTask(self._machine, task)

    def GetTask(self, path: object) -> ComRegisteredTask:
        task = find(self._machine.node, to_string(path))
        if task is None:
            # Observed: GetTask of a missing task fails with 0x80070002 (terraform-provider-hyperv#135).
            raise com_error(E_FILE_NOT_FOUND)
        return ComRegisteredTask(self._machine, task)

    def GetTasks(self, flags: object = 0) -> list[object]:
        return [ComRegisteredTask(self._machine, t) for t in self._machine.node.tasks.values() if t.path == "\\"]

    def DeleteTask(self, name: object, flags: object = 0) -> None:
        task = find(self._machine.node, to_string(name))
        if task is None:
            raise com_error(E_FILE_NOT_FOUND)
        unregister(self._machine, task)


class ComRegisteredTask(v.DotNetObject):
    TYPE_NAME = "System.__ComObject#{9c86f320-dee3-4dd1-b972-a303f26b061e}"
    PROPERTIES = ("Name", "Path", "State", "Enabled", "LastRunTime", "LastTaskResult", "NextRunTime")
    METHODS = ("Run", "Stop")

    def __init__(self, machine: NodeMachine, task: ScheduledTask) -> None:
        self._machine = machine
        self._key = key(full_path(task.name, task.path))
        self.Name = task.name
        self.Path = full_path(task.name, task.path)

    def _task(self) -> ScheduledTask:
        task = self._machine.node.tasks.get(self._key)
        if task is None:
            raise com_error(E_FILE_NOT_FOUND)
        _reconcile(self._machine.node, task)
        return task

    @property
    def State(self) -> int:
        time_for_a_query(self._machine)
        return TASK_STATES.get(self._task().state, 0)

    @property
    def Enabled(self) -> bool:
        return self._task().state != "Disabled"

    @property
    def LastTaskResult(self) -> int:
        time_for_a_query(self._machine)
        return signed(self._task().last_result & 0xFFFFFFFF)  # a LONG through IDispatch

    @property
    def LastRunTime(self) -> object:
        task = self._task()
        return v.DateTime(_dt.datetime.fromisoformat(task.last_run_time)) if task.last_run_time else None

    @property
    def NextRunTime(self) -> object:
        return None

    def Run(self, parameters: object = None) -> object:
        try:
            start(self._machine, self._task())
        except TaskError as problem:
            raise com_error(problem.hresult) from None
        return v.NULL

    def Stop(self, flags: object = 0) -> None:
        stop(self._machine, self._task())


@surface.com_class("Schedule.Service")
def schedule_service(machine: NodeMachine) -> v.DotNetObject:
    return ComTaskService(machine)
