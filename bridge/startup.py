"""Waiting for the homeserver at start-up: one plain line per attempt, retried with
backoff until it answers, instead of a traceback and an exit.

A bridge started with (or before) its homeserver, or while it restarts, then comes
up by itself once the homeserver is back.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bridge.i18n import cli

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 30.0


def _reason(exc: BaseException) -> str:
    """A short, token-free reason: the exception's type and first line."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def homeserver_answers(session: aiohttp.ClientSession, url: str) -> str | None:
    """None when ``GET /_matrix/client/versions`` answers 200, else why not."""
    try:
        async with session.get(f"{url}/_matrix/client/versions") as resp:
            if resp.status == 200:
                return None
            return f"HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _reason(exc)


async def wait_for_homeserver(
    url: str,
    stop: asyncio.Event,
    *,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> bool:
    """Return True once the homeserver answers, False if ``stop`` is set first.

    Each failed attempt logs one line; the delay doubles up to ``max_delay``."""
    delay = first_delay
    attempt = 0
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            attempt += 1
            reason = await homeserver_answers(session, url)
            if reason is None:
                if attempt > 1:
                    log.warning(
                        "startup.homeserver-back url=%s attempts=%d msg=%s",
                        url,
                        attempt,
                        cli()._("The Matrix server answers again: starting."),
                    )
                return True
            # The event name and fields are for machines; msg= is for the person reading.
            log.warning(
                "startup.homeserver-unreachable url=%s reason=%s retry_in=%.0fs attempt=%d msg=%s",
                url,
                reason,
                delay,
                attempt,
                cli()._(
                    "The Matrix server at {url} does not answer; trying again {when}.",
                    url=url,
                    when=cli().duration(delay, add_direction=True),
                ),
            )
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, max_delay)
    return False


def is_connection_failure(exc: BaseException) -> bool:
    """A start-up failure caused by an unreachable homeserver (worth retrying)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientConnectionError | ConnectionError):
            return True
        if type(current).__name__ in ("MatrixConnectionError", "MatrixRequestError") and (
            "connect" in str(current).lower() or "502" in str(current)
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
