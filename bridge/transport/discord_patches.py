"""Two small, process-wide corrections to discord.py 2.x, applied by the transport.

**Heartbeat latency.** discord.py's ``KeepAliveHandler`` thread sends a heartbeat
through the event loop, blocks until the send is done, and only then records
``_last_send``; the loop thread computes ``latency = ack_time - _last_send`` when
the HEARTBEAT_ACK arrives. When the ACK comes back before the heartbeat thread
wakes up (a local Discord, such as the sandbox emulator, answers in well under a
millisecond), ``_last_send`` still holds the previous beat's time: ``latency`` is
one whole heartbeat interval (41.25 s), discord.py logs "Can't keep up ...
websocket is 41.3s behind" and ``/health`` shows a 41 s heartbeat. The emulator
was right (HELLO interval, one ACK per HEARTBEAT); the measurement was wrong. The
fix records the send time when the heartbeat payload is built, just before the
send, so the ACK is always measured from its own heartbeat.

**Voice.** The bridge never joins voice channels, so discord.py's "davey is not
installed, voice will NOT be supported" warning at every start is noise: only
that one-off flag is cleared; every other discord.py warning still shows.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord.gateway
import discord.voice_client

log = logging.getLogger(__name__)

_Original = discord.gateway.KeepAliveHandler


class KeepAliveHandler(_Original):
    """discord.py's heartbeat thread, measuring each ACK from its own heartbeat."""

    def get_payload(self) -> dict[str, Any]:
        # Called right before every heartbeat is sent (the periodic ones and the
        # first one after HELLO); an ACK can then never see a stale send time.
        self._last_send = time.perf_counter()
        return super().get_payload()


def fix_heartbeat_latency() -> None:
    """Make discord.py's gateway use :class:`KeepAliveHandler` (idempotent)."""
    if discord.gateway.KeepAliveHandler is not KeepAliveHandler:
        discord.gateway.KeepAliveHandler = KeepAliveHandler  # type: ignore[misc]
        log.debug("discord.heartbeat-latency-fix installed")


def quiet_voice_warning() -> None:
    """No "davey is not installed" warning: the bridge has no voice."""
    discord.voice_client.VoiceClient.warn_dave = False


def apply() -> None:
    fix_heartbeat_latency()
    quiet_voice_warning()
