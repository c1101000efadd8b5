"""Parameter binding as PowerShell does it, and its refusals in PowerShell's words.

Wordings: ParameterBinderStrings.resx and Metadata.resx of the 5.1 code base (PowerShell/PowerShell at
v6.0.0-alpha.10, src/System.Management.Automation/resources/). FailoverClusters cmdlets bind by the
signatures of the catalogue (dsccommunity/FailoverClusterDsc's stub of the real module), even those
whose behaviour the simulator does not model.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from powershell_support import FC, TestMachine

from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition
from simulator.powershell.errors import ErrorRecord
from simulator.powershell.types import to_string

FC_NS = "Microsoft.FailoverClusters.PowerShell"


def refusal(script: str, machine: TestMachine | None = None) -> ErrorRecord:
    result = (machine or TestMachine()).run("$ErrorActionPreference = 'Stop'\n" + script)
    assert result.terminating is not None, [to_string(o) for o in result.output]
    return result.terminating


@pytest.mark.parametrize(
    ("script", "message", "error_id"),
    [
        (
            "Get-ClusterResource -Nme 'x'",
            "A parameter cannot be found that matches parameter name 'Nme'.",
            f"NamedParameterNotFound,{FC_NS}.GetClusterResourceCommand",
        ),
        (
            "New-Cluster -Name 'C' -Nodes 'a', 'b'",  # the real parameter is -Node
            "A parameter cannot be found that matches parameter name 'Nodes'.",
            f"NamedParameterNotFound,{FC_NS}.NewClusterCommand",
        ),
        (
            "Get-ClusterOwnerNode -R 'x'",
            "Parameter cannot be processed because the parameter name 'R' is ambiguous. Possible matches include: "
            "-Resource -ResourceType.",
            f"AmbiguousParameter,{FC_NS}.GetClusterOwnerNodeCommand",
        ),
        (
            "New-Cluster -NoStorage",
            "Cannot process command because of one or more missing mandatory parameters: Name.",
            f"MissingMandatoryParameter,{FC_NS}.NewClusterCommand",
        ),
        (
            "Get-ClusterQuorum 'a' 'b'",
            "A positional parameter cannot be found that accepts argument 'b'.",
            f"PositionalParameterNotFound,{FC_NS}.GetClusterQuorumCommand",
        ),
        (
            "Get-ClusterResource -Name 'a' -Name 'b'",
            "Cannot bind parameter because parameter 'Name' is specified more than once. To provide multiple values to "
            'parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".',
            f"ParameterAlreadyBound,{FC_NS}.GetClusterResourceCommand",
        ),
        (
            "Get-ClusterResource -Name",
            "Missing an argument for parameter 'Name'. Specify a parameter of type "
            "'System.Collections.Specialized.StringCollection' and try again.",
            f"MissingArgument,{FC_NS}.GetClusterResourceCommand",
        ),
        (
            "Get-ClusterResource -VMId 'not-a-guid'",
            'Cannot bind parameter \'VMId\'. Cannot convert value "not-a-guid" to type "System.Guid". Error: "Guid '
            'should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."',
            f"CannotConvertArgumentNoMessage,{FC_NS}.GetClusterResourceCommand",
        ),
        (
            "New-Cluster -Name 'C' -ManagementPointNetworkType 'Dns'",
            "Cannot bind parameter 'ManagementPointNetworkType'. Cannot convert value \"Dns\" to type "
            f'"{FC_NS}.AdminAccessPointResType". Error: "Unable to match the identifier name Dns to a valid enumerator '
            'name. Specify one of the following enumerator names and try again:\nAutomatic, Singleton, Distributed"',
            f"CannotConvertArgumentNoMessage,{FC_NS}.NewClusterCommand",
        ),
        (
            "Get-Cluster -Name 'a' -Domain 'b' -ClusterSet $null",
            "Parameter set cannot be resolved using the specified named parameters.",
            f"AmbiguousParameterSet,{FC_NS}.GetClusterCommand",
        ),
        (
            "Get-ClusterResource -ErrorAction Bogus",
            "Cannot bind parameter 'ErrorAction'. Cannot convert value \"Bogus\" to type "
            '"System.Management.Automation.ActionPreference". Error: "Unable to match the identifier name Bogus to a '
            "valid enumerator name. Specify one of the following enumerator names and try again:\n"
            'SilentlyContinue, Stop, Continue, Inquire, Ignore, Suspend"',
            f"CannotConvertArgumentNoMessage,{FC_NS}.GetClusterResourceCommand",
        ),
    ],
)
def test_a_catalogue_cmdlet_refuses_what_its_signature_refuses(script: str, message: str, error_id: str) -> None:
    error = refusal(script)
    assert (error.message, error.error_id) == (message, error_id)
    assert error.exception.type_name.startswith("System.Management.Automation.ParameterBinding")
    assert error.invocation_info.script_line_number == 2


def test_a_catalogue_cmdlet_binds_then_fails_loudly_when_its_behaviour_is_not_modelled() -> None:
    error = refusal("New-Cluster -Name 'C' -Node 'a', 'b' -NoStorage -ManagementPointNetworkType Distributed")
    assert error.error_id == f"SimulatorCommandNotModelled,{FC_NS}.NewClusterCommand"
    assert "New-Cluster" in error.message


def test_cmdlets_of_a_module_not_installed_are_not_found() -> None:
    error = refusal("Get-ClusterResource", TestMachine(modules=()))
    assert error.error_id == "CommandNotFoundException"


class Recorder(Cmdlet):
    """Writes what it was bound to: the parameter set and each parameter's value."""

    SIGNATURE: ClassVar[CommandSignature] = CommandSignature(
        "Set-Thing",
        (
            parameter("Name", "string", mandatory=True, position=0, sets=["ByName"]),
            parameter("Id", "int", mandatory=True, sets=["ById"]),
            parameter("InputObject", "psobject", mandatory=True, pipeline=True, sets=["ByObject"]),
            parameter("Tag", "string[]", position=1, aliases=["Label"]),
            parameter("Owner", "string", by_property_name=True),
            parameter("Mode", "string", validate_set=["Fast", "Safe"]),
            parameter("Force", "switch"),
        ),
        "ByName",
        "Tests.SetThingCommand",
    )

    def process(self) -> None:
        shown = ";".join(f"{k}={to_string(v)}" for k, v in sorted(self.params.items()))
        self.write_object(f"{self.parameter_set}|{shown}")


def recorder() -> TestMachine:
    machine = TestMachine()
    machine.definitions = [CommandDefinition(Recorder.SIGNATURE, Recorder)]
    return machine


@pytest.mark.parametrize(
    ("script", "bound"),
    [
        ("Set-Thing a", "ByName|Name=a"),
        ("Set-Thing a 'x', 'y' -Force", "ByName|Force=True;Name=a;Tag=x y"),
        ("Set-Thing -Na a -Lab z", "ByName|Name=a;Tag=z"),  # an unambiguous prefix, an alias
        ("Set-Thing -Id '7'", "ById|Id=7"),
        ("Set-Thing -Name a -Force:$false -Mode safe", "ByName|Force=False;Mode=safe;Name=a"),
        ("$p = @{ Name = 'a'; Force = $true }\nSet-Thing @p", "ByName|Force=True;Name=a"),
        ("[pscustomobject]@{ Owner = 'o' } | Set-Thing", "ByObject|InputObject=@{Owner=o}"),
    ],
)
def test_binding_by_name_prefix_alias_position_splatting_and_pipeline(script: str, bound: str) -> None:
    result = recorder().run(script)
    assert result.terminating is None, result.terminating.message
    assert [to_string(o) for o in result.output] == [bound]


def test_validate_set_refuses_a_value_outside_the_set() -> None:
    error = refusal("Set-Thing a -Mode Reckless", recorder())
    assert error.message == (
        "Cannot validate argument on parameter 'Mode'. The argument \"Reckless\" does not belong to the set "
        '"Fast,Safe" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the '
        "command again."
    )
    assert error.error_id == "ParameterArgumentValidationError,Tests.SetThingCommand"
    assert error.category_info.category == "InvalidData"


def test_two_parameter_sets_at_once_are_refused() -> None:
    error = refusal("Set-Thing -Name a -Id 1", recorder())
    assert error.error_id == "AmbiguousParameterSet,Tests.SetThingCommand"


def test_a_mandatory_parameter_refuses_null_and_empty_string() -> None:
    assert refusal("Set-Thing -Name $null", recorder()).message == (
        "Cannot bind argument to parameter 'Name' because it is null."
    )
    error = refusal("Set-Thing -Name ''", recorder())
    assert error.error_id == "ParameterArgumentValidationErrorEmptyStringNotAllowed,Tests.SetThingCommand"


def test_pipeline_input_that_binds_to_nothing_is_a_non_terminating_error() -> None:
    machine = TestMachine()

    class Named(Cmdlet):
        SIGNATURE = CommandSignature("Get-Named", (parameter("Name", "string", by_property_name=True),), None, "T.Get")

        def process(self) -> None:
            self.write_object(to_string(self.get("Name")))

    machine.definitions = [CommandDefinition(Named.SIGNATURE, Named)]
    result = machine.run("[pscustomobject]@{ Name = 'n' }, 5 | Get-Named\n'after'")
    assert [to_string(o) for o in result.output] == ["n", "after"]
    assert [e.error_id for e in result.errors] == ["InputObjectNotBound,T.Get"]
    assert result.errors[0].message == (
        "The input object cannot be bound to any parameters for the command either because the command does not take "
        "pipeline input or the input and its properties do not match any of the parameters that take pipeline input."
    )


def test_a_function_reports_transformation_errors_with_its_own_name() -> None:
    script = "function Set-Port {\n  [CmdletBinding()]\n  param([int]$Port)\n  $Port\n}\nSet-Port -Port abc"
    error = refusal(script)
    assert error.message == (
        "Cannot process argument transformation on parameter 'Port'. Cannot convert value \"abc\" to type "
        '"System.Int32". Error: "Input string was not in a correct format."'
    )
    assert error.error_id == "ParameterArgumentTransformationError,Set-Port"
    assert error.invocation_info.script_line_number == 7


def test_an_advanced_function_refuses_unknown_names_a_simple_one_collects_them() -> None:
    advanced = "function f {\n  [CmdletBinding()]\n  param($a)\n}\nf -b 1"
    assert refusal(advanced).error_id == "NamedParameterNotFound,f"
    simple = 'function g {\n  param($a)\n  "$a|$args"\n}\ng -b 1'
    result = TestMachine().run(simple)
    assert [to_string(o) for o in result.output] == ["1|-b"]


def test_pipeline_functions_run_begin_process_end() -> None:
    script = (
        "function Add-One {\n  param([Parameter(ValueFromPipeline = $true)] $N)\n"
        "  begin { 'begin' }\n  process { $N + 1 }\n  end { 'end' }\n}\n1, 2 | Add-One"
    )
    result = TestMachine().run(script)
    assert [to_string(o) for o in result.output] == ["begin", "2", "3", "end"]


def test_catalogue_objects_bind_to_parameters_by_type() -> None:
    resource = FC.new(f"{FC_NS}.ClusterResource", Name="ENTSSO")
    machine = TestMachine()

    class GetResource(Cmdlet):
        def process(self) -> None:
            self.write_object(resource)

    class GetParameter(Cmdlet):
        def process(self) -> None:
            owner = self.get("InputObject")
            self.write_object(f"{self.parameter_set}:{to_string(owner)}:{to_string(self.get('Name'))}")

    machine.definitions = [
        FC.definition("Get-ClusterResource", GetResource),
        FC.definition("Get-ClusterParameter", GetParameter),
    ]
    result = machine.run("Get-ClusterResource | Get-ClusterParameter -Name 'A', 'B'")
    assert [to_string(o) for o in result.output] == ["InputObject:ENTSSO:A B"]
