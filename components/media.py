"""The install media on every node (sso.media): a data-plane read role and a staging Run Command.

The user uploads the BizTalk or HIS media once to a blob container of their own (README "The install
media"). Each node's system-assigned managed identity gets Storage Blob Data Reader on that container only
(learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage#storage-blob-data-reader), and
the node's StageMedia Run Command (`components/scripts/media_stage.ps1`) fetches the blob with the
identity's token, checks its SHA-256 and unpacks it where `sso.installer` points. No account key or SAS
token is in config or state. `pulumi destroy` removes the role assignments; the container and the media are
the user's and stay, so the next lab reuses them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import authorization, compute

from components import guest
from settings import StackSettings, reach
from settings.model import Media

# Built-in role "Storage Blob Data Reader": read blobs and list containers.
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
STORAGE_ENDPOINT_SUFFIX = "core.windows.net"
STAGE_SECONDS = 3600  # a few GB through a NAT gateway, and RBAC's minutes to apply


def container_scope(media: Media) -> str:
    return f"{media.storage_account_id}/blobServices/default/containers/{media.container}"


def reader_role_definition(media: Media) -> str:
    """The role definition id in the subscription that holds the media account."""
    subscription = media.storage_account_id.strip("/").split("/")[1]
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_READER}"


def media_reader(
    name: str,
    media: Media,
    *,
    principal_id: pulumi.Output[str],
    node_name: str,
    parent: pulumi.Resource,
) -> authorization.RoleAssignment:
    """Storage Blob Data Reader for one node's identity, on the media container only."""
    scope = container_scope(media)
    return authorization.RoleAssignment(
        name,
        # A role assignment's name is a GUID: derived from the scope and the identity, the same on every run.
        role_assignment_name=principal_id.apply(
            lambda principal: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{scope}|{principal}|{STORAGE_BLOB_DATA_READER}"))
        ),
        principal_id=principal_id,
        # A new identity may not have replicated yet; the principal type lets Azure accept it anyway.
        principal_type="ServicePrincipal",
        role_definition_id=reader_role_definition(media),
        scope=scope,
        description=f"entsso-cluster: {node_name} reads the install media",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def stage_media(
    name: str,
    config: StackSettings,
    *,
    vm_name: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    after: Sequence[pulumi.Resource],
) -> compute.VirtualMachineRunCommandByVirtualMachine:
    media = config.sso.media
    assert media is not None and config.azure is not None
    return guest.run_command(
        name,
        command=guest.STAGE_MEDIA,
        vm_name=vm_name,
        resource_group_name=resource_group_name,
        location=config.azure.location,
        parameters={
            "AccountName": reach.media_account_name(media.storage_account_id),
            "ContainerName": media.container,
            "BlobNameBase64": guest.encoded(media.blob),
            "Sha256": media.sha256,
            "StagingDirectoryBase64": guest.encoded(media.staging_directory),
            "InstallerPathBase64": guest.encoded(config.sso.installer),
            "EndpointSuffix": STORAGE_ENDPOINT_SUFFIX,
            "TimeoutSeconds": str(STAGE_SECONDS),
        },
        timeout_seconds=STAGE_SECONDS + 600,
        tags=tags,
        parent=parent,
        depends_on=after,
    )
