"""Runs a Python plugin server for the Pulumi CLI so that it cannot outlive the CLI that started it.

The CLI starts the dynamic-provider host (`python -m pulumi.dynamic`) and a Python policy pack as
plugins in process groups of their own (pulumi/pulumi sdk/go/common/resource/plugin/plugin.go calls
cmdutil.RegisterProcessGroup), so a SIGKILL of the CLI, or of the CLI's process group, does not reach
them. An orphaned dynamic-provider host keeps listening on 127.0.0.1 and runs whatever pickled
provider a caller sends it: a local code-execution endpoint. So before the server starts, this asks
the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), and a watcher thread exits when it is
re-parented, in case the signal was missed.

Usage (from the launchers beside this file): `python -u guarded_host.py dynamic [ENGINE_ADDRESS]` in
the program directory (pulumi-resource-pulumi-python), `python -u guarded_host.py policy` in the
policy pack's directory (policy-pack).
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_INTERVAL_SECONDS = 0.1


def die_with_parent() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_INTERVAL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("dynamic", "policy"):
        sys.exit("usage: guarded_host.py dynamic|policy [ARGS...]")
    kind, arguments = sys.argv[1], sys.argv[2:]
    die_with_parent()
    # As `python -m ...` run from the plugin's directory would: that directory first on sys.path, so
    # that providers pickled by reference (`providers.*`) and the pack's own modules import from it.
    sys.path[0] = os.getcwd()
    if kind == "dynamic":
        sys.argv = ["pulumi.dynamic", *arguments]
        runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["__main__.py"]  # PolicyPack serves on a port of its own and prints it
        runpy.run_path(os.path.join(os.getcwd(), "__main__.py"), run_name="__main__")


if __name__ == "__main__":
    main()
