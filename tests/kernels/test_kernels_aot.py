"""Ahead-of-time kernels (gnssaug.kernels): argument matching, the switch to JIT, and a real build.

Compiled entry points do not check their arguments, so the matching is what stands between a
caller's wrong dtype and a crash: it is tested field by field. The switch to JIT is tested in a
fresh interpreter (it is process-wide) with a stand-in module whose "compiled" entry records calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import gnssaug.kernels as kernels

F8_2D_C = ["array", "<f8", 2, "C", False]
F8_1D_READONLY = ["array", "<f8", 1, "C", True]


def _specs(*args):
    return tuple(kernels._arg_spec(a) for a in args)


def test_an_array_must_match_dtype_dimensions_and_layout():
    specs = _specs(F8_2D_C)
    assert kernels._matches(specs, (np.zeros((3, 3)),))
    assert not kernels._matches(specs, (np.zeros((3, 3), np.float32),))
    assert not kernels._matches(specs, (np.zeros(3),))
    assert not kernels._matches(specs, (np.zeros((3, 3)).T[:, :2],))  # not C-contiguous
    assert not kernels._matches(specs, (np.zeros((3, 3)).astype(">f8"),))  # other byte order
    assert not kernels._matches(specs, ([[0.0] * 3] * 3,))  # a list is not an array
    assert not kernels._matches(specs, (np.zeros((3, 3)), 1))  # argument count


def test_a_read_only_array_goes_only_where_the_entry_promises_not_to_write():
    frozen = np.frombuffer(np.zeros(4).tobytes())
    assert not frozen.flags.writeable
    assert kernels._matches(_specs(F8_1D_READONLY), (frozen,))
    assert kernels._matches(_specs(F8_1D_READONLY), (np.zeros(4),))
    assert not kernels._matches(_specs(["array", "<f8", 1, "C", False]), (frozen,))


def test_an_unaligned_array_is_refused():
    raw = np.zeros(8 * 4 + 1, np.uint8)[1:].view("<f8")
    assert not raw.flags.aligned
    assert not kernels._matches(_specs(["array", "<f8", 1, "A", False]), (raw,))


def test_scalars_match_the_python_types_numba_gives_them():
    specs = _specs(["scalar", "int64"], ["scalar", "float64"], ["scalar", "bool"])
    assert kernels._matches(specs, (3, 2.5, True))
    assert kernels._matches(specs, (np.int64(3), np.float64(2.5), np.bool_(False)))
    assert not kernels._matches(specs, (3.0, 2.5, True))  # a float where an int64 was compiled
    assert not kernels._matches(specs, (True, 2.5, True))  # a bool is not an int64 for numba
    assert not kernels._matches(specs, (np.int32(3), 2.5, True))
    assert not kernels._matches(specs, (3, 2, True))  # numba would type an int, not a float64


_SWITCH_SCRIPT = r"""
import json, sys, types
import numpy as np
import gnssaug.kernels as K

calls = []
stand_in = types.SimpleNamespace(geodesy__llh_from_ecef_many__0=lambda *a: calls.append(a))
K._AOT = (stand_in, {"geodesy.llh_from_ecef_many": [
    {"export": "geodesy__llh_from_ecef_many__0", "args": [%(F8)s, %(F8)s]}]})
import gnssaug.kernels.geodesy as G

report = {"mode_before": K.kernel_mode(), "numba_before": "numba" in sys.modules}
xyz = np.array([[-3962108.7, 3381309.5, 3668678.6]])
out = np.zeros((1, 3))
G.llh_from_ecef_many(xyz, out)  # matches the stand-in entry
report["aot_calls"] = len(calls)
report["numba_after_aot_call"] = "numba" in sys.modules
G.llh_from_ecef_many(xyz.astype(np.float32), out)  # no entry for float32: JIT, with its kernel callee
report["mode_after"] = K.kernel_mode()
report["aot_calls_after"] = len(calls)
report["lat_deg"] = float(np.degrees(out[0, 0]))
report["bound_is_dispatcher"] = type(G.llh_from_ecef_many).__name__
report["callee_is_dispatcher"] = type(G.llh_from_ecef).__name__
print(json.dumps(report))
"""


def test_a_call_no_entry_matches_switches_the_process_to_jit():
    script = _SWITCH_SCRIPT % {"F8": repr(F8_2D_C)}
    env = {**os.environ}
    env.pop("GNSSAUG_KERNELS", None)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["mode_before"] == "aot" and not report["numba_before"]
    assert report["aot_calls"] == 1 and not report["numba_after_aot_call"]
    assert report["mode_after"] == "jit" and report["aot_calls_after"] == 1
    assert report["lat_deg"] == pytest.approx(35.339326, abs=2e-5)  # pyproj 4978->4979; float32 input: ~0.5 m
    assert report["bound_is_dispatcher"] == report["callee_is_dispatcher"] == "CPUDispatcher"


def _solve(argv: list[str], **env) -> list[str]:
    code = (
        "import sys\n"
        "from gnssaug.cli import main\n"
        "from gnssaug import kernels\n"
        f"status = main({argv!r})\n"
        "print(status, kernels.kernel_mode(), 'numba' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()


def _solutions(path):
    return [line for line in path.read_text().splitlines() if not line.startswith("%")]


#: The benchmarks' command lines (SPP GPS+BDS; RTK GPS+Galileo+BDS with two frequencies), on Nagoya.
_COMMANDS = {
    "spp": ["--mode", "spp", "--systems", "GC", "--elmask", "15", "{rover}", "{nav}"],
    "rtk": ["--mode", "rtk", "--systems", "GEC", "--freqs", "2", "--elmask", "15", "--end", "2024-06-24T08:21:00",
            "{rover}", "{base}", "{nav}"],
}


@pytest.mark.skipif(not (kernels.aot_dir() / kernels.AOT_TABLE).exists(),
                    reason="no ahead-of-time build for these kernel sources (make install runs gnssaug kernels build)")
@pytest.mark.parametrize("mode", sorted(_COMMANDS))
def test_the_built_module_solves_without_numba_and_gives_the_jit_answer(nagoya_dir, tmp_path, mode):
    files = {"rover": str(nagoya_dir / "rover.obs"), "base": str(nagoya_dir / "base.obs"),
             "nav": str(nagoya_dir / "base.nav")}
    argv = ["solve", "-q", *(a.format(**files) for a in _COMMANDS[mode])]
    aot, jit = tmp_path / "aot.pos", tmp_path / "jit.pos"
    assert _solve([*argv, "-o", str(aot)]) == ["0", "aot", "False"]
    assert _solve([*argv, "-o", str(jit)], GNSSAUG_KERNELS="jit") == ["0", "jit", "True"]
    assert len(_solutions(aot)) > 60
    assert _solutions(aot) == _solutions(jit)


def test_each_signature_also_gets_a_variant_for_strided_views():
    from numba import types

    from gnssaug.kernels.aot_build import _any_layout

    c2 = types.Array(types.float64, 2, "C")
    loose = _any_layout((c2, types.int64), types.none)
    assert loose == (types.Array(types.float64, 2, "A"), types.int64)
    assert _any_layout(loose, types.none) is None  # nothing left to loosen
    assert _any_layout((c2,), c2) is None  # an array result could change layout with the arguments'
    strided = np.zeros((4, 6))[:, ::2]
    assert not kernels._matches(_specs(F8_2D_C), (strided,))
    assert kernels._matches(_specs(["array", "<f8", 2, "A", False]), (strided,))


def _test_arrays():
    """Arrays of every layout the flag tests tell apart: C, F (2-D), strided, read-only, unaligned."""
    c2 = np.zeros((4, 3))
    readonly = np.zeros((4, 3))
    readonly.flags.writeable = False
    raw = np.zeros(4 * 3 * 8 + 1, dtype=np.uint8)[1:].view("<f8").reshape(4, 3)
    return {"C": c2, "F": np.asfortranarray(c2), "strided": c2[:, ::2], "readonly": readonly, "unaligned": raw,
            "1-D": np.zeros(5), "1-D strided": np.zeros(10)[::2], "1-D readonly": np.broadcast_to(1.0, (5,))}


@pytest.mark.parametrize("layout", ["C", "F", "A"])
@pytest.mark.parametrize("readonly", [False, True])
@pytest.mark.parametrize("ndim", [1, 2])
def test_layout_and_write_flags_follow_the_entry(layout, readonly, ndim):
    for name, a in _test_arrays().items():
        want = (a.ndim == ndim and a.flags.aligned and (readonly or a.flags.writeable)
                and {"C": a.flags.c_contiguous, "F": a.flags.f_contiguous, "A": True}[layout])
        assert kernels._matches(_specs(["array", "<f8", ndim, layout, readonly]), (a,)) == want, name


def test_a_matcher_is_made_only_when_a_call_reaches_its_entry():
    made = []

    def first(*args):
        made.append("first")

    def second(*args):
        made.append("second")

    proxy = kernels.AotKernel(lambda a: None, {}, [(first, _specs(F8_2D_C)),
                                                    (second, _specs(["array", "<f8", 2, "A", False]))])
    proxy(np.zeros((2, 2)))
    assert made == ["first"] and proxy._calls[0][2] is not None and proxy._calls[1][2] is None
    proxy(np.zeros((2, 4))[:, ::2])  # strided: the second entry, now with its matcher
    assert made == ["first", "second"] and proxy._calls[1][2] is not None
