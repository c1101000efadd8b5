"""SOAP for the WinRS shell resource: parsing requests, rendering responses and Windows' faults.

The response shapes and fault wording are those a Windows Server WinRM service sends (as recorded in
pypsrp's integration-test captures); `wsman.h` gives the fault codes and messages.
"""

from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
SHELL_CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
ACTIONS = {
    TRANSFER + "Create": "Create",
    TRANSFER + "Delete": "Delete",
    SHELL + "Command": "Command",
    SHELL + "Send": "Send",
    SHELL + "Receive": "Receive",
    SHELL + "Signal": "Signal",
}
STATE_RUNNING = SHELL + "CommandState/Running"
STATE_DONE = SHELL + "CommandState/Done"
SIGNAL_CODES = {SHELL + "signal/terminate", SHELL + "signal/ctrl_c", SHELL + "signal/ctrl_break"}
DEFAULT_OPERATION_TIMEOUT = 60.0  # Windows' MaxTimeoutms default, used when a client sends none
MIN_ENVELOPE_SIZE = 8192  # DSP0226 6.2: smaller MaxEnvelopeSize values get an EncodingLimit fault

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


class WsManFault(Exception):
    """A SOAP fault as the WinRM service sends it (HTTP 500); `reason` defaults to `message`."""

    def __init__(
        self, code: str, subcode: str, wsman_code: int, message: str, reason: str = "", detail: str = ""
    ) -> None:
        super().__init__(f"{wsman_code}: {message}")
        self.code, self.subcode, self.wsman_code = code, subcode, wsman_code
        self.message, self.reason, self.detail = message, reason or message, detail


_CANNOT = "The WS-Management service cannot process the request"
_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"
_BAD_SELECTORS = f"{_CANNOT} because the request contained invalid selectors for the resource. "


def shell_not_found(shell_id: str) -> WsManFault:
    message = (
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was "
        "not found on the server. Possible causes are: the specified ShellId is incorrect or the shell "
        "no longer exists on the server. Provide the correct ShellId or create a new shell and retry "
        "the operation. "
    )
    return WsManFault(
        "s:Sender", "w:InvalidSelectors", 2150858843, message, _BAD_SELECTORS, _DETAIL + "UnexpectedSelectors"
    )


def command_not_found() -> WsManFault:
    message = (
        "The Windows Remote Shell received a request to perform an operation on a command identifier "
        "that does not exist. Either the command has completed execution or the client specified an "
        "invalid command identifier. "
    )
    return WsManFault(
        "s:Sender", "w:InvalidSelectors", 2150858843, message, _BAD_SELECTORS, _DETAIL + "UnexpectedSelectors"
    )


def operation_timeout() -> WsManFault:
    message = "The WS-Management service cannot complete the operation within the time specified in "
    message += "OperationTimeout. "
    return WsManFault("s:Receiver", "w:TimedOut", 2150858793, message)


def internal_error() -> WsManFault:
    return WsManFault("s:Receiver", "w:InternalError", 1359, "An internal error occurred. ")


def action_not_supported(action: str) -> WsManFault:
    message = "The WS-Management service does not support the action specified in the request. "
    return WsManFault("s:Sender", "a:ActionNotSupported", 2150858771, message, detail=action)


def resource_not_found() -> WsManFault:
    message = (
        f"{_CANNOT}. The service cannot find the resource identified by the resource URI and selectors. "
    )
    return WsManFault(
        "s:Sender", "w:DestinationUnreachable", 2150858752, message, detail=_DETAIL + "InvalidResourceURI"
    )


def envelope_too_small() -> WsManFault:
    message = f"{_CANNOT} because the envelope size in the request is too small. "
    return WsManFault("s:Sender", "w:EncodingLimit", 2150858878, message, detail=_DETAIL + "MaxEnvelopeSize")


def invalid_soap() -> WsManFault:
    return WsManFault(
        "s:Sender", "w:SchemaValidationError", 2150858819, f"{_CANNOT} because the XML is invalid. "
    )


def invalid_selector_value() -> WsManFault:
    message = f"{_CANNOT} because a value for the selector is invalid. "
    return WsManFault("s:Sender", "w:InvalidSelectors", 2150858845, message)


@dataclass(frozen=True)
class Request:
    action: str  # the short name ("Create", "Receive", ...) or the full URI when unknown
    resource_uri: str
    message_id: str
    shell_id: str | None
    operation_timeout: float
    max_envelope_size: int | None
    body: ET.Element


def parse_request(xml: bytes) -> Request:
    """Parse one SOAP envelope; a malformed one raises the fault Windows answers it with."""
    # SOAP 1.2 forbids a DTD; refusing it first keeps entity expansion out of the parser.
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise invalid_soap()
    try:
        root = ET.fromstring(xml)  # noqa: S314 - DTDs are refused above
    except ET.ParseError as exc:
        raise invalid_soap() from exc
    header, body = root.find("s:Header", NS), root.find("s:Body", NS)
    if header is None or body is None:
        raise invalid_soap()
    action = _text(header, "a:Action")
    selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
    envelope = _text(header, "w:MaxEnvelopeSize")
    return Request(
        action=ACTIONS.get(action, action),
        resource_uri=_text(header, "w:ResourceURI"),
        message_id=_text(header, "a:MessageID"),
        shell_id=(selector.text or "").strip() if selector is not None else None,
        operation_timeout=parse_duration(_text(header, "w:OperationTimeout")),
        max_envelope_size=int(envelope) if envelope.isdigit() else None,
        body=body,
    )


def parse_duration(value: str) -> float:
    match = _DURATION.match(value.strip())
    if not value.strip() or match is None:
        return DEFAULT_OPERATION_TIMEOUT
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _text(parent: ET.Element, path: str) -> str:
    found = parent.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


def command_line(body: ET.Element) -> tuple[str, list[str]]:
    line = body.find("rsp:CommandLine", NS)
    if line is None:
        raise invalid_soap()
    return _text(line, "rsp:Command"), [arg.text or "" for arg in line.findall("rsp:Arguments", NS)]


@dataclass(frozen=True)
class StreamInput:
    command_id: str
    data: bytes
    end: bool


def send_input(body: ET.Element) -> StreamInput:
    stream = body.find("rsp:Send/rsp:Stream", NS)
    if stream is None or stream.get("Name") != "stdin":
        raise invalid_soap()
    try:
        data = base64.b64decode((stream.text or "").encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise invalid_soap() from exc
    return StreamInput(stream.get("CommandId", ""), data, stream.get("End", "false").lower() == "true")


def receive_command_id(body: ET.Element) -> str:
    stream = body.find("rsp:Receive/rsp:DesiredStream", NS)
    if stream is None:
        raise invalid_soap()
    return stream.get("CommandId", "")


def signal(body: ET.Element) -> tuple[str, str]:
    element = body.find("rsp:Signal", NS)
    if element is None:
        raise invalid_soap()
    return element.get("CommandId", ""), _text(element, "rsp:Code")


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    namespaces = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items() if prefix != "f")
    return (
        f'<s:Envelope xml:lang="en-US" {namespaces}><s:Header>'
        f"<a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To><a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def create_response(relates_to: str, endpoint: str, shell_id: str, owner: str, client_ip: str) -> bytes:
    body = (
        f"<x:ResourceCreated><a:Address>{escape(endpoint)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{SHELL_CMD_URI}</w:ResourceURI><w:SelectorSet>"
        f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
        f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{SHELL_CMD_URI}</rsp:ResourceUri><rsp:Owner>{escape(owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        "</rsp:Shell>"
    )
    return _envelope(TRANSFER + "CreateResponse", relates_to, body)


def command_response(relates_to: str, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(SHELL + "CommandResponse", relates_to, body)


def receive_response(
    relates_to: str, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None
) -> bytes:
    """One Receive answer; `exit_code` None means the command is still running."""
    cid = quoteattr(command_id)
    parts = [
        f'<rsp:Stream Name="{name}" CommandId={cid}>{base64.b64encode(data).decode()}</rsp:Stream>'
        for name, data in (("stdout", stdout), ("stderr", stderr))
        if data
    ]
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        parts += [
            f'<rsp:Stream Name="{name}" CommandId={cid} End="true"></rsp:Stream>'
            for name in ("stdout", "stderr")
        ]
        parts.append(
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}"><rsp:ExitCode>{exit_code}</rsp:ExitCode>'
            "</rsp:CommandState>"
        )
    return _envelope(
        SHELL + "ReceiveResponse", relates_to, f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>"
    )


RECEIVE_OVERHEAD = 2048  # envelope bytes around the streams of one ReceiveResponse, with room to spare


def send_response(relates_to: str) -> bytes:
    return _envelope(SHELL + "SendResponse", relates_to, "<rsp:SendResponse/>")


def signal_response(relates_to: str) -> bytes:
    return _envelope(SHELL + "SignalResponse", relates_to, "<rsp:SignalResponse/>")


def delete_response(relates_to: str) -> bytes:
    return _envelope(TRANSFER + "DeleteResponse", relates_to, "")


def fault_response(fault: WsManFault, relates_to: str, machine: str) -> bytes:
    detail = f"<w:FaultDetail>{escape(fault.detail)}</w:FaultDetail>" if fault.detail else ""
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f'<s:Detail>{detail}<f:WSManFault xmlns:f="{NS["f"]}" Code="{fault.wsman_code}" '
        f"Machine={quoteattr(machine)}>"
        f"<f:Message>{escape(fault.message)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)
