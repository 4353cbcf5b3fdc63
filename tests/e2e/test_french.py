"""The bridge speaks French when ``bridge.language: fr``: a delivery-failure notice and
moderation commands (French aliases) through Synapse + emulator + bridge.

The stack is shared and English: these tests switch it to French with a ``!bridge
reload`` of the edited config file, and switch it back whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml

from sandbox.clients import MatrixUser
from sandbox.stack import SandboxStack
from tests.e2e.test_admin import admin_carol, ask
from tests.e2e.test_relay_text import PUBLIC, portal_room, unique

pytestmark = pytest.mark.e2e

__all__ = ["admin_carol"]  # a fixture, imported for these tests


@pytest.fixture
async def in_french(stack: SandboxStack, admin_carol: MatrixUser) -> AsyncIterator[None]:
    assert stack.config is not None and stack.config.path is not None
    path = stack.config.path
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    data["bridge"]["language"] = "fr"
    try:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        answer = await ask(stack, admin_carol, "!bridge recharger", "Configuration rechargée")
        assert answer == "Configuration rechargée : autres réglages appliqués."
        yield
    finally:
        path.write_text(original, encoding="utf-8")
        await ask(stack, admin_carol, "!bridge reload", "Config reloaded")
    assert stack.bridge is not None and stack.bridge.config.bridge.language == "en"


async def test_a_refused_message_gets_a_french_notice(
    stack: SandboxStack, in_french: None, matrix_alice: MatrixUser
) -> None:
    assert stack.emulator is not None
    room = await portal_room(stack, PUBLIC)
    stack.emulator.faults.fail_next(
        10, status=403, code=50013, message="Missing Permissions", path_prefix="/webhooks"
    )
    event_id = await matrix_alice.send_text(room, unique("refusé"))
    try:
        notice, _ = await matrix_alice.wait_for_event(
            room,
            lambda e: (
                e["type"] == "m.room.message"
                and e["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
                == event_id
            ),
            timeout=30,
        )
    finally:
        stack.emulator.faults.clear()
    assert notice["content"]["msgtype"] == "m.notice"
    assert notice["content"]["body"] == (
        f"{matrix_alice.user_id} : votre message n'a pas été transmis à Discord. La passerelle"
        " n'a pas le droit d'écrire dans ce salon Discord. Un modérateur ou l'administrateur"
        " de la passerelle peut regarder ce qui se passe."
    )


async def test_moderation_commands_answer_in_french(
    stack: SandboxStack, in_french: None, admin_carol: MatrixUser
) -> None:
    help_text = await ask(stack, admin_carol, "!mod aide", "Commandes de modération")
    assert "!mod bannir <utilisateur> [raison]" in help_text
    answer = await ask(stack, admin_carol, '!mod expulser "Personne Inconnue"', "Personne")
    assert answer.startswith("Personne ne s'appelle « Personne Inconnue ».")
    target = "@inconnu-fr:localhost"
    answer = await ask(stack, admin_carol, f"!mod bannir {target} essai", "est banni de tous")
    assert answer == (
        f"{target} est banni de tous les salons reliés ; plus rien de sa part n'arrive sur Discord."
    )
    answer = await ask(stack, admin_carol, f"!mod débannir {target}", "est débanni de tous")
    assert answer == f"{target} est débanni de tous les salons reliés."
    # The moderation log says it in French too.
    assert stack.bridge is not None
    entries = await stack.bridge.ctx.stores.audit.recent(10)
    outcomes = [e.outcome for e in entries if e.target == target]
    assert any(o.startswith("Matrix : débanni de") for o in outcomes), outcomes
