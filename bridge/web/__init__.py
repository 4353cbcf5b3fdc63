"""The members' page: log in with Discord, create or link a Matrix account, join the
rooms (issue 12). Pure parts: :mod:`.security`, :mod:`.names`, :mod:`.rooms`,
:mod:`.strings`; HTTP clients: :mod:`.clients`; the flow: :mod:`bridge.actions.web_join`;
the pages: :mod:`.app`."""
