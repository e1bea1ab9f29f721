"""Server-sent events on the wire: messages, heartbeats, resumption points."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request
from litestar.response import Stream

EVENT_STREAM = "text/event-stream"
# Tells the browser how long to wait before reconnecting (it then sends Last-Event-ID).
RETRY = b"retry: 2000\n\n"
PING = b": ping\n\n"

_encoder = msgspec.json.Encoder()


def message(event_id: int | None, event: str, data: dict[str, Any]) -> bytes:
    """One message. Without an id the client keeps its last one (what it resumes
    from), which is right for a message that is not an event of the log."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + _encoder.encode(data) + b"\n\n"


def resume_from(request: Request[Any, Any, Any]) -> int | None:
    """Where the client stopped: the ``Last-Event-ID`` header (a browser's reconnect)
    or a ``lastEventId`` query parameter (a first connection that follows a snapshot,
    which a browser's EventSource cannot give a header). None: live from now."""
    for raw in (request.headers.get("last-event-id"), request.query_params.get("lastEventId")):
        if raw is not None and _is_number(raw.strip()):
            return int(raw.strip())
    return None


def event_stream(body: AsyncIterator[bytes]) -> Stream:
    return Stream(
        body,
        media_type=EVENT_STREAM,
        # No caching, and no buffering by a proxy in front (nginx honours the header).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18
