"""ClusterFeatures and SsoInstall (the two installers on a node) against the simulated nodes, through real WinRM.

Each reads first and installs only what is missing, so a re-run, or an `up` on a stack whose nodes already
have everything (one built by the graph before the split), only probes; a refresh sees what was removed."""

from __future__ import annotations

from typing import Any

import pytest
from providers_support import CONFIG, N1, N2, configured, record_calls, sim, targets, world_op  # noqa: F401
from pulumi.output import Unknown

from ops import simstack
from providers.cluster_features import FEATURES, ClusterFeaturesProvider
from providers.runner import RemoteOperationError
from providers.sso_install import SsoInstallProvider
from simulator.world.model import key

UNKNOWN: Any = Unknown()  # type: ignore[no-untyped-call]  # a preview's unknown value


def target(stack: simstack.SimulatedStack, node: str) -> dict[str, Any]:
    return dict(next(t for t in targets(stack) if t["name"] == node))


def install_inputs(stack: simstack.SimulatedStack, node: str = N1, **changes: Any) -> dict[str, Any]:
    return {"node": target(stack, node), "installer": CONFIG.sso.installer, "product": "biztalk", **changes}


@pytest.fixture
def ran(sim: simstack.SimulatedStack, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    return record_calls(sim, monkeypatch)


def test_features_are_installed_once_and_then_only_probed(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    provider = configured(ClusterFeaturesProvider)
    created = provider.create({"node": target(sim, N2)})
    assert created.id == f"{N2}/features"
    assert (created.outs or {})["installed"] == sorted(FEATURES)
    assert {key(f) for f in FEATURES} <= {key(f) for f in sim.world.nodes[key(N2)].features}
    assert not {key(f) for f in FEATURES} & {key(f) for f in sim.world.nodes[key(N1)].features}  # its own node only
    assert ran == [(N2, "feature_get"), (N2, "feature_install")]
    ran.clear()
    provider.create({"node": target(sim, N2)})
    assert ran == [(N2, "feature_get")]


def test_a_removed_feature_is_gone_on_refresh_and_installed_again(sim: simstack.SimulatedStack) -> None:
    provider = configured(ClusterFeaturesProvider)
    created = provider.create({"node": target(sim, N1)})
    with sim.host.lock:
        sim.world.nodes[key(N1)].features = [f for f in sim.world.nodes[key(N1)].features if key(f) != key(FEATURES[0])]
    assert provider.read(created.id, created.outs or {}).id == ""
    provider.create({"node": target(sim, N1)})
    assert key(FEATURES[0]) in {key(f) for f in sim.world.nodes[key(N1)].features}


def test_features_diff_replaces_only_for_another_computer(sim: simstack.SimulatedStack) -> None:
    provider = configured(ClusterFeaturesProvider)
    olds = {"node": target(sim, N1), "features": FEATURES, "installed": FEATURES, "__provider": "old"}
    assert not provider.diff("id", olds, {"node": target(sim, N1), "features": FEATURES}).changes
    assert provider.diff("id", olds, {"node": target(sim, N2), "features": FEATURES}).replaces == ["node"]
    moved = {**target(sim, N1), "endpoint": "https://10.10.1.11:5986/wsman"}
    assert provider.diff("id", olds, {"node": moved, "features": FEATURES}).replaces == []
    assert sim.http_requests() == 0


def test_sso_is_installed_without_a_cluster_once_and_then_only_probed(
    sim: simstack.SimulatedStack, ran: list[tuple[str, str]]
) -> None:
    provider = configured(SsoInstallProvider)
    created = provider.create(install_inputs(sim))
    assert created.id == f"{N1}/sso-install" and (created.outs or {})["installed"] is True
    assert sim.world.cluster is None  # F-SSO-33: no cluster needed
    assert not {key(f) for f in FEATURES} & {key(f) for f in sim.world.nodes[key(N1)].features}
    assert ran == [(N1, "sso_get"), (N1, "sso_install")]
    ran.clear()
    provider.create(install_inputs(sim))
    assert ran == [(N1, "sso_get")]
    state = world_op(sim, N1, "sso_get")
    assert state["installed"] and not state["configured"]  # configuration is SsoServer's


def test_sso_install_fails_with_windows_words_and_the_next_run_installs(sim: simstack.SimulatedStack) -> None:
    provider = configured(SsoInstallProvider)
    with pytest.raises(RemoteOperationError) as caught:
        provider.create(install_inputs(sim, installer="D:\\Missing\\Setup.exe"))
    assert caught.value.operation == "sso_install" and "does not exist" in caught.value.message
    assert world_op(sim, N1, "sso_get")["installed"] is False
    assert (provider.create(install_inputs(sim)).outs or {})["installed"] is True


def test_sso_install_read_delete_and_check(sim: simstack.SimulatedStack, ran: list[tuple[str, str]]) -> None:
    provider = configured(SsoInstallProvider)
    created = provider.create(install_inputs(sim, N2))
    assert provider.read(created.id, created.outs or {}).id == created.id
    ran.clear()
    provider.delete(created.id, created.outs or {})  # forgets: the binaries stay
    assert ran == []
    assert world_op(sim, N2, "sso_get")["installed"] is True
    olds = {**install_inputs(sim, N2), "installed": True}
    assert not provider.diff("id", olds, {**install_inputs(sim, N2), "__provider": "new"}).changes
    assert provider.diff("id", olds, install_inputs(sim, N1)).replaces == ["node"]
    assert provider.diff("id", olds, install_inputs(sim, N2, installer="D:\\Media\\Setup.exe")).replaces == []
    bad = provider.check({}, install_inputs(sim, product="mainframe", installer="x"))
    assert {failure.property for failure in bad.failures} == {"product", "installer"}
    unknown = {**install_inputs(sim), "node": UNKNOWN, "installer": UNKNOWN}
    assert provider.check({}, unknown).failures == []
