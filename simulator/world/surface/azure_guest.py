"""Azure as a VM reaches it over HTTP: the Instance Metadata Service's managed identity token, and Blob Storage.

`Invoke-RestMethod` (PSD reference/5.1/Microsoft.PowerShell.Utility/Invoke-RestMethod.md) reaches two endpoints
from a simulated node; any other address is refused loudly:
- IMDS `GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=...&resource=...` with the header
  `Metadata: true` returns the token of the VM's system-assigned identity (access_token, expires_on, resource,
  token_type) as an object (F-AZ-06). Without the header: 400; a VM without an identity: 400 (texts F-AZ-06).
- Blob Storage `GET https://<account>.blob.core.windows.net/<container>/<blob>` with `Authorization: Bearer <token>`
  and `x-ms-version` 2017-11-09 or later (OAuth needs it, F-AZ-07): the blob's bytes (`-OutFile`); 403
  AuthorizationPermissionMismatch while the identity has no data-plane read role on the container; 404 BlobNotFound
  / ContainerNotFound (F-AZ-08). The world keeps the blobs (`World.blobs`) and who may read each container
  (`World.blob_readers`, principal ids).
An HTTP error is a System.Net.WebException whose `.Response.StatusCode` is the status (F-AZ-09), as Windows
PowerShell 5.1's web cmdlets throw it (WebCmdletWebResponseException).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from typing import TYPE_CHECKING, ClassVar

from simulator.powershell import values as v
from simulator.powershell.binder import CommandSignature, parameter
from simulator.powershell.cmdlets import Cmdlet
from simulator.powershell.errors import DotNetError, NetException, register_exception_type
from simulator.powershell.types import PSType, to_string
from simulator.world import surface
from simulator.world.model import World

if TYPE_CHECKING:
    from simulator.world.machine import NodeMachine

IMDS_HOST = "169.254.169.254"
STORAGE_RESOURCE = "https://storage.azure.com/"
OAUTH_MIN_VERSION = "2017-11-09"
WEB_EXCEPTION = "System.Net.WebException"
register_exception_type("System.InvalidOperationException", "System.SystemException")
register_exception_type(WEB_EXCEPTION, "System.InvalidOperationException")

HTTP_STATUS = v.EnumType(
    "System.Net.HttpStatusCode",
    (("OK", 200), ("BadRequest", 400), ("Forbidden", 403), ("NotFound", 404), ("InternalServerError", 500)),
)
REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}


class HttpWebResponse(v.DotNetObject):
    TYPE_NAME = "System.Net.HttpWebResponse"
    PROPERTIES: ClassVar[tuple[str, ...]] = ("StatusCode", "StatusDescription", "ResponseUri", "Headers")

    def __init__(self, status: int, uri: str, error_code: str) -> None:
        self.StatusCode = v.EnumValue(HTTP_STATUS, status)
        self.StatusDescription = REASONS.get(status, "")
        self.ResponseUri = uri
        self.Headers = v.Hashtable([("x-ms-error-code", error_code)] if error_code else [])


class HttpFailure(Exception):
    def __init__(self, status: int, error_code: str, body: str) -> None:
        super().__init__(body)
        self.status, self.error_code, self.body = status, error_code, body


def token_for(principal: str, resource: str) -> str:
    """An opaque bearer token that names the identity and the audience (what Azure Storage checks)."""
    claims = json.dumps({"oid": principal, "aud": resource}).encode("utf-8")
    return "sim." + base64.urlsafe_b64encode(claims).decode("ascii").rstrip("=")


def _claims(token: str) -> dict[str, str]:
    if not token.startswith("sim."):
        return {}
    body = token[4:]
    try:
        return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
    except (ValueError, json.JSONDecodeError):
        return {}


def imds_token(machine: NodeMachine, uri: urllib.parse.SplitResult, headers: dict[str, str]) -> v.PSCustomObject:
    query = dict(urllib.parse.parse_qsl(uri.query))
    if headers.get("metadata", "").lower() != "true":
        raise HttpFailure(
            400, "", '{"error":"invalid_request","error_description":"Required metadata header not specified"}'
        )
    if (
        uri.path.rstrip("/") != "/metadata/identity/oauth2/token"
        or "resource" not in query
        or "api-version" not in query
    ):
        raise HttpFailure(400, "", '{"error":"invalid_request","error_description":"Invalid request"}')
    principal = machine.node.managed_identity
    if not principal:
        raise HttpFailure(400, "", '{"error":"invalid_request","error_description":"Identity not found"}')
    resource = query["resource"]
    now = int(time.time())
    token = v.PSCustomObject()
    for name, value in (
        ("access_token", token_for(principal, resource)),
        ("client_id", principal),
        ("expires_in", "86399"),
        ("expires_on", str(now + 86399)),
        ("ext_expires_in", "86399"),
        ("not_before", str(now)),
        ("resource", resource),
        ("token_type", "Bearer"),
    ):
        token.add(name, value)
    return token


def read_blob(world: World, uri: urllib.parse.SplitResult, headers: dict[str, str]) -> bytes:
    account = uri.hostname.split(".", 1)[0] if uri.hostname else ""
    parts = uri.path.lstrip("/").split("/", 1)
    container = parts[0]
    blob = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
    version = headers.get("x-ms-version", "")
    authorization = headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        # anonymous access to a private container (assumed text)
        raise HttpFailure(404, "ResourceNotFound", "The specified resource does not exist.")
    if not version or version < OAUTH_MIN_VERSION:
        # implements F-AZ-07 (the status and code for an older version are assumed)
        raise HttpFailure(403, "AuthenticationFailed", "Authentication scheme Bearer is not supported in this version.")
    claims = _claims(authorization.split(" ", 1)[1])
    if claims.get("aud", "").rstrip("/") != STORAGE_RESOURCE.rstrip("/"):
        raise HttpFailure(401, "InvalidAuthenticationInfo", "Server failed to authenticate the request.")
    scope = f"{account}/{container}"
    if claims.get("oid") not in world.blob_readers.get(scope, []):
        # implements F-AZ-08
        raise HttpFailure(
            403,
            "AuthorizationPermissionMismatch",
            "This request is not authorized to perform this operation using this permission.",
        )
    if not any(name.startswith(scope + "/") for name in world.blobs):
        raise HttpFailure(404, "ContainerNotFound", "The specified container does not exist.")
    data = world.blobs.get(f"{scope}/{blob}")
    if data is None:
        raise HttpFailure(404, "BlobNotFound", "The specified blob does not exist.")
    return data


class InvokeRestMethod(Cmdlet):
    SIGNATURE = CommandSignature(
        "Invoke-RestMethod",
        (
            parameter("Uri", "string", mandatory=True, position=0),
            parameter(
                "Method",
                "string",
                validate_set=["Default", "Get", "Head", "Post", "Put", "Delete", "Trace", "Options", "Merge", "Patch"],
            ),
            parameter("Headers", "System.Collections.IDictionary"),
            parameter("Body", "object", pipeline=True),
            parameter("OutFile", "string"),
            parameter("UseBasicParsing", "switch"),
            parameter("ContentType", "string"),
            parameter("TimeoutSec", "int"),
            parameter("PassThru", "switch"),
            parameter("UseDefaultCredentials", "switch"),
            parameter("Credential", "pscredential"),
        ),
        None,
        "Microsoft.PowerShell.Commands.InvokeRestMethodCommand",
    )

    def process(self) -> None:
        from simulator.world.machine import NodeMachine

        machine = self.machine
        assert isinstance(machine, NodeMachine)
        text = to_string(self.get("Uri"))
        uri = urllib.parse.urlsplit(text)
        method = to_string(self.get("Method") or "Get")
        headers = {
            to_string(k).lower(): to_string(value) for k, value in (self.get("Headers") or v.Hashtable()).items()
        }
        if method not in ("Get", "Default"):
            self._not_modelled(f"Invoke-RestMethod -Method {method}")
        try:
            if uri.scheme == "http" and uri.hostname == IMDS_HOST:
                self.write_object(imds_token(machine, uri, headers))
                return
            if uri.scheme == "https" and (uri.hostname or "").endswith(".blob.core.windows.net"):
                data = read_blob(machine.world, uri, headers)
                if self.has("OutFile"):
                    try:
                        machine.filesystem.write_bytes(to_string(self.get("OutFile")), data)
                    except DotNetError as problem:
                        name = problem.exception.type_name
                        self.throw_terminating_error(
                            self.error(name, problem.exception.Message, name.rsplit(".", 1)[-1], "WriteError")
                        )
                    return
                self.write_object(data.decode("utf-8", errors="replace"))
                return
        except HttpFailure as failure:
            response = HttpWebResponse(failure.status, text, failure.error_code)
            exception = NetException(
                WEB_EXCEPTION,
                f"The remote server returned an error: ({failure.status}) "
                f"{REASONS.get(failure.status, 'Unauthorized')}.",
                extra={"Response": response, "Status": "ProtocolError"},
            )
            record = self.error(
                WEB_EXCEPTION, exception.Message, "WebCmdletWebResponseException", "InvalidOperation", target=text
            )
            record.exception = exception
            if exception.is_a("System.Management.Automation.RuntimeException"):
                exception.error_record = record
            self.throw_terminating_error(record)
            return
        self._not_modelled(f"Invoke-RestMethod to {uri.scheme}://{uri.hostname}")

    def _not_modelled(self, what: str) -> None:
        self.throw_terminating_error(
            self.error(
                "System.Management.Automation.RuntimeException",
                f"The simulated node does not model {what}.",
                "SimulatorCommandNotModelled",
                "NotImplemented",
            )
        )


@surface.dotnet_types()
def web_types(_machine: NodeMachine) -> list[PSType]:
    return [
        PSType(WEB_EXCEPTION, is_instance=lambda x: isinstance(x, NetException) and x.is_a(WEB_EXCEPTION)),
        PSType(HTTP_STATUS.full_name, is_instance=lambda x: isinstance(x, v.EnumValue) and x.enum is HTTP_STATUS),
    ]


surface.command(InvokeRestMethod)
