"""entsso-cluster: a clustered ENTSSO master secret server (Azure or the simulator), step by step."""

import pulumi

import settings
from components.simulated import simulated_nodes, simulated_witness
from components.sso_cluster import SsoMasterSecretCluster

try:
    config = settings.from_pulumi_config()
except settings.SettingsError as error:
    raise pulumi.RunError("invalid stack configuration:\n" + "\n".join(error.lines)) from None

if config.target is settings.Target.AZURE:
    from components.azure import azure_foundation

    foundation = azure_foundation(config)
    nodes, witness, escrow = foundation.nodes, foundation.witness, foundation.escrow
    if foundation.directory is not None and foundation.sql is not None:  # directory.source create
        lab = {"domainController": foundation.directory.dc_name, "dnsServer": foundation.directory.dc_ip}
        pulumi.export("labDirectory", {**lab, "sqlServer": foundation.sql.name, "ou": foundation.directory.ou_path})
else:
    nodes, witness, escrow = simulated_nodes(config), simulated_witness(config), None

sso = SsoMasterSecretCluster("mss", config, nodes, witness, escrow)

pulumi.export("nodes", [{"name": n.name, "ip": n.ip, "winrm": n.endpoint} for n in nodes])
pulumi.export("clusterName", config.cluster.name)
pulumi.export("clientAccessPoint", {"name": config.sso.network_name, "ip": str(config.sso.ip)})
pulumi.export("secretServer", sso.secret_server)
pulumi.export("ownerNode", sso.owner_node)
pulumi.export("backupSha256", sso.backup_sha256)
pulumi.export("keyVaultSecretId", sso.escrow_secret_id)
