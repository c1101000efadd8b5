"""Storage: the disk cmdlets the clustered DTC needs to prepare an Azure shared disk (issue 12, finding 14).

An Azure shared disk arrives in the guest RAW; Microsoft's procedure initializes it, creates a simple volume
and formats it on one node before the disk is added to the cluster (F-AZ-03, F-CLU-23). These cmdlets show
the node's disks as the Storage module's CIM objects: the OS disk (0) and the Azure temporary disk (1) of the
node, and the world's shared disks (`World.disks`), which every node sees alike.

Signatures: the parameter names, types, sets, positions and pipeline binding are those of the Storage
module's pages (MicrosoftDocs/windows-powershell-docs `docset/winserver2022-ps/Storage/Get-Disk.md`,
`Get-PhysicalDisk.md`, `Initialize-Disk.md`, `New-Partition.md`, `Format-Volume.md`, read at f113d6bd). Enum
parameters (PartitionStyle, MbrType, PhysicalDiskUsage) bind as their member names (a ValidateSet): the
refusal text for a bad name differs from the enum conversion's. A parameter or parameter set whose behaviour
is not modelled binds and then fails loudly. The objects carry the MSFT_Disk / MSFT_PhysicalDisk /
MSFT_Partition / MSFT_Volume properties listed in each class below; a real property not listed throws
under StrictMode here, loudly, rather than answering with an invented value.
"""

from __future__ import annotations

from collections.abc import Iterable
from struct import error as struct_error
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, ParameterSpec, SetMembership
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import enumerate_items, to_string
from simulator.world import surface
from simulator.world.model import Disk, Partition, World

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

MODULE = "Storage"
CIM = "Microsoft.Management.Infrastructure.CimInstance"
NAMESPACE = "ROOT/Microsoft/Windows/Storage"
GIB = 1024**3


surface.module(MODULE, installed=surface.always)  # an inbox module of Windows Server 2012 and later


# --------------------------------------------------------------------------------------------- objects


class CimObject(v.DotNetObject):
    CLASS: ClassVar[str] = ""

    def ps_type_name(self) -> str:
        return f"{CIM}#{NAMESPACE}/{self.CLASS}"

    def ps_base_types(self) -> tuple[str, ...]:
        return (CIM, "System.Object")

    def ps_get(self, name: str) -> object:
        return getattr(self, name)


class DiskObject(CimObject):
    """MSFT_Disk. PartitionStyle reads as its name ("RAW", "GPT", "MBR"), as the module's formatting shows it."""

    CLASS = "MSFT_Disk"
    PROPERTIES = (
        "Number",
        "FriendlyName",
        "SerialNumber",
        "UniqueId",
        "Guid",
        "Path",
        "Location",
        "BusType",
        "Size",
        "AllocatedSize",
        "PartitionStyle",
        "NumberOfPartitions",
        "OperationalStatus",
        "HealthStatus",
        "IsOffline",
        "IsReadOnly",
        "IsBoot",
        "IsSystem",
        "IsClustered",
        "PSComputerName",
    )

    def __init__(self, computer: str, disk: LocalDisk | Disk, clustered: bool) -> None:
        self.Number = v.UInt32(disk.number)
        self.FriendlyName = "Msft Virtual Disk"
        self.SerialNumber = ""
        self.UniqueId = f"60022480{disk.number:024X}"  # a SCSI page-83 style id (its form is assumed)
        self.Guid = disk.unique_id if disk.partition_style == "GPT" else None
        self.Path = f"\\\\?\\scsi#disk&ven_msft&prod_virtual_disk#{disk.number}"
        self.Location = location(disk)
        self.BusType = "SCSI"
        self.Size = v.UInt64(disk.size)
        self.AllocatedSize = v.UInt64(sum(p.size for p in disk.partitions))
        self.PartitionStyle = disk.partition_style
        self.NumberOfPartitions = v.UInt32(len(disk.partitions))
        self.OperationalStatus = "Online"
        self.HealthStatus = "Healthy"
        self.IsOffline = False
        self.IsReadOnly = False
        self.IsBoot = disk.number == 0
        self.IsSystem = disk.number == 0
        self.IsClustered = clustered
        self.PSComputerName = None
        self.disk = disk
        self.computer = computer

    def ps_to_string(self) -> str:
        return f'MSFT_Disk (ObjectId = "{{1}}\\\\{self.computer}\\root/Microsoft/Windows/Storage/Providers_v2\\..."'


class PhysicalDiskObject(CimObject):
    """MSFT_PhysicalDisk: DeviceId is the disk number and PhysicalLocation ends in the LUN (F-AZ-04)."""

    CLASS = "MSFT_PhysicalDisk"
    PROPERTIES = (
        "DeviceId",
        "FriendlyName",
        "UniqueId",
        "PhysicalLocation",
        "Size",
        "CanPool",
        "HealthStatus",
        "OperationalStatus",
        "Usage",
        "PSComputerName",
    )

    def __init__(self, disk: LocalDisk | Disk) -> None:
        self.DeviceId = str(disk.number)
        self.FriendlyName = "Msft Virtual Disk"
        self.UniqueId = f"60022480{disk.number:024X}"
        self.PhysicalLocation = physical_location(disk)
        self.Size = v.UInt64(disk.size)
        self.CanPool = disk.partition_style == "RAW"
        self.HealthStatus = "Healthy"
        self.OperationalStatus = "OK"
        self.Usage = "Auto-Select"
        self.PSComputerName = None


class PartitionObject(CimObject):
    """MSFT_Partition."""

    CLASS = "MSFT_Partition"
    PROPERTIES = ("DiskNumber", "PartitionNumber", "DriveLetter", "Size", "Type", "PSComputerName")

    def __init__(self, disk: Disk, partition: Partition) -> None:
        self.DiskNumber = v.UInt32(disk.number)
        self.PartitionNumber = v.UInt32(partition.number)
        self.DriveLetter = v.PSChar(partition.drive_letter) if partition.drive_letter else v.PSChar("\0")
        self.Size = v.UInt64(partition.size)
        self.Type = "Basic"
        self.PSComputerName = None
        self.disk = disk
        self.partition = partition


class VolumeObject(CimObject):
    """MSFT_Volume, as Format-Volume returns it (its Example 3 shows these columns)."""

    CLASS = "MSFT_Volume"
    PROPERTIES = (
        "DriveLetter",
        "FileSystemLabel",
        "FileSystem",
        "DriveType",
        "HealthStatus",
        "OperationalStatus",
        "SizeRemaining",
        "Size",
        "PSComputerName",
    )

    def __init__(self, partition: Partition) -> None:
        self.DriveLetter = v.PSChar(partition.drive_letter) if partition.drive_letter else None
        self.FileSystemLabel = partition.label
        self.FileSystem = partition.file_system
        self.DriveType = "Fixed"
        self.HealthStatus = "Healthy"
        self.OperationalStatus = "OK"
        self.SizeRemaining = v.UInt64(partition.size)
        self.Size = v.UInt64(partition.size)
        self.PSComputerName = None


class LocalDisk:
    """A disk of the node alone: the Azure OS disk (0) and temporary disk (1). Fixed: nothing here changes them."""

    def __init__(self, number: int, lun: int, size: int, partitions: list[Partition]) -> None:
        self.number, self.lun, self.size, self.partitions = number, lun, size, partitions
        self.partition_style = "GPT" if number == 0 else "MBR"
        self.unique_id = f"{{00000000-0000-0000-0000-0000000000{number:02d}}}"


def local_disks() -> list[LocalDisk]:
    return [
        LocalDisk(0, 0, 127 * GIB, [Partition(1, 127 * GIB, "C", "NTFS", "Windows")]),
        LocalDisk(1, 1, 16 * GIB, [Partition(1, 16 * GIB, "D", "NTFS", "Temporary Storage")]),
    ]


def location(disk: LocalDisk | Disk) -> str:
    adapter = 0 if isinstance(disk, LocalDisk) else 1
    return f"Integrated : Adapter {adapter} : Port 0 : Target 0 : LUN {disk.lun}"


def physical_location(disk: LocalDisk | Disk) -> str:
    # implements F-AZ-04: "PhysicalLocation : Integrated : Adapter 1 : Port 0 : Target 0 : LUN 2" for an Azure data
    # disk at LUN 2 (learn.microsoft.com/troubleshoot/windows-server/backup-and-storage/manage-disks-standalone-
    # storage-spaces); the OS and temporary disks on adapter 0 are assumed.
    return location(disk)


# --------------------------------------------------------------------------------------------- cmdlets


def _spec(
    name: str, type_name: str, *memberships: SetMembership, aliases: Iterable[str] = (), choices: Iterable[str] = ()
) -> ParameterSpec:
    return ParameterSpec(name, type_name, tuple(memberships) or (SetMembership(),), tuple(aliases), tuple(choices))


def _in(
    *sets: str, mandatory: bool = False, position: int | None = None, pipe: bool = False, by_name: bool = False
) -> tuple[SetMembership, ...]:
    return tuple(SetMembership(s, mandatory, position, pipe, by_name) for s in sets)


CIM_COMMON = (
    _spec("CimSession", "Microsoft.Management.Infrastructure.CimSession[]", aliases=("Session",)),
    _spec("ThrottleLimit", "int"),
    _spec("AsJob", "switch"),
)


class StorageCmdlet(Cmdlet):
    MODELLED: ClassVar[frozenset[str]] = frozenset()  # the parameters whose behaviour is modelled

    @property
    def node_machine(self) -> NodeMachine:
        return self.machine  # type: ignore[return-value]

    @property
    def world(self) -> World:
        return self.node_machine.world

    def begin(self) -> None:
        unmodelled = sorted(set(self.params) - self.MODELLED)
        if unmodelled:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model {self.call.signature.name} with -{', -'.join(unmodelled)}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )

    def disks(self) -> list[LocalDisk | Disk]:
        return [*local_disks(), *self.node_machine.node.data_disks, *self.world.disks]

    def own(self, disk: LocalDisk | Disk) -> bool:
        """A disk this node may change: a shared disk, or one of its own data disks."""
        return isinstance(disk, Disk)

    def shared(self, number: int) -> Disk | None:
        return next((d for d in self.world.disks if d.number == number), None)

    def clustered(self, disk: LocalDisk | Disk) -> bool:
        from simulator.world.surface.cluster import clustered_disk

        return isinstance(disk, Disk) and clustered_disk(self.world.cluster, disk) is not None

    def disk_object(self, disk: LocalDisk | Disk) -> DiskObject:
        return DiskObject(self.node_machine.node.name, disk, self.clustered(disk))

    def not_found(self, property_name: str, value: object) -> None:
        # the Storage module's cmdletization text for a query that matches nothing (assumed)
        self.write_error(
            self.error(
                "Microsoft.Management.Infrastructure.CimException",
                f"No MSFT_Disk objects found with property '{property_name}' equal to '{value}'.  Verify the value "
                "of the property and retry.",
                f"CmdletizationQuery_NotFound_{property_name}",
                "ObjectNotFound",
                value,
            )
        )

    def numbers(self, parameter: str) -> list[int]:
        given = self.get(parameter)
        items = enumerate_items(given)
        return [int(to_string(n)) for n in (items if items is not None else [given])] if given is not None else []

    def input_disks(self) -> list[LocalDisk | Disk]:
        found: list[LocalDisk | Disk] = []
        if self.has("InputObject"):
            for item in enumerate_items(self.get("InputObject")) or [self.get("InputObject")]:
                if isinstance(item, DiskObject):
                    found.append(item.disk)
        for number in self.numbers("Number") or self.numbers("DiskNumber"):
            disk = next((d for d in self.disks() if d.number == number), None)
            if disk is None:
                self.not_found("Number", number)
            else:
                found.append(disk)
        return found


class GetDisk(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Get-Disk",
        (
            _spec("Number", "uint32[]", *_in("ByNumber", position=0, by_name=True), aliases=("DeviceId",)),
            _spec("UniqueId", "string[]", *_in("ByUniqueId"), aliases=("Id",)),
            _spec("FriendlyName", "string[]", *_in("ByName")),
            _spec("SerialNumber", "string[]", *_in("ByName")),
            _spec("Path", "string[]", *_in("ByPath", by_name=True)),
            _spec("Partition", f"{CIM}", *_in("ByPartition", pipe=True)),
            _spec("VirtualDisk", f"{CIM}", *_in("ByVirtualDisk", pipe=True)),
            _spec("iSCSISession", f"{CIM}", *_in("ByiSCSISession", pipe=True)),
            _spec("iSCSIConnection", f"{CIM}", *_in("ByiSCSIConnection", pipe=True)),
            _spec("StorageSubSystem", f"{CIM}", *_in("ByStorageSubSystem", pipe=True)),
            _spec("StorageNode", f"{CIM}", *_in("ByStorageNode", pipe=True)),
            _spec("StorageJob", f"{CIM}", *_in("ByStorageJob", pipe=True)),
            *CIM_COMMON,
        ),
        default_set="ByNumber",
        qualifier="Get-Disk",
    )
    MODELLED = frozenset({"Number"})

    def process(self) -> None:
        wanted = self.numbers("Number")
        for disk in self.disks():
            if not wanted or disk.number in wanted:
                self.write_object(self.disk_object(disk))
        for number in wanted:
            if not any(d.number == number for d in self.disks()):
                self.not_found("Number", number)


class GetPhysicalDisk(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Get-PhysicalDisk",
        (
            _spec("UniqueId", "string", *_in("ByUniqueId", pipe=True), aliases=("Id",)),
            _spec("ObjectId", "string", *_in("ByObjectId", pipe=True), aliases=("PhysicalDiskObjectId",)),
            _spec("FriendlyName", "string", *_in("ByName", position=0, pipe=True)),
            _spec("SerialNumber", "string", *_in("ByName", position=1, pipe=True)),
            _spec("InputObject", f"{CIM}", *_in("ByInputObject", mandatory=True, pipe=True)),
            _spec("StorageSubsystem", f"{CIM}", *_in("ByStorageSubsystem", mandatory=True, pipe=True)),
            _spec("StorageEnclosure", f"{CIM}", *_in("ByStorageEnclosure", mandatory=True, pipe=True)),
            _spec("StorageNode", f"{CIM}", *_in("ByStorageNode", mandatory=True, pipe=True)),
            _spec("StoragePool", f"{CIM}", *_in("ByStoragePool", mandatory=True, pipe=True)),
            _spec("VirtualDisk", f"{CIM}", *_in("ByVirtualDisk", mandatory=True, pipe=True)),
            _spec("Usage", "string"),
            _spec("Description", "string"),
            _spec("Manufacturer", "string"),
            _spec("Model", "string"),
            _spec("CanPool", "bool"),
            _spec("HealthStatus", "string"),
            _spec("PhysicallyConnected", "switch"),
            _spec("VirtualRangeMin", "uint64"),
            _spec("VirtualRangeMax", "uint64"),
            _spec("HasAllocations", "bool"),
            _spec("SelectedForUse", "bool"),
            _spec("NoRedundancy", "switch"),
            _spec("CimSession", "Microsoft.Management.Infrastructure.CimSession"),
        ),
        default_set="ByUniqueId",
        qualifier="Get-PhysicalDisk",
    )

    def process(self) -> None:
        for disk in self.disks():
            self.write_object(PhysicalDiskObject(disk))


class InitializeDisk(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Initialize-Disk",
        (
            _spec("Number", "uint32[]", *_in("ByNumber", mandatory=True, position=0, by_name=True)),
            _spec("UniqueId", "string[]", *_in("ByUniqueId", mandatory=True, by_name=True), aliases=("Id",)),
            _spec("FriendlyName", "string[]", *_in("ByName", by_name=True)),
            _spec("Path", "string[]", *_in("ByPath", mandatory=True, by_name=True)),
            _spec("VirtualDisk", f"{CIM}", *_in("ByVirtualDisk", pipe=True)),
            _spec("InputObject", f"{CIM}[]", *_in("InputObject (cdxml)", mandatory=True, pipe=True)),
            _spec("PartitionStyle", "string", choices=("Unknown", "MBR", "GPT")),
            _spec("PassThru", "switch"),
            *CIM_COMMON,
        ),
        default_set="ByNumber",
        qualifier="Initialize-Disk",
        supports_should_process=True,
    )
    MODELLED = frozenset({"Number", "InputObject", "PartitionStyle", "PassThru"})

    def process(self) -> None:
        style = to_string(self.get("PartitionStyle") or "GPT")  # "The default partition style is GPT."
        for disk in self.input_disks():
            shared = disk if isinstance(disk, Disk) else None
            if shared is None or disk.partition_style != "RAW":
                # implements F-AZ-05: only a RAW disk can be initialized (the wording is assumed)
                self.write_error(
                    self.error(
                        "Microsoft.Management.Infrastructure.CimException",
                        "The disk has already been initialized.",
                        "HRESULT 0xa0000000",
                        "InvalidOperation",
                        disk.number,
                    )
                )
                continue
            shared.partition_style = style.upper()
            if self.flag("PassThru"):
                self.write_object(self.disk_object(shared))


class NewPartition(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "New-Partition",
        (
            _spec("DiskNumber", "uint32[]", *_in("ByNumber", mandatory=True, position=0, by_name=True)),
            _spec("DiskId", "string[]", *_in("ByUniqueId", mandatory=True, by_name=True), aliases=("Id",)),
            _spec("DiskPath", "string[]", *_in("ByPath", mandatory=True, by_name=True)),
            _spec("InputObject", f"{CIM}[]", *_in("InputObject (cdxml)", mandatory=True, pipe=True)),
            _spec("Size", "uint64"),
            _spec("UseMaximumSize", "switch"),
            _spec("Offset", "uint64"),
            _spec("Alignment", "uint32"),
            _spec("DriveLetter", "char", aliases=("NewDriveLetter",)),
            _spec("AssignDriveLetter", "switch"),
            _spec("MbrType", "string"),
            _spec("GptType", "string"),
            _spec("IsHidden", "switch"),
            _spec("IsActive", "switch"),
            *CIM_COMMON,
        ),
        default_set="ByNumber",
        qualifier="New-Partition",
    )
    MODELLED = frozenset({"DiskNumber", "InputObject", "UseMaximumSize", "AssignDriveLetter", "DriveLetter", "Size"})

    def process(self) -> None:
        for disk in self.input_disks():
            if not isinstance(disk, Disk) or disk.partition_style == "RAW":
                # a RAW disk must be initialized first (Initialize-Disk: "Disks must be initialized before they can
                # be formatted"); the wording is assumed
                self.write_error(
                    self.error(
                        "Microsoft.Management.Infrastructure.CimException",
                        "The disk has not been initialized.",
                        "HRESULT 0xa0000000",
                        "InvalidOperation",
                        disk.number,
                    )
                )
                continue
            used = sum(p.size for p in disk.partitions)
            size = disk.size - used if self.flag("UseMaximumSize") or not self.has("Size") else int(self.get("Size"))
            letter = to_string(self.get("DriveLetter")) if self.has("DriveLetter") else ""
            if self.flag("AssignDriveLetter") and not letter:
                taken = {p.drive_letter.upper() for d in self.disks() for p in d.partitions if p.drive_letter}
                letter = next(ch for ch in "EFGHIJKLMNOPQRSTUVWXYZ" if ch not in taken)
            partition = Partition(len(disk.partitions) + 1, size, letter)
            disk.partitions.append(partition)
            self.write_object(PartitionObject(disk, partition))


class FormatVolume(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Format-Volume",
        (
            _spec("DriveLetter", "char[]", *_in("ByDriveLetter", mandatory=True, position=0, by_name=True)),
            _spec("ObjectId", "string[]", *_in("ById", mandatory=True, by_name=True), aliases=("Id",)),
            _spec("Path", "string[]", *_in("ByPaths", mandatory=True, by_name=True)),
            _spec("FileSystemLabel", "string[]", *_in("ByLabel", mandatory=True, by_name=True)),
            _spec("Partition", f"{CIM}", *_in("ByPartition", pipe=True)),
            _spec("InputObject", f"{CIM}[]", *_in("InputObject (cdxml)", mandatory=True, pipe=True)),
            _spec("FileSystem", "string", choices=("FAT", "FAT32", "exFAT", "NTFS", "ReFS")),
            _spec("NewFileSystemLabel", "string"),
            _spec("AllocationUnitSize", "uint32", aliases=("ClusterSize",)),
            _spec("Full", "switch"),
            _spec("Force", "switch"),
            _spec("Compress", "switch"),
            _spec("ShortFileNameSupport", "bool"),
            _spec("SetIntegrityStreams", "bool"),
            _spec("UseLargeFRS", "switch"),
            _spec("DisableHeatGathering", "switch"),
            _spec("IsDAX", "bool"),
            _spec("DevDrive", "switch"),
            *CIM_COMMON,
        ),
        default_set="ByDriveLetter",
        qualifier="Format-Volume",
        supports_should_process=True,
    )
    MODELLED = frozenset({"Partition", "InputObject", "FileSystem", "NewFileSystemLabel", "Force", "Full"})

    def process(self) -> None:
        piped = self.get("Partition") if self.has("Partition") else self.get("InputObject")
        items = enumerate_items(piped)
        if items is not None and len(items) == 1:
            piped = items[0]
        if not isinstance(piped, PartitionObject):
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    "The simulated node models Format-Volume only for a partition New-Partition returned (-Partition).",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
            return
        partition = piped.partition
        partition.file_system = to_string(self.get("FileSystem") or "NTFS")
        partition.label = to_string(self.get("NewFileSystemLabel") or "")
        self.write_object(VolumeObject(partition))


class DiskImageObject(CimObject):
    """MSFT_DiskImage, as Mount-DiskImage -PassThru returns it (Mount-DiskImage's page, Outputs)."""

    CLASS = "MSFT_DiskImage"
    PROPERTIES = (
        "ImagePath",
        "Attached",
        "BlockSize",
        "DevicePath",
        "FileSize",
        "LogicalSectorSize",
        "Number",
        "Size",
        "StorageType",
        "PSComputerName",
    )

    def __init__(self, path: str, size: int, letter: str) -> None:
        self.ImagePath = path
        self.Attached = bool(letter)
        self.BlockSize = v.UInt32(0)
        self.DevicePath = "\\\\.\\CDROM0" if letter else None
        self.FileSize = v.UInt64(size)
        self.LogicalSectorSize = v.UInt32(2048)
        self.Number = None
        self.Size = v.UInt64(size)
        self.StorageType = v.UInt32(1)  # ISO
        self.PSComputerName = None
        self.letter = letter


def image_files(content: bytes) -> dict[str, bytes] | None:
    """The files of an ISO 9660 image (with its Joliet or UDF names where present), by path; None if not one.

    implements F-NET-07: the image is read with pycdlib (a real ISO 9660 / Joliet / UDF reader)."""
    import io

    import pycdlib
    from pycdlib.pycdlibexception import PyCdlibException

    reader = pycdlib.PyCdlib()
    try:
        reader.open_fp(io.BytesIO(content))
    except (PyCdlibException, ValueError, IndexError, struct_error):
        return None
    found: dict[str, bytes] = {}
    try:
        kind = "udf_path" if reader.has_udf() else "joliet_path" if reader.has_joliet() else "iso_path"
        for root, _dirs, files in reader.walk(**{kind: "/"}):
            for name in files:
                path = (root.rstrip("/") + "/" + name) if root != "/" else "/" + name
                buffer = io.BytesIO()
                reader.get_file_from_iso_fp(buffer, **{kind: path})
                clean = path.split(";", 1)[0] if kind == "iso_path" else path
                found[clean.strip("/").replace("/", "\\")] = buffer.getvalue()
    finally:
        reader.close()
    return found


class MountDiskImage(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Mount-DiskImage",
        (
            _spec("ImagePath", "string[]", *_in("ByImagePath", mandatory=True, position=0, by_name=True)),
            _spec("InputObject", f"{CIM}[]", *_in("InputObject (cdxml)", mandatory=True, pipe=True)),
            _spec("StorageType", "string"),
            _spec("Access", "string"),
            _spec("NoDriveLetter", "switch"),
            _spec("PassThru", "switch"),
            *CIM_COMMON,
        ),
        default_set="ByImagePath",
        qualifier="Mount-DiskImage",
    )
    MODELLED = frozenset({"ImagePath", "PassThru"})

    def process(self) -> None:
        node = self.node_machine.node
        filesystem = self.node_machine.filesystem
        for path in [to_string(p) for p in enumerate_items(self.get("ImagePath")) or [self.get("ImagePath")]]:
            from simulator.world.model import path_key

            content = node.file(path)
            files = image_files(content) if content is not None else None
            if content is None or files is None:
                # implements F-NET-07: a missing file, or one that is not a disk image (texts assumed)
                self.write_error(
                    self.error(
                        "Microsoft.Management.Infrastructure.CimException",
                        "The file or directory is corrupted and unreadable."
                        if content is not None
                        else "The system cannot find the file specified.",
                        "HRESULT 0x80070570" if content is not None else "HRESULT 0x80070002",
                        "NotSpecified" if content is not None else "ObjectNotFound",
                        path,
                    )
                )
                continue
            letter = node.mounted_images.get(path_key(path), "")
            if not letter:
                taken = {p.drive_letter.upper() for d in self.disks() for p in d.partitions if p.drive_letter}
                taken |= {m.upper() for m in node.mounted_images.values()}
                letter = next(ch for ch in "EFGHIJKLMNOPQRSTUVWXYZ" if ch not in taken)
                node.mounted_images[path_key(path)] = letter
                for name, data in files.items():
                    target = f"{letter}:\\{name}"
                    parent = target.rsplit("\\", 1)[0]
                    filesystem.make_directory(parent) if len(parent) > 3 else None
                    filesystem.write_bytes(target, data)
            if self.flag("PassThru"):
                self.write_object(DiskImageObject(path, len(content), letter))


class DismountDiskImage(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Dismount-DiskImage",
        (
            _spec("ImagePath", "string[]", *_in("ByImagePath", mandatory=True, position=0, by_name=True)),
            _spec("DevicePath", "string[]", *_in("ByDevicePath", mandatory=True, by_name=True)),
            _spec("InputObject", f"{CIM}[]", *_in("InputObject (cdxml)", mandatory=True, pipe=True)),
            _spec("PassThru", "switch"),
            *CIM_COMMON,
        ),
        default_set="ByImagePath",
        qualifier="Dismount-DiskImage",
    )
    MODELLED = frozenset({"ImagePath", "PassThru"})

    def process(self) -> None:
        from simulator.world.model import path_key

        node = self.node_machine.node
        for path in [to_string(p) for p in enumerate_items(self.get("ImagePath")) or [self.get("ImagePath")]]:
            letter = node.mounted_images.pop(path_key(path), "")
            if letter:
                prefix = path_key(f"{letter}:\\")
                for name in [n for n in node.files if n.startswith(prefix)]:
                    del node.files[name]
                for name in [n for n in node.directories if n.startswith(prefix)]:
                    del node.directories[name]
            if self.flag("PassThru"):
                content = node.file(path) or b""
                self.write_object(DiskImageObject(path, len(content), ""))


class GetVolume(StorageCmdlet):
    SIGNATURE = CommandSignature(
        "Get-Volume",
        (
            _spec("DriveLetter", "char[]", *_in("ByDriveLetter", position=0, by_name=True)),
            _spec("ObjectId", "string[]", *_in("ById", mandatory=True, by_name=True), aliases=("Id",)),
            _spec("Path", "string[]", *_in("ByPaths", mandatory=True, by_name=True)),
            _spec("FileSystemLabel", "string[]", *_in("ByLabel", mandatory=True, by_name=True)),
            _spec("Partition", f"{CIM}", *_in("ByPartition", pipe=True)),
            _spec("DiskImage", f"{CIM}", *_in("ByDiskImage", pipe=True)),
            _spec("FilePath", "string[]", *_in("ByFilePath", mandatory=True, by_name=True)),
            *CIM_COMMON,
        ),
        default_set="ByDriveLetter",
        qualifier="Get-Volume",
    )
    MODELLED = frozenset({"DriveLetter", "FileSystemLabel", "DiskImage", "Partition"})

    def process(self) -> None:
        node = self.node_machine.node
        volumes = [(p.drive_letter, p.label, p) for d in self.disks() for p in d.partitions if p.file_system]
        for image_letter in node.mounted_images.values():
            volumes.append((image_letter, "", Partition(1, 0, image_letter, "UDF", "")))
        # -Partition and -DiskImage are both CimInstance parameters told apart by their PSTypeName (MSFT_Partition,
        # MSFT_DiskImage): the piped object's class decides here.
        piped = self.get("DiskImage") if self.has("DiskImage") else self.get("Partition")
        if isinstance(piped, DiskImageObject):
            image = piped
            letter = image.letter if isinstance(image, DiskImageObject) else ""
            for found_letter, _label, partition in volumes:
                if letter and found_letter.upper() == letter.upper():
                    self.write_object(VolumeObject(partition))
            return
        if self.has("Partition"):
            piped = self.get("Partition")
            if isinstance(piped, PartitionObject) and piped.partition.file_system:
                self.write_object(VolumeObject(piped.partition))
            return
        if self.has("FileSystemLabel"):
            for label in [to_string(x) for x in enumerate_items(self.get("FileSystemLabel")) or []]:
                hits = [p for _l, lab, p in volumes if lab.lower() == label.lower()]
                if not hits:
                    self.write_error(
                        self.error(
                            "Microsoft.Management.Infrastructure.CimException",
                            f"No MSFT_Volume objects found with property 'FileSystemLabel' equal to '{label}'.  Verify "
                            "the value of the property and retry.",
                            "CmdletizationQuery_NotFound_FileSystemLabel",
                            "ObjectNotFound",
                            label,
                        )
                    )
                for partition in hits:
                    self.write_object(VolumeObject(partition))
            return
        wanted = (
            {to_string(x).upper() for x in enumerate_items(self.get("DriveLetter")) or []}
            if self.has("DriveLetter")
            else set()
        )
        for letter, _label, partition in volumes:
            if not wanted or letter.upper() in wanted:
                self.write_object(VolumeObject(partition))


for _command in (
    GetDisk,
    GetPhysicalDisk,
    InitializeDisk,
    NewPartition,
    FormatVolume,
    MountDiskImage,
    DismountDiskImage,
    GetVolume,
):
    surface.command(_command, module=MODULE)
