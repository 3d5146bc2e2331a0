"""The SQLite registry and the ``stations`` / ``users`` admin commands."""

from __future__ import annotations

import time

import pytest

from gnssaug.cli import main
from gnssaug.stations.registry import (
    ExistsError,
    InvalidNameError,
    NotFoundError,
    Registry,
    RegistryError,
    check_password,
    ecef_to_llh,
    hash_password,
    llh_to_ecef,
)


def test_password_hash_is_salted_and_checks():
    secret = "correct-horse-battery"
    h1, h2 = hash_password(secret), hash_password(secret)
    assert h1 != h2 and secret not in h1
    assert check_password(secret, h1) and not check_password(secret.upper(), h1)
    assert not check_password("pw", "garbage") and not check_password("pw", "scrypt$x$y$z$a$b")


def test_llh_ecef_roundtrip_mm():
    for llh in [(35.15, 136.95, 50.0), (-33.9, 151.2, -20.0), (89.99, 10.0, 100.0), (0.0, -179.0, 0.0)]:
        back = ecef_to_llh(llh_to_ecef(llh))
        assert back[0] == pytest.approx(llh[0], abs=1e-9) and back[1] == pytest.approx(llh[1], abs=1e-9)
        assert back[2] == pytest.approx(llh[2], abs=1e-3)


def test_stations_users_grants_persist(tmp_path):
    reg = Registry.in_dir(tmp_path)
    st = reg.add_station("NAGOYA0", "up", llh_deg_m=(35.1, 136.9, 60.0), country="JPN")
    assert st.llh_deg_m[0] == pytest.approx(35.1)
    with pytest.raises(ExistsError):
        reg.add_station("NAGOYA0", "x")
    with pytest.raises(InvalidNameError):
        reg.add_station("bad/name", "x")
    with pytest.raises(RegistryError):
        reg.add_station("B", "x", llh_deg_m=(95.0, 0.0, 0.0))
    assert reg.verify_station("NAGOYA0", "up") and not reg.verify_station("NAGOYA0", "no")
    reg.add_user("al", "pw", max_sessions=2)
    reg.add_user("bo", "pw2")
    reg.grant("al", "NAGOYA0")
    sid = reg.open_session("al", "NAGOYA0", "127.0.0.1", "client")
    reg.close_session(sid, 1234, 56)
    reg.close()
    reg = Registry.in_dir(tmp_path)  # a restart loses nothing
    assert [s.mount for s in reg.stations()] == ["NAGOYA0"]
    al = reg.verify_user("al", "pw")
    assert al is not None and al.grants == ("NAGOYA0",) and al.max_sessions == 2
    assert reg.verify_user("al", "wrong") is None and reg.verify_user("nobody", "pw") is None
    bo = reg.user("bo")
    assert reg.may_read(al, "NAGOYA0") is None
    assert "no grant" in reg.may_read(bo, "NAGOYA0")  # granted to someone else -> restricted
    assert reg.may_read(bo, "OPENMOUNT") is None  # granted to nobody -> open to every account
    reg.grant("bo", "*")
    assert reg.may_read(reg.user("bo"), "NAGOYA0") is None
    (s,) = reg.sessions()
    assert (s.user, s.bytes_out, s.bytes_in) == ("al", 1234, 56) and s.ended_s >= s.started_s
    reg.remove_user("al")
    assert reg.restricted_mounts() == set()  # grants went with the account
    with pytest.raises(NotFoundError):
        reg.remove_user("al")
    reg.close()


def test_expired_account(tmp_path):
    reg = Registry(tmp_path / "r.sqlite3")
    u = reg.add_user("old", "pw", expires_s=time.time() - 1)
    assert "expired" in reg.may_read(u, "ANY")
    reg.close()


def test_not_a_database(tmp_path):
    bad = tmp_path / "registry.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RegistryError, match="registry.sqlite3"):
        Registry(bad)


def test_admin_commands(tmp_path, capsys):
    d = str(tmp_path)
    assert main(["stations", "add", "BASE1", "--password", "pw", "--llh", "35.1,136.9,60", "--data-dir", d]) == 0
    assert main(["stations", "add", "BASE2", "--password", "pw", "--ecef=-3749000,3725000,3652000",
                 "--data-dir", d]) == 0
    assert main(["users", "add", "al", "--password", "pw", "--expires", "2099-01-01", "--data-dir", d]) == 0
    assert main(["users", "grant", "al", "*", "--data-dir", d]) == 0
    capsys.readouterr()
    assert main(["stations", "list", "--data-dir", d]) == 0
    out = capsys.readouterr().out
    assert "BASE1\t35.100000,136.900000,60.00" in out and "BASE2" in out
    assert main(["users", "list", "--data-dir", d]) == 0
    assert "al\texpires 2099-01-01\tmax 1\tgrants *" in capsys.readouterr().out
    assert main(["stations", "add", "BASE1", "--password", "pw", "--data-dir", d]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["stations", "add", "B3", "--password", "pw", "--llh", "1,2", "--data-dir", d]) == 2
    assert main(["users", "add", "x", "--password", "p", "--expires", "soon", "--data-dir", d]) == 2
    assert main(["users", "remove", "al", "--data-dir", d]) == 0
    assert main(["stations", "remove", "BASE9", "--data-dir", d]) == 2
    assert "no station" in capsys.readouterr().err
