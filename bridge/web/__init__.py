"""The members' page: log in with Discord, create or link a Matrix account, join the
rooms (issue 12). Pure parts: :mod:`.security`, :mod:`.names`, :mod:`.rooms`,
:mod:`.strings`; the pages: :mod:`.app`; HTTP clients to Discord and the homeserver:
:mod:`bridge.transport.web_clients`; the account flows: :mod:`bridge.actions.web_join`."""
