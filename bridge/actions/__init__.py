"""Flows that combine I/O: load rows, call a converter, send through a port, record."""
