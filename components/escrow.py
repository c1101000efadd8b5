"""The Key Vault that escrows the master secret backup: `entsso:escrow:KeyVaultEscrow`.

RBAC authorization (no access policies), soft delete always, purge protection in production (a lab
vault stays purgeable so a lab can be torn down and rebuilt). Production closes public network access
and is read through a private endpoint; the break-glass group (`azure.breakGlassGroupId`) holds Key
Vault Secrets User on the vault, the one data-plane right recovery needs (README "Recovering the
master secret"). A lab vault's name is Pulumi's auto-name (the logical name and a random suffix,
kept in state): every new lab gets a new name, so a rebuilt lab never collides with its predecessor
while that one is soft-deleted (learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization, keyvault

from components.access import Escrow
from components.failover_cluster import stable_suffix
from components.network import PrivateDns, private_endpoint
from settings import StackSettings, Tier

# Built-in role "Key Vault Secrets User": read secret contents (learn.microsoft.com/azure/
# role-based-access-control/built-in-roles/security#key-vault-secrets-user).
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

LAB_RETENTION_DAYS = 7  # the minimum: a destroyed lab vault's name is free again after a week
PRODUCTION_RETENTION_DAYS = 90


def vault_name(stack: str, config: StackSettings) -> str:
    """A legal, deterministic vault name: 3-24 letters, digits and hyphens, starting with a letter."""
    azure = config.azure
    if azure is None:
        raise ValueError("entsso-cluster:azure: is required for target azure")
    stem = "".join(ch for ch in config.cluster.name.lower() if ch.isascii() and ch.isalnum())[:12]
    return f"kv-{stem}-{stable_suffix(stack, azure.resource_group.name, azure.location, 'escrow')}"


class KeyVaultEscrow(pulumi.ComponentResource):
    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    escrow: Escrow

    def __init__(
        self,
        name: str,
        config: StackSettings,
        *,
        stack: str,
        resource_group_name: pulumi.Input[str],
        tags: Mapping[str, str],
        endpoint_subnet_id: pulumi.Input[str] | None = None,
        private_dns: PrivateDns | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("entsso:escrow:KeyVaultEscrow", name, None, opts)
        azure = config.azure
        if azure is None:
            raise ValueError("entsso-cluster:azure: is required for target azure")
        production = config.tier is Tier.PRODUCTION
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))

        if production:
            network_acls = keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices")
        else:
            # A lab admin outside Azure may read the escrow through the vault firewall; Key Vault IP
            # rules take public addresses only.
            admin = ipaddress.ip_network(config.network.admin_cidr)
            ip_rules = [keyvault.IPRuleArgs(value=str(admin))] if admin.is_global else None
            network_acls = keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices", ip_rules=ip_rules)

        vault = keyvault.Vault(
            f"{name}-vault",
            # Production keeps a name people can find in ten years; a lab gets a new one per deployment.
            vault_name=vault_name(stack, config) if production else None,
            resource_group_name=resource_group_name,
            location=azure.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=client.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=PRODUCTION_RETENTION_DAYS if production else LAB_RETENTION_DAYS,
                # Azure refuses `false` once purge protection is on; leaving it out keeps a lab purgeable.
                enable_purge_protection=True if production else None,
                public_network_access="Disabled" if production else "Enabled",
                network_acls=network_acls,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            tags=dict(tags),
            # The escrowed backup is the only way back to the master secret: never deleted with the stack.
            opts=pulumi.ResourceOptions(parent=self, protect=production, retain_on_delete=production),
        )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.endpoint_id: pulumi.Output[str] | None = None
        if production:
            if endpoint_subnet_id is None or private_dns is None:
                raise ValueError("a production vault needs the private endpoints' subnet and DNS zones")
            # Reached at <vault>.vault.azure.net through privatelink.vaultcore.azure.net
            # (learn.microsoft.com/azure/key-vault/general/private-link-service).
            endpoint = private_endpoint(
                f"{name}-vault-pe",
                kind="vault",
                target_id=vault.id,
                resource_group_name=resource_group_name,
                location=azure.location,
                subnet_id=endpoint_subnet_id,
                dns=private_dns,
                endpoint_name=f"pe-{config.cluster.name.lower()}-escrow",
                tags=tags,
                parent=self,
            )
            self.endpoint_id = endpoint.id
        self.reader_assignment_id: pulumi.Output[str] | None = None
        group = azure.break_glass_group_id
        if group is not None:
            role = pulumi.Output.concat(
                "/subscriptions/",
                client.subscription_id,
                f"/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_SECRETS_USER}",
            )
            assignment = authorization.RoleAssignment(
                f"{name}-break-glass",
                # A role assignment's name is a GUID: derived from the vault and the group, so it is the
                # same on every run and new for a new vault.
                role_assignment_name=vault.id.apply(
                    lambda vault_id: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{vault_id}|{group}|{KEY_VAULT_SECRETS_USER}"))
                ),
                principal_id=group,
                principal_type="Group",
                role_definition_id=role,
                scope=vault.id,
                description="entsso-cluster break-glass: read the escrowed ENTSSO master secret backup",
                opts=pulumi.ResourceOptions(parent=self, protect=production, retain_on_delete=production),
            )
            self.reader_assignment_id = assignment.id
        self.vault_uri = vault.properties.apply(lambda properties: properties.vault_uri or "")
        self.escrow = Escrow(vault_name=vault.name, resource_group_name=resource_group_name)
        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultName": self.vault_name,
                "vaultUri": self.vault_uri,
                "endpointId": self.endpoint_id,
                "readerAssignmentId": self.reader_assignment_id,
            }
        )
