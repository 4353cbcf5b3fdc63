"""Protections against raids and spam, checked on every message before it is relayed.

Each protection is a small object with a ``check`` deciding, in memory and with an
injected clock, whether one incoming message breaks its rule (:mod:`.core`). The
:class:`~moderation.protections.core.Guard` runs the list in order on each message;
the first verdict wins and its actions are carried out by :mod:`.enforce`.

Adding a protection (the lockdown's "pause new accounts' messages", for one) is
adding one object to the running list::

    protections = mctx.state.protections          # .runtime.Protections, once started
    protections.guard.add(Paused(), first=True)   # checked before the others

where ``Paused`` has ``name``, ``actions`` (e.g. ``("hold",)``), ``check(signals,
now) -> Verdict | None``, ``settings()`` and ``forget(author)``
(:class:`.core.Protection`). :class:`.core.Signals` carries what is known of the
message: side, author, counts of mentions/links/files, the Discord account's
creation time, when the author joined the guild or room. It is then listed by
``!mod protections``, switched by ``!mod protection <name> on|off``, and its
verdicts are carried out, told and logged like the others' (give it sentences in
:mod:`.notices` for plain words; without, a generic sentence is used).
"""
