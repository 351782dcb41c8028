import ast

import numpy as np

from sim.rng import STREAM_NAMES, KeyedNormals, stream
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


def test_a_keyed_draw_is_the_normal_of_its_counters_uniform_whatever_the_block():
    """``draws[k]``: the inverse normal of Philox's first output at counter k (sim.rng).

    Blocks (their size, which are kept, which are converted when) only cache: the number is
    defined by the seed, the name and k.
    """
    from statistics import NormalDist
    from zlib import crc32

    draws = KeyedNormals(7, "discovery/marketing")
    for k in (0, 5, KeyedNormals.BLOCK - 1, KeyedNormals.BLOCK, 3 * KeyedNormals.BLOCK + 17):
        gen = np.random.Philox(key=[7, crc32(b"discovery/marketing")], counter=[k, 0, 0, 0])
        raw = int(gen.random_raw(1)[0])
        expected = NormalDist().inv_cdf(((raw >> 11) + 0.5) * 2.0**-53)
        assert draws[k] == expected
        assert draws[k] == expected  # asked again (converted again): the same
