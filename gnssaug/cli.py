"""The ``gnssaug`` command and its subcommands.

Each subcommand lives in the package that owns its work and is registered here by module path, so
this entry point imports nothing heavy (no server, no georinex) until a subcommand runs. A
subcommand module provides ``register(subparsers)``, which adds its parser and sets
``func=run(args) -> int``.

Errors the user can act on (bad files, bad arguments: :class:`gnssaug.errors.GnssError` and its
subclasses such as :class:`gnssaug.errors.UsageError`, missing files) are printed as one line,
``gnssaug: ...``, with exit status 2; tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
import warnings

from gnssaug import __version__
from gnssaug.errors import GnssError

#: Subcommand modules, in the order ``gnssaug --help`` lists them.
SUBCOMMAND_MODULES = (
    "gnssaug.datasets.commands",
    "gnssaug.stations.cli",
    "gnssaug.server.cli",
    "gnssaug.datasets.sim.cli",
    "gnssaug.rtcm.cli",
)

#: Subcommands whose module is known without importing every module: ``gnssaug solve ...`` then
#: builds a parser from that module alone (no server, asyncio or RTCM imports before a 1 s SPP run).
#: Commands not listed here (and ``--help``) use the full parser.
COMMAND_MODULES = {name: "gnssaug.datasets.commands" for name in ("solve", "demo", "info", "evaluate", "merge")}


def build_parser(modules: tuple[str, ...] = SUBCOMMAND_MODULES) -> argparse.ArgumentParser:
    """The argument parser with the subcommands of ``modules`` (default: every registered one)."""
    parser = argparse.ArgumentParser(
        prog="gnssaug",
        description="BeiDou+GNSS augmentation service: positioning, RTCM 3, NTRIP caster, replay.",
    )
    parser.add_argument("--version", action="version", version=f"gnssaug {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


# A coordinate tuple such as "-2267750.2,5009154.6,3221294.4": argparse would take its leading "-"
# for an option flag, so "--base-pos -2267750.2,..." is joined into "--base-pos=-2267750.2,...".
_COORDINATES = re.compile(r"^-\d[\d.eE+-]*(,[-+]?[\d.eE+-]+)+$")


def _join_coordinate_values(words: list[str]) -> list[str]:
    out: list[str] = []
    for word in words:
        if out and _COORDINATES.match(word) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Data warnings (a skipped epoch, a damaged record) as one plain line: the text names the file and line."""
    print(f"gnssaug: warning: {message}", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the ``gnssaug`` command line; returns the process exit status."""
    words = _join_coordinate_values(sys.argv[1:] if argv is None else list(argv))
    argv = words
    command = next((w for w in words if not w.startswith("-")), None)
    owner = COMMAND_MODULES.get(command)
    parser = build_parser((owner,) if owner else SUBCOMMAND_MODULES)
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    warnings.showwarning = _show_warning
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (GnssError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"gnssaug: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
