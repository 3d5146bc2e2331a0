"""The navigation reader's whole-file field parser equals the field-by-field one it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from gnssaug.datasets.rinex import nav as navmod
from gnssaug.errors import FileFormatError


def _groups(path):
    lines = navmod.read_text_lines(path)
    hdr = navmod._header(path, lines)
    groups, _ = navmod._split_records(path, lines, hdr)
    eph = [g for g in groups if g.kind == "EPH"]
    c0, c1 = (22, 3) if hdr.version < 3 else (23, 4)
    return eph, c0, c1, hdr


@pytest.mark.parametrize("name", ["jp_nagoya_static_20240624/base.nav", "hk_tst_20190428/hksc1180.19n",
                                  "hk_tst_20200603/hksc155c.20g"])
def test_fast_fields_equal_field_by_field(data_dir, name):
    path = data_dir / name
    eph, c0, c1, hdr = _groups(path)
    fast = navmod._raw_fields_fast(eph, c0, c1)
    slow = np.full_like(fast, np.nan)
    for r, g in enumerate(eph):
        navmod._raw_fields_of(path, g, c0, c1, slow[r], hdr.version)
    assert fast.shape[0] == len(eph) > 0
    np.testing.assert_array_equal(fast, slow)


def test_a_bad_number_is_reported_with_its_line(data_dir, tmp_path):
    text = (data_dir / "jp_nagoya_static_20240624/base.nav").read_text().splitlines()
    end = next(i for i, line in enumerate(text) if "END OF HEADER" in line)
    bad = end + 3  # the second line of the first record
    text[bad] = text[bad][:4] + "  1.2345X789012D+00" + text[bad][23:]
    path = tmp_path / "bad.nav"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(FileFormatError, match=f":{bad + 1}:"):
        navmod.read_nav(path)
