"""Microsoft.PowerShell.Archive's Expand-Archive over the node's files (inbox in Windows PowerShell 5.1).

`Expand-Archive -LiteralPath <zip> -DestinationPath <folder> -Force` (PSD reference/5.1/Microsoft.PowerShell.Archive/
Expand-Archive.md) unpacks a real .zip (Python's zipfile reads it) into the folder, creating it; without -Force an
existing file is an error (ExpandArchiveFileExists); a file that is not a zip archive is refused (F-NET-08; texts
from the module's ArchiveResources.psd1 as published in PowerShell/Microsoft.PowerShell.Archive 1.x, assumed the
same in 5.1's copy).
"""

from __future__ import annotations

import io
import zipfile
from typing import ClassVar

from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import DotNetError
from simulator.powershell.memory import normalize
from simulator.powershell.types import to_string
from simulator.world import surface

MODULE = "Microsoft.PowerShell.Archive"
surface.module(MODULE, installed=surface.always)


class ExpandArchive(Cmdlet):
    SIGNATURE = CommandSignature(
        "Expand-Archive",
        (
            parameter("Path", "string", mandatory=True, position=0, pipeline=True, sets=["Path"]),
            parameter(
                "LiteralPath", "string", mandatory=True, by_property_name=True, sets=["LiteralPath"], aliases=["PSPath"]
            ),
            parameter("DestinationPath", "string", position=1),
            parameter("Force", "switch"),
            parameter("PassThru", "switch"),
        ),
        "Path",
        "Expand-Archive",
        supports_should_process=True,
    )
    QUALIFIER: ClassVar[str] = "Expand-Archive"

    def process(self) -> None:
        source = normalize(to_string(self.get("LiteralPath") or self.get("Path")))
        destination = normalize(to_string(self.get("DestinationPath") or self.interp.location))
        filesystem = self.machine.filesystem
        entry = filesystem.stat(source)
        if entry is None or entry.is_directory:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.ItemNotFoundException",
                    f"The path '{source}' either does not exist or is not a valid file system path.",
                    "ArchiveCmdletPathNotFound",
                    "InvalidArgument",
                    target=source,
                )
            )
            return
        try:
            archive = zipfile.ZipFile(io.BytesIO(filesystem.read_bytes(source)))
        except zipfile.BadZipFile:
            self.throw_terminating_error(
                self.error(
                    "System.IO.InvalidDataException",
                    f"The archive file '{source}' is not a valid zip archive.",
                    "ArchiveFileIsNotValid",
                    "InvalidData",
                    target=source,
                )
            )
            return
        if not self.should_process(destination, "Expand"):
            return
        try:
            filesystem.make_directory(destination)
            for member in archive.infolist():
                target = destination.rstrip("\\") + "\\" + member.filename.replace("/", "\\").strip("\\")
                if member.is_dir():
                    filesystem.make_directory(target)
                    continue
                if filesystem.stat(target) is not None and not self.flag("Force"):
                    self.write_error(
                        self.error(
                            "System.IO.IOException",
                            f"Failed to create file '{target}' while expanding the archive file '{source}' "
                            f"contents as the file '{target}' already exists. Use the -Force parameter if you want to "
                            "overwrite the "
                            f"existing directory '{destination}' contents when expanding the archive file.",
                            "ExpandArchiveFileExists",
                            "ResourceExists",
                            target=target,
                        )
                    )
                    continue
                parent = target.rsplit("\\", 1)[0]
                if len(parent) > 3:
                    filesystem.make_directory(parent)
                filesystem.write_bytes(target, archive.read(member))
        except DotNetError as problem:
            self.throw_terminating_error(
                self.error(
                    problem.exception.type_name,
                    problem.exception.Message,
                    "ExpandArchiveError",
                    "WriteError",
                    target=destination,
                )
            )


surface.command(ExpandArchive, module=MODULE)
