"""Invoke-CimMethod (CimCmdlets) on an instance Get-CimInstance returned: the instance's own methods.

`Invoke-CimMethod -InputObject <instance> -MethodName <m> [-Arguments @{...}]` (PSD reference/5.1/CimCmdlets/
Invoke-CimMethod.md) returns the method's out parameters with its `ReturnValue` as one object. A provider's
instance answers through `cim_invoke(method, arguments)`; a method the class lacks is WBEM_E_INVALID_METHOD
(0x8004102E, "Invalid method "; the CimException's text is assumed, as for F-SVC-11).
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.types import enumerate_items, to_string
from simulator.world import surface

CIM = "Microsoft.Management.Infrastructure.CimCmdlets"


class MethodInstance(Protocol):
    def cim_invoke(self, method: str, arguments: dict[str, object]) -> dict[str, object] | None: ...


class CimMethodResult(v.DotNetObject):
    TYPE_NAME = "Microsoft.Management.Infrastructure.CimMethodResult"

    def __init__(self, values: dict[str, object]) -> None:
        self._values = {**values, "PSComputerName": None}

    def ps_property_names(self) -> list[str]:
        return list(self._values)

    def ps_get(self, name: str) -> object:
        return self._values[name]


class InvokeCimMethod(Cmdlet):
    SIGNATURE = CommandSignature(
        "Invoke-CimMethod",
        (
            parameter(
                "InputObject",
                "ciminstance",
                mandatory=True,
                pipeline=True,
                sets=["CimInstanceComputerSet"],
                aliases=["CimInstance"],
            ),
            parameter("MethodName", "string", mandatory=True, position=2, aliases=["Name"]),
            parameter("Arguments", "System.Collections.IDictionary", position=1),
            parameter("ClassName", "string", mandatory=True, position=0, sets=["ClassNameComputerSet"]),
            parameter("Namespace", "string"),
            parameter("ComputerName", "string[]"),
            parameter("OperationTimeoutSec", "uint32", aliases=["OT"]),
        ),
        "CimInstanceComputerSet",
        f"{CIM}.InvokeCimMethodCommand",
        supports_should_process=True,
    )
    MODELLED: ClassVar[frozenset[str]] = frozenset({"InputObject", "MethodName", "Arguments"})

    def process(self) -> None:
        unmodelled = sorted(set(self.params) - self.MODELLED)
        if unmodelled:
            self.throw_terminating_error(
                self.error(
                    "System.Management.Automation.RuntimeException",
                    f"The simulated node does not model Invoke-CimMethod with -{', -'.join(unmodelled)}.",
                    "SimulatorCommandNotModelled",
                    "NotImplemented",
                )
            )
        instance = self.get("InputObject")
        items = enumerate_items(instance)
        if items is not None and len(items) == 1:
            instance = items[0]
        method = to_string(self.get("MethodName"))
        arguments: dict[str, object] = {}
        given = self.get("Arguments")
        if isinstance(given, v.Hashtable):
            arguments = {to_string(k): value for k, value in given.items()}
        invoke = getattr(instance, "cim_invoke", None)
        result = invoke(method, arguments) if callable(invoke) else None
        if result is None:
            self.write_error(
                self.error(
                    "Microsoft.Management.Infrastructure.CimException",
                    "Invalid method ",
                    "HRESULT 0x8004102e",
                    "MetadataError",
                    target=method,
                    hresult=-2147217362,
                )
            )
            return
        if self.should_process(to_string(instance), method):
            self.write_object(CimMethodResult(result))


surface.command(InvokeCimMethod)
