"""RINEX observation reading: ``gnssaug.datasets.rinex.read_obs`` against ``georinex.load``.

Both read the same shared files in this one process. Ours is run once on every file first (numba
compilation and the disk cache), then timed as the best of ``--repeat`` runs; georinex is timed
once (it takes seconds per megabyte). Both read the whole file and every system; georinex's
FutureWarnings from xarray are silenced so that printing them does not count against it.

georinex merges every epoch into its xarray Dataset, so its time grows faster than linearly with
the number of epochs (the TST and WUHN files take it many minutes). By default the Nagoya files
(301 epochs) are read whole and the others are cut to their first ``--epochs`` epochs, written to
a temporary plain-text file that both readers then read (the same input for both; for WUHN this
leaves Hatanaka decompression out of both timings). ``--full`` reads every file whole.

Printed per file: size [MB] of the text read, seconds each, the ratio georinex / ours, and a check
that both found the same number of epochs.

Run: ``.venv/bin/python benchmarks/rinex_read.py`` (``--full``: whole files, slow; ``--files``
picks files by substring).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Shared observation files and whether the default run reads them whole.
FILES = (
    ("jp_nagoya_static_20240624/rover.obs", True),
    ("jp_nagoya_static_20240624/base.obs", True),
    ("hk_tst_20190428/COM3_190428_124409.obs", False),
    ("hk_tst_20200603/2020_06_03_TST_03.obs", False),
    ("wuhan_wuhn_20250101/WUHN00CHN_R_20250010000_01D_30S_MO.crx", False),
)


def first_epochs(text: bytes, n_epochs: int) -> bytes:
    """The header and the first ``n_epochs`` epoch records of RINEX 3 observation text."""
    pos = text.find(b"END OF HEADER")
    pos = text.find(b"\n", pos) + 1
    for _ in range(n_epochs + 1):
        nxt = text.find(b"\n>", pos)
        if nxt < 0:
            return text
        pos = nxt + 1
    return text[:pos]


def _best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of ours (best is kept)")
    parser.add_argument("--full", action="store_true", help="read every file whole (georinex: many minutes)")
    parser.add_argument("--epochs", type=int, default=300, help="epochs kept of the files cut by default")
    parser.add_argument("--files", nargs="*", help="only files whose path contains one of these strings")
    args = parser.parse_args(argv)

    import georinex

    from gnssaug.datasets.paths import shared_data_dir
    from gnssaug.datasets.rinex import read_obs
    from gnssaug.datasets.rinex.compression import read_rinex_bytes

    data = shared_data_dir()
    tmp = Path(tempfile.mkdtemp(prefix="rinex_read_"))
    inputs = []
    for rel, whole in FILES:
        if args.files and not any(s in rel for s in args.files):
            continue
        if whole or args.full:
            inputs.append((rel, data / rel))
        else:
            cut = tmp / (Path(rel).name.split(".")[0] + f"_first{args.epochs}.rnx")
            cut.write_bytes(first_epochs(read_rinex_bytes(data / rel), args.epochs))
            inputs.append((f"{rel} (first {args.epochs} epochs)", cut))
    for _, path in inputs:  # warm-up: numba compile / cache load, file cache
        read_obs(path)

    print(f"{'file':<78} {'MB':>6} {'ours s':>8} {'georinex s':>11} {'ratio':>7}  epochs", flush=True)
    total_ours = total_geo = 0.0
    for name, path in inputs:
        size_mb = len(read_rinex_bytes(path)) / 1e6
        ours_s, (_, series) = _best_time(lambda p=path: read_obs(p), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geo_s, ds = _best_time(lambda p=path: georinex.load(p), 1)
        same = "same" if ds.time.size == len(series) else f"DIFFER ({len(series)} vs {ds.time.size})"
        total_ours += ours_s
        total_geo += geo_s
        print(f"{name:<78} {size_mb:6.2f} {ours_s:8.3f} {geo_s:11.2f} {geo_s / ours_s:7.0f}x  {same}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'total':<78} {'':>6} {total_ours:8.3f} {total_geo:11.2f} {total_geo / total_ours:7.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
