"""Protections against raids and spam, checked on every message before it is relayed.

Each protection is a small object with a ``check`` deciding, in memory and with an
injected clock, whether one incoming message breaks its rule (:mod:`.core`). The
:class:`~moderation.protections.core.Guard` runs the list in order on each message;
the first verdict wins and its actions are carried out by :mod:`.enforce`.
Adding a protection is adding one object to the list (see :func:`.core.build`).
"""
