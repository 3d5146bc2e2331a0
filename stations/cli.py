"""Admin subcommands ``gnssaug stations ...`` and ``gnssaug users ...`` (registry maintenance).

Each takes ``--data-dir DIR`` (default :func:`gnssaug.stations.registry.default_data_dir`) and
works on ``DIR/registry.sqlite3``; a running caster sees the changes on the next login.
"""

from __future__ import annotations

import contextlib
import datetime as _dt

from gnssaug.errors import UsageError
from gnssaug.stations.registry import Registry, RegistryError, default_data_dir


def _triple(text: str, what: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"{what}: expected three comma-separated numbers, got {text!r}") from None
    if len(values) != 3:
        raise UsageError(f"{what}: expected three comma-separated numbers, got {text!r}")
    return values


@contextlib.contextmanager
def _registry(args):
    """The registry of ``--data-dir``; registry errors become one-line usage errors."""
    reg = None
    try:
        reg = Registry.in_dir(args.data_dir or default_data_dir())
        yield reg
    except RegistryError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if reg is not None:
            reg.close()


def _data_dir_arg(p) -> None:
    p.add_argument("--data-dir", metavar="DIR", help="service data directory (default: $GNSSAUG_HOME or "
                   "~/.local/share/gnssaug)")


def register(subparsers) -> None:
    """Add ``stations`` and ``users`` to the ``gnssaug`` parser."""
    st = subparsers.add_parser("stations", help="register reference stations (upload mountpoints)")
    st_sub = st.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = st_sub.add_parser("add", help="register a station mountpoint")
    add.add_argument("mount")
    add.add_argument("--password", required=True, help="upload password (NTRIP 1 SOURCE / NTRIP 2 POST)")
    pos = add.add_mutually_exclusive_group()
    pos.add_argument("--llh", metavar="LAT,LON,H", help="position: degrees, degrees, ellipsoidal metres")
    pos.add_argument("--ecef", metavar="X,Y,Z", help="position: ECEF metres")
    add.add_argument("--identifier", default="", help="sourcetable identifier (default: the mountpoint)")
    add.add_argument("--country", default="", help="ISO 3166 country code for the sourcetable")
    add.add_argument("--upstream", metavar="URL", help="pull from ntrip://user:pass@host:port/MOUNT instead")
    for name in ("list", "remove"):
        p = st_sub.add_parser(name, help=f"{name} stations")
        if name == "remove":
            p.add_argument("mount")
        _data_dir_arg(p)
    _data_dir_arg(add)
    st.set_defaults(func=run_stations)

    us = subparsers.add_parser("users", help="manage caster user accounts and mountpoint grants")
    us_sub = us.add_subparsers(dest="action", metavar="ACTION", required=True)
    uadd = us_sub.add_parser("add", help="create an account")
    uadd.add_argument("user")
    uadd.add_argument("--password", required=True)
    uadd.add_argument("--expires", metavar="YYYY-MM-DD", help="account expiry date (UTC)")
    uadd.add_argument("--max-sessions", type=int, default=1, help="concurrent sessions allowed (default 1)")
    _data_dir_arg(uadd)
    for name, nargs in (("grant", 2), ("revoke", 2), ("remove", 1), ("list", 0)):
        p = us_sub.add_parser(name, help=f"{name} " + ("a grant (MOUNT or *)" if nargs == 2 else "accounts"))
        if nargs:
            p.add_argument("user")
        if nargs == 2:
            p.add_argument("mount")
        _data_dir_arg(p)
    us.set_defaults(func=run_users)


def run_stations(args) -> int:
    """Carry out ``gnssaug stations ACTION``."""
    with _registry(args) as reg:
        if args.action == "add":
            llh = _triple(args.llh, "--llh") if args.llh else None
            ecef = _triple(args.ecef, "--ecef") if args.ecef else None
            st = reg.add_station(args.mount, args.password, llh_deg_m=llh, xyz_ecef_m=ecef,
                                 identifier=args.identifier, country=args.country, upstream=args.upstream)
            print(f"station {st.mount} added")
        elif args.action == "remove":
            reg.remove_station(args.mount)
            print(f"station {args.mount} removed")
        else:
            for st in reg.stations():
                llh = st.llh_deg_m
                where = f"{llh[0]:.6f},{llh[1]:.6f},{llh[2]:.2f}" if llh else "-"
                print(f"{st.mount}\t{where}\t{st.upstream or 'push'}")
    return 0


def run_users(args) -> int:
    """Carry out ``gnssaug users ACTION``."""
    with _registry(args) as reg:
        if args.action == "add":
            expires = None
            if args.expires:
                try:
                    day = _dt.datetime.strptime(args.expires, "%Y-%m-%d").replace(tzinfo=_dt.timezone.utc)
                except ValueError:
                    raise UsageError(f"--expires: expected YYYY-MM-DD, got {args.expires!r}") from None
                expires = day.timestamp()
            reg.add_user(args.user, args.password, expires_s=expires, max_sessions=args.max_sessions)
            print(f"user {args.user} added")
        elif args.action == "grant":
            reg.grant(args.user, args.mount)
            print(f"user {args.user} may read {args.mount}")
        elif args.action == "revoke":
            reg.revoke(args.user, args.mount)
            print(f"grant {args.mount} of {args.user} revoked")
        elif args.action == "remove":
            reg.remove_user(args.user)
            print(f"user {args.user} removed")
        else:
            for u in reg.users():
                exp = _dt.datetime.fromtimestamp(u.expires_s, _dt.timezone.utc).date() if u.expires_s else "-"
                print(f"{u.name}\texpires {exp}\tmax {u.max_sessions}\tgrants {','.join(u.grants) or '(open mounts)'}")
    return 0
