"""How a resource names the node it works on. Plain data: it travels in resource inputs and state."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict


class NodeTarget(TypedDict):
    name: str
    endpoint: str
    # The wire drops None values, so a node without a pinned certificate arrives without the key.
    thumbprint: NotRequired[str | None]
