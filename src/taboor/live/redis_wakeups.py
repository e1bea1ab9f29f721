"""Wake-ups across server processes through Redis pub/sub.

A wake-up carries nothing but "ticket_events has news": the table stays the truth, so
a lost, late or duplicated wake-up costs at most a poll's delay or an empty read, never
a wrong or missing event. Redis going away is survived: the publisher drops wake-ups
(logged once per outage) and the listener reconnects with backoff while the hub polls
at its short interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio as redis

logger = logging.getLogger("taboor.live")

CHANNEL = "taboor:live:ticket-events"
_CONNECT_TIMEOUT_SECONDS = 2.0
# The listener pings this often, so a Redis that vanished without closing the
# connection is noticed and the hub goes back to its short poll.
_HEALTH_CHECK_SECONDS = 5
_MAX_BACKOFF_SECONDS = 5.0


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=_CONNECT_TIMEOUT_SECONDS,
        health_check_interval=_HEALTH_CHECK_SECONDS,
    )


async def listen_for_wakeups(url: str, notify: Callable[[bool | None], None]) -> None:
    """Call ``notify(None)`` for every wake-up on the channel, ``notify(True)`` once
    subscribed and ``notify(False)`` when the connection is lost; until cancelled."""
    backoff = 0.25
    lost = False  # logged once per outage, not at every attempt to reconnect
    while True:
        client = _client(url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL)
                notify(True)
                if lost:
                    logger.info("live: Redis listener back")
                backoff, lost = 0.25, False
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=_HEALTH_CHECK_SECONDS
                    )
                    if message is not None:
                        notify(None)
        except (redis.RedisError, OSError) as error:
            if not lost:
                logger.warning("live: Redis listener lost (%s); polling until it is back", error)
            lost = True
        finally:
            notify(False)
            with contextlib.suppress(Exception):
                await client.aclose()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)


class RedisPublisher:
    """Publishes wake-ups without ever making a writer wait: ``publish`` returns at
    once, at most one publish is in flight per process, and the wake-ups asked for
    meanwhile fold into one more (a burst of bookings costs a handful of messages)."""

    def __init__(self, url: str) -> None:
        self._client = _client(url)
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._failing = False

    def publish(self) -> None:
        if self._task is not None:
            self._again = True
            return
        self._task = asyncio.create_task(self._send(), name="taboor-live-publish")

    async def _send(self) -> None:
        try:
            while True:
                self._again = False
                try:
                    await asyncio.wait_for(self._client.publish(CHANNEL, b"1"), 2.0)
                    self._failing = False
                except (redis.RedisError, OSError, TimeoutError) as error:
                    if not self._failing:
                        logger.warning(
                            "live: Redis publish failed (%s); other processes poll", error
                        )
                    self._failing = True
                    return
                if not self._again:
                    return
        finally:
            self._task = None

    async def close(self) -> None:
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self._client.aclose()
