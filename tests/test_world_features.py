"""Windows features on a simulated node (surface/features.py) and the scripts feature_get / feature_install.

Each operation runs as the runner runs it (tests/world_support.invoke: real bootstrap, library and script) on a
NodeMachine; Windows answers through Get-WindowsFeature and Install-WindowsFeature.
"""

from __future__ import annotations

import pytest

from simulator.world import WorldHost
from simulator.world.machine import NodeMachine, run_script
from simulator.wsman.backend import Session
from tests.test_world import INSTALL, N1, OUTSIDER, new_world
from tests.world_support import ScriptFailed, invoke, session

CLUSTERING = ["Failover-Clustering", "RSAT-Clustering-PowerShell"]


def modules(world: object) -> set[str]:
    node = world.node(N1)  # type: ignore[attr-defined]
    machine = NodeMachine(world, node, session(N1, INSTALL))  # type: ignore[arg-type]
    return set(machine.modules())


def test_feature_install_installs_the_clustering_features_and_their_tools_then_does_nothing() -> None:
    world = new_world()
    before = invoke(world, session(N1, INSTALL), "feature_get", Features=CLUSTERING)
    assert before["features"] == [{"name": n, "installed": False} for n in CLUSTERING]
    assert before["restartNeeded"] is False
    assert "FailoverClusters" not in modules(world)

    done = invoke(world, session(N1, INSTALL), "feature_install", Features=CLUSTERING)
    assert done["actions"] == [
        "Install-WindowsFeature Failover-Clustering",
        "Install-WindowsFeature RSAT-Clustering-PowerShell",
    ]
    assert done["features"] == [{"name": n, "installed": True} for n in CLUSTERING]
    assert done["restartNeeded"] is False
    node = world.node(N1)
    assert node is not None
    # -IncludeManagementTools brings the tools; a sub-feature brings its parents.
    assert {"RSAT-Clustering-Mgmt", "RSAT-Clustering", "RSAT-Feature-Tools", "RSAT"} <= set(node.features)
    assert "FailoverClusters" in modules(world)

    again = invoke(world, session(N1, INSTALL), "feature_install", Features=CLUSTERING)
    assert again["actions"] == [] and again["restartNeeded"] is False
    assert invoke(world, session(N1, INSTALL), "feature_get", Features=CLUSTERING) == {
        "computerName": N1,
        "features": [{"name": n, "installed": True} for n in CLUSTERING],
        "restartNeeded": False,
    }


def test_the_result_object_is_a_feature_operation_result() -> None:
    world = new_world()
    result = run_script(
        world,
        N1,
        "$r = Install-WindowsFeature -Name Failover-Clustering; $r.Success; [string]$r.RestartNeeded; "
        "[string]$r.ExitCode; @($r.FeatureResult | ForEach-Object { $_.DisplayName }); "
        "$again = Install-WindowsFeature -Name Failover-Clustering; [string]$again.ExitCode; @($again.FeatureResult).Count",
        session(N1, INSTALL),
    )
    assert result.terminating is None, result.terminating
    assert result.output == [True, "No", "Success", "Failover Clustering", "NoChangeNeeded", 0]
    # Without -IncludeManagementTools the PowerShell module did not come (F-SVC-04).
    assert "FailoverClusters" not in modules(world)


def test_a_feature_that_needs_a_restart_is_pending_until_the_node_restarts() -> None:
    host = WorldHost(new_world())
    world = host.world
    done = invoke(world, session(N1, INSTALL), "feature_install", Features=["Hyper-V"])
    assert done["restartNeeded"] is True
    assert done["features"] == [{"name": "Hyper-V", "installed": False}]
    # feature_get sees the pending restart too (it said restartNeeded: false whatever the state, F-SVC-04 "Today").
    assert invoke(world, session(N1, INSTALL), "feature_get", Features=["Hyper-V"])["restartNeeded"] is True
    assert invoke(world, session(N1, INSTALL), "feature_install", Features=["Hyper-V"])["actions"] == []
    host.reboot(N1)
    after = invoke(world, session(N1, INSTALL), "feature_get", Features=["Hyper-V"])
    assert after == {"computerName": N1, "features": [{"name": "Hyper-V", "installed": True}], "restartNeeded": False}


def test_an_unknown_feature_name_is_refused_with_server_managers_words() -> None:
    with pytest.raises(ScriptFailed) as failed:
        invoke(new_world(), session(N1, INSTALL), "feature_install", Features=["Failover-Clustring"])
    assert failed.value.message == (
        "ArgumentNotValid: The role, role service, or feature name is not valid: 'Failover-Clustring'. "
        "The name was not found."
    )
    assert failed.value.error_id == "NameDoesNotExist,Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand"


def test_installing_a_feature_needs_an_elevated_administrator() -> None:
    world = new_world()
    outsider = Session(node=N1, user=OUTSIDER, auth="ntlm", encrypted=True, delegated=False)
    assert invoke(world, outsider, "feature_get", Features=CLUSTERING)["features"][0]["installed"] is False
    with pytest.raises(ScriptFailed) as failed:
        invoke(world, outsider, "feature_install", Features=CLUSTERING)
    assert failed.value.message == "The requested operation requires elevation."
    assert not world.node(N1).features  # type: ignore[union-attr]


# --- mutation canaries: a script that gets Windows' objects or cmdlets wrong fails as 5.1 would ---------------


def invoke_text(operation: str, script: str, **parameters: object) -> ScriptFailed:
    from providers import runner_wire

    stdin = runner_wire.envelope(operation, script, parameters).decode("ascii")
    bootstrap = runner_wire.BOOTSTRAP_PATH.read_text(encoding="utf-8")
    process = run_script(new_world(), N1, bootstrap, session(N1, INSTALL), stdin=stdin)
    outcome = runner_wire.read_result(process.stdout.encode("utf-8"))
    assert outcome is not None and not outcome.ok, process.stdout
    return ScriptFailed(outcome)


def script(name: str) -> str:
    from tests.world_support import SCRIPTS

    return (SCRIPTS / f"{name}.ps1").read_text(encoding="utf-8")


def test_canary_a_misspelt_property_of_a_feature_fails_under_strict_mode() -> None:
    mutated = script("feature_get").replace("$feature.Installed", "$feature.Instaled")
    failed = invoke_text("feature_get", mutated, Features=CLUSTERING)
    assert failed.message == "The property 'Instaled' cannot be found on this object. Verify that the property exists."
    assert failed.error_id == "PropertyNotFoundStrict"


def test_canary_a_parameter_install_windowsfeature_does_not_have_is_refused() -> None:
    mutated = script("feature_install").replace("-IncludeManagementTools", "-IncludeManagementTols")
    failed = invoke_text("feature_install", mutated, Features=CLUSTERING)
    assert failed.message == "A parameter cannot be found that matches parameter name 'IncludeManagementTols'."
    assert failed.error_id == "NamedParameterNotFound,Microsoft.Windows.ServerManager.Commands.AddWindowsFeatureCommand"
