"""How a resource names the node it works on. Plain data: it travels in resource inputs and state."""

from __future__ import annotations

from typing_extensions import TypedDict


class NodeTarget(TypedDict):
    name: str
    endpoint: str
    thumbprint: str | None
