"""Discord API emulator: REST v10, gateway and CDN for unmodified discord.py clients.

Start it with :class:`sandbox.discord.server.Emulator` or ``python -m sandbox.discord``;
see README.md in this folder.
"""
