"""Reproducible benchmarks of the bridge against the sandbox stack.

``python -m bench <latency|overhead|throughput|memory|startup|all> [--quick]``;
see ``bench/README.md``. Every command prints the machine it ran on and plain
tables of the figures it measured.
"""
