"""Mutation canaries: a script changed the way a slip would change it fails as Windows PowerShell 5.1 would,
with 5.1's words, through the real bootstrap and library.

A misspelled property of a FailoverClusters object (its properties are the catalogue's: dsccommunity's stub of
the real module), a parameter the cmdlet does not have (its real signature), a registry value that is absent.
"""

from __future__ import annotations

from pathlib import Path

from powershell_support import TestMachine
from test_powershell_scripts import cluster_machine, run_operation

from providers import runner_wire
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet, CommandDefinition

ROOT = Path(__file__).resolve().parent.parent
FC_NS = "Microsoft.FailoverClusters.PowerShell"


def script(name: str) -> str:
    return (ROOT / "providers" / "scripts" / f"{name}.ps1").read_text(encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def mutate(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_unmutated_scripts_succeed() -> None:
    machine, _ = cluster_machine()
    for operation, parameters in (("cluster_get", {}), ("role_get", {"Name": "SSO"})):
        outcome, _ = run_operation(machine, operation, parameters)
        assert outcome is not None and outcome.ok, (operation, outcome)


def test_a_misspelled_property_of_a_cluster_object_fails_under_strict_mode() -> None:
    machine, _ = cluster_machine()
    mutated = mutate(
        runner_wire.library(),
        "name                       = [string]$cluster.Name",
        "name                       = [string]$cluster.Nmae",
    )
    outcome, _ = run_operation(machine, "cluster_get", {}, library=mutated)
    assert outcome is not None and not outcome.ok
    assert (outcome.message, outcome.error_id, outcome.category) == (
        "The property 'Nmae' cannot be found on this object. Verify that the property exists.",
        "PropertyNotFoundStrict",
        "InvalidOperation",
    )
    assert outcome.line == line_of(mutated, "$cluster.Nmae")  # the line of the member expression


def test_a_misspelled_property_inside_the_library_fails_in_its_filter() -> None:
    machine, _ = cluster_machine()
    library = mutate(
        runner_wire.library(),
        "Where-Object { $_.OwnerGroup.Name -eq $Name })\n    $ip = ",
        "Where-Object { $_.OwnerGroup.Nmae -eq $Name })\n    $ip = ",
    )
    outcome, _ = run_operation(machine, "role_get", {"Name": "SSO"}, library=library)
    assert outcome is not None and not outcome.ok
    assert (outcome.message, outcome.error_id) == (
        "The property 'Nmae' cannot be found on this object. Verify that the property exists.",
        "PropertyNotFoundStrict",
    )
    assert outcome.line == line_of(library, "$_.OwnerGroup.Nmae")


def test_a_parameter_the_cmdlet_does_not_have_fails_with_the_binding_error() -> None:
    machine, _ = cluster_machine()
    mutated = mutate(runner_wire.library(), "@(Get-ClusterNode |", "@(Get-ClusterNode -State Up |")
    outcome, _ = run_operation(machine, "cluster_get", {}, library=mutated)
    assert outcome is not None and not outcome.ok
    assert (outcome.message, outcome.error_id, outcome.category) == (
        "A parameter cannot be found that matches parameter name 'State'.",
        f"NamedParameterNotFound,{FC_NS}.GetClusterNodeCommand",
        "InvalidArgument",
    )
    assert outcome.line == line_of(mutated, "Get-ClusterNode -State Up")


def test_a_plural_parameter_name_that_is_no_prefix_of_the_real_one_fails() -> None:
    machine, _ = cluster_machine()
    mutated = mutate(script("role_remove"), "Stop-ClusterGroup -Name $Name", "Stop-ClusterGroup -Names $Name")
    outcome, _ = run_operation(machine, "role_remove", {"Name": "SSO"}, script=mutated)
    assert outcome is not None and not outcome.ok
    assert outcome.error_id == f"NamedParameterNotFound,{FC_NS}.StopClusterGroupCommand"


def test_reading_an_absent_registry_value_by_name_fails_as_the_registry_provider_does() -> None:
    machine = TestMachine()
    machine.registry.set_value("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO\\SSOSS", "SomethingElse", "x")
    library = mutate(
        runner_wire.library(),
        "[string](Get-RegistryValue -Path $root -Name 'CurrentMSID')",
        "[string](Get-ItemProperty -LiteralPath $root -Name 'CurrentMSID').CurrentMSID",
    )
    outcome, _ = run_operation(machine, "secret_get", {}, library=library)
    assert outcome is not None and not outcome.ok
    assert (outcome.message, outcome.error_id, outcome.category) == (
        "Property CurrentMSID does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO\\SSOSS.",
        "System.Management.Automation.PSArgumentException,Microsoft.PowerShell.Commands.GetItemPropertyCommand",
        "InvalidArgument",
    )
    assert outcome.line == line_of(library, "-Name 'CurrentMSID').CurrentMSID")


def test_reading_an_absent_registry_value_as_a_property_fails_under_strict_mode() -> None:
    # Get-ItemProperty gives an object with the key's values only: reading any other name is reading an
    # absent value, which StrictMode refuses (the same holds for a value the key really lacks).
    machine = TestMachine()
    sql = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ENTSSO\\SQL"
    machine.registry.set_value(sql, "Server", "SQL01")
    machine.registry.set_value(sql, "Database", "SSODB")

    class NoService(Cmdlet):  # a double of Get-CimInstance: no such service
        SIGNATURE = CommandSignature(
            "Get-CimInstance",
            (parameter("ClassName", "string", mandatory=True, position=0), parameter("Filter", "string")),
            None,
            "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
        )

    machine.definitions = [CommandDefinition(NoService.SIGNATURE, NoService)]
    outcome, _ = run_operation(machine, "sso_get", {})
    assert outcome is not None and outcome.ok, outcome
    assert outcome.result["database"] == "SSODB"
    mutated = mutate(
        runner_wire.library(),
        "$sqlServer = [string](Get-RegistryValue -Path $sqlKey -Name 'Server')",
        "$sqlServer = [string](Get-ItemProperty -LiteralPath $sqlKey).Servr",
    )
    outcome, _ = run_operation(machine, "sso_get", {}, library=mutated)
    assert outcome is not None and not outcome.ok
    assert (outcome.message, outcome.error_id) == (
        "The property 'Servr' cannot be found on this object. Verify that the property exists.",
        "PropertyNotFoundStrict",
    )
    assert outcome.line == line_of(mutated, ").Servr")
