"""File-based subcommands of ``gnssaug``: inspect RINEX files, solve positions from files.

Registered by :mod:`gnssaug.cli`; each ``run_*`` function returns the exit status.
"""

from __future__ import annotations


def register(subparsers) -> None:
    """Add this module's subcommands to the ``gnssaug`` parser."""
    from gnssaug.datasets import evaluate, info, kernels_build, merge_cli, solve

    evaluate.register(subparsers)
    kernels_build.register(subparsers)
    solve.register(subparsers)
    info.register(subparsers)
    merge_cli.register(subparsers)
