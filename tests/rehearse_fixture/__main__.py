"""A toy program for the rehearsal engine's tests. Config (namespace `toyproject`) switches parts on.

alpha -> beta (beta's content uses alpha's digest output); a component `group` with two children,
gamma (holds a lock, so it is replaced delete-first) and delta (replaced create-first); two
independent slow creates; vault (secret content, secret digest); a mocked non-dynamic bucket and
a mocked invoke. Optional: extra -> extra-child (withExtra); broken -> after-broken, and rival,
which wants gamma's lock (broken); keeper (withKeeper, protected with protectKeeper).
"""

from typing import Any

import pulumi
from toyprov import File

config = pulumi.Config()
root = config.require("dir")
slow_delay = float(config.get("slowDelay") or "0")
generation = int(config.get("providerGeneration") or "1")


def toy_file(name: str, file_name: pulumi.Input[str], content: pulumi.Input[str], **options: Any) -> File:
    return File(name, directory=root, file_name=file_name, content=content, generation=generation, **options)


class Group(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("toy:index:Group", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.gamma = toy_file("gamma", config.get("gammaName") or "gamma.txt", "gamma", lock="gamma", opts=child)
        self.delta = toy_file("delta", config.get("deltaName") or "delta.txt", "delta", opts=child)
        self.register_outputs({"gammaPath": self.gamma.path, "deltaPath": self.delta.path})


alpha = toy_file("alpha", "alpha.txt", config.get("alphaContent") or "alpha v1")
beta = toy_file("beta", "beta.txt", alpha.digest.apply(lambda d: f"beta follows alpha {d}"))
group = Group("group")
toy_file("slow-a", "slow-a.txt", "a", delay=slow_delay)
toy_file("slow-b", "slow-b.txt", "b", delay=slow_delay)
vault = toy_file(
    "vault",
    "vault.txt",
    config.require_secret("token"),
    opts=pulumi.ResourceOptions(additional_secret_outputs=["digest"]),
)
bucket = pulumi.CustomResource(
    "toycloud:storage:Bucket",
    "bucket",
    {"location": config.get("location") or "westeurope", "endpoint": None},
)
client = pulumi.runtime.invoke_output("azure-native:authorization:getClientConfig", {})  # a mocked invoke

if config.get_bool("withExtra"):
    extra = toy_file("extra", "extra.txt", "extra")
    toy_file("extra-child", "extra-child.txt", extra.path.apply(lambda p: f"of {p}"))

if config.get_bool("broken"):
    broken = toy_file("broken", "bad/name", "never")
    toy_file("after-broken", "after.txt", broken.path.apply(lambda p: f"of {p}"))
    toy_file("rival", "rival.txt", group.gamma.path.apply(lambda p: f"after {p}"), lock="gamma")

if config.get_bool("withKeeper"):
    keeper_options = pulumi.ResourceOptions(protect=bool(config.get_bool("protectKeeper")))
    toy_file("keeper", "keeper.txt", "keep", opts=keeper_options)

pulumi.export("betaContent", beta.content)
pulumi.export("banner", alpha.banner)
pulumi.export("vaultDigest", vault.digest)
pulumi.export("bucketId", bucket.id)
pulumi.export("tenantId", client.apply(lambda c: c["tenantId"]))
