"""Compile the kernels a workload called into one ahead-of-time extension module (numba ``pycc``).

Used by ``gnssaug kernels build`` in a process whose kernels ran just in time: every public kernel
(no leading ``_``; private helpers are compiled into their callers) is exported once per signature
it was called with, provided each argument is a type :func:`gnssaug.kernels._matches` can check
(arrays of plain numbers, aligned; integer, float and boolean scalars). The entry table written
beside the module is what :mod:`gnssaug.kernels` matches calls against.
"""

import json
import sys
import warnings
from pathlib import Path

from gnssaug.kernels import AOT_MODULE, AOT_TABLE

#: numpy dtype kinds an ahead-of-time argument may have: bool, signed, unsigned, float.
_CHECKABLE_KINDS = "biuf"


def _entry_arg(ty):
    """The entry-table form of one numba argument type, or None when no safe check exists for it."""
    from numba import types
    from numba.np.numpy_support import as_dtype

    try:
        if isinstance(ty, types.Array):
            dtype = as_dtype(ty.dtype)
            if dtype.kind not in _CHECKABLE_KINDS or not ty.aligned:
                return None
            return ["array", dtype.str, ty.ndim, ty.layout, not ty.mutable]
        if isinstance(ty, (types.Integer, types.Float, types.Boolean)):
            return ["scalar", as_dtype(ty).name]
    except NotImplementedError:
        return None
    return None


def _any_layout(sig: tuple, return_type):
    """``sig`` with every contiguous array taking any strides, or None if nothing changes.

    A caller that passes a strided view (a slice of a larger array) where the workload passed a
    contiguous one would otherwise leave the compiled entries; the strided variant serves it,
    at the cost of strided indexing, after the contiguous entry is tried first. Only for kernels
    returning no array, whose return type is then the same.
    """
    from numba import types

    if any(isinstance(t, types.Array) for t in getattr(return_type, "types", (return_type,))):
        return None
    loose = tuple(t.copy(layout="A") if isinstance(t, types.Array) and t.layout != "A" else t for t in sig)
    return loose if loose != tuple(sig) else None


def called_kernels():
    """``(table key, signature, return type, argument table, python function)`` of every compiled signature,
    followed by its any-layout variant (:func:`_any_layout`)."""
    from numba.core.registry import CPUDispatcher

    for mod_name, module in sorted(sys.modules.items()):
        if not mod_name.startswith(__package__ + ".") or module is None:
            continue
        for name, obj in sorted(vars(module).items()):
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == mod_name and not name.startswith("_"):
                key = f"{mod_name.rsplit('.', 1)[-1]}.{name}"
                for sig in obj.signatures:
                    ret = obj.overloads[sig].signature.return_type
                    for variant in (tuple(sig), _any_layout(sig, ret)):
                        args = [_entry_arg(t) for t in variant] if variant is not None else [None]
                        if all(a is not None for a in args):
                            yield key, variant, ret, args, obj.py_func


def compile_called_kernels(out_dir: Path, log=print) -> dict:
    """Compile :func:`called_kernels` into ``out_dir`` and write the entry table there.

    Parameters
    ----------
    out_dir : Path
        Empty folder receiving the extension module and ``entries.json``.
    log : callable
        Receives one line per exported entry.

    Returns
    -------
    dict
        The entry table: ``{"library": file name, "kernels": {"module.kernel": [{"export", "args"}]}}``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's own deprecation notice
        from numba.pycc import CC
    cc = CC(AOT_MODULE)
    cc.output_dir = str(out_dir)
    cc.target_cpu = "host"  # built where it runs (make install), as the JIT compiles
    kernels: dict = {}
    for key, sig, ret, args, py_func in called_kernels():
        export = f"{key.replace('.', '__')}__{len(kernels.get(key, []))}"
        cc.export(export, ret(*sig))(py_func)
        kernels.setdefault(key, []).append({"export": export, "args": args})
        log(f"  compile: {key} ({len(args)} arguments)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cc.compile()
    table = {"library": next(out_dir.glob(AOT_MODULE + "*")).name, "kernels": kernels}
    (out_dir / AOT_TABLE).write_text(json.dumps(table, indent=1))
    return table
