import ast

import numpy as np

from sim.rng import STREAM_NAMES, stream
from tests.conftest import ROOT


def test_streams_are_reproducible_and_independent():
    a = stream(7, "market").random(5)
    assert np.array_equal(a, stream(7, "market").random(5))
    assert not np.array_equal(a, stream(7, "sales").random(5))
    assert not np.array_equal(a, stream(8, "market").random(5))
    assert len(set(STREAM_NAMES)) == len(STREAM_NAMES)


def test_no_stdlib_random_or_global_numpy_state_in_the_package():
    for path in (ROOT / "sim").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert all(a.name != "random" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert node.module != "random", path
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                # np.random.<legacy function> would use the global state
                inner = node.value
                if (
                    isinstance(inner.value, ast.Name)
                    and inner.value.id in {"np", "numpy"}
                    and inner.attr == "random"
                ):
                    assert node.attr in {
                        "Generator",
                        "PCG64",
                        "Philox",
                        "SeedSequence",
                        "default_rng",
                    }, f"{path}: np.random.{node.attr}"
