"""Settings from defaults, a TOML file and flags; bad files give one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnssaug.cli import main
from gnssaug.errors import UsageError
from gnssaug.server.settings import Settings, load_settings


def test_defaults_file_and_overrides(tmp_path):
    s = load_settings()
    assert (s.ntrip_port, s.http_port) == (2101, 8080) and s.tls_cert is None
    cfg = tmp_path / "gnssaug.toml"
    cfg.write_text('ntrip_port = 2102\n[server]\ndata_dir = "/srv/gnss"\nnear_hysteresis_m = 2500.0\n')
    s = load_settings(cfg, http_port=9090, ntrip_port=None)
    assert s.ntrip_port == 2102 and s.http_port == 9090 and s.data_dir == Path("/srv/gnss")
    assert s.near_hysteresis_m == 2500.0 and s.registry_path == Path("/srv/gnss/registry.sqlite3")
    assert isinstance(s, Settings)


@pytest.mark.parametrize(("text", "match"), [("ntrip_port = \n", "malformed TOML"),
                                            ("no_such_setting = 1\n", "unknown setting 'no_such_setting'"),
                                            ('tls_cert = "/x.pem"\n', "both tls_cert and tls_key")])
def test_bad_config(tmp_path, text, match):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(UsageError, match=match):
        load_settings(cfg)


def test_serve_reports_bad_config_in_one_line(tmp_path, capsys):
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gnssaug: ") and "missing.toml" in err and len(err.strip().splitlines()) == 1


def test_data_time(tmp_path):
    assert load_settings().data_time_gpst_ns is None
    assert load_settings(data_time="2024-06-24T08:20:00").data_time_gpst_ns == 1_403_252_400 * 10**9
    with pytest.raises(UsageError, match="data_time"):
        _ = load_settings(data_time="yesterday").data_time_gpst_ns
