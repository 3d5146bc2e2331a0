"""No kernel calls BLAS/LAPACK through numba (np.dot, np.linalg, the @ operator).

``gnssaug solve`` skips numba's ~0.5 s scipy BLAS probe at start-up
(:func:`gnssaug.datasets.solve.skip_numba_blas_probe`); that is only right while no kernel needs BLAS.
"""

import ast
from pathlib import Path

KERNELS = Path(__file__).resolve().parents[2] / "gnssaug" / "kernels"


def _blas_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{path.name}:{node.lineno} uses @")
        elif isinstance(node, ast.Attribute):
            text = ast.unparse(node)
            if text in ("np.dot", "np.vdot", "np.matmul") or text.startswith("np.linalg"):
                found.append(f"{path.name}:{node.lineno} uses {text}")
    return found


def test_kernels_do_not_need_blas():
    uses = [u for p in sorted(KERNELS.glob("*.py")) for u in _blas_uses(p)]
    assert uses == []
