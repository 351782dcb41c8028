"""Named random streams: one seed, split by purpose, for common random numbers.

Every random decision in the model draws from a stream named after its purpose. The streams
are independent children of the run's seed (``SeedSequence(seed, spawn_key=(crc32(name),))``,
as Starsim does with a hash of the name), so:

- two scenarios run with the same seed face the *same market*: the ``market`` stream is used
  only for inbound arrivals and the attributes drawn when each inbound lead is created, in the
  same amounts whatever the tactics do, so the same leads arrive on the same days;
- switching a tactic on, which makes reps or marketers draw more or fewer numbers, shifts
  only that team's stream and leaves every other stream untouched.

Nothing in the package uses the ``random`` module or numpy's global state.
"""

from __future__ import annotations

import zlib
from statistics import NormalDist

import numpy as np

#: The streams a model uses, by purpose. Adding a name here never changes the others.
STREAM_NAMES = (
    "market",  # inbound lead arrivals and their latent attributes and per-lead draws
    "churn",  # each inbound lead's renewal draw (drawn at creation, used if it becomes a customer)
    "prospects",  # attributes of rep-prospected leads
    "sales",  # reps' prospecting success (leads found per prospecting hour)
    "customers",  # renewals after the first
)


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the generator for stream ``name`` of run ``seed``.

    The key is a stable hash of the name (``crc32``, not Python's salted ``hash``), so the
    same seed and name give the same numbers in every process and on every machine.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(key,))))


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Return every named stream of run ``seed``."""
    return {name: stream(seed, name) for name in STREAM_NAMES}


class KeyedNormals:
    """Standard normal draws keyed by an index (a lead's place in the market), not by order.

    ``draws[k]`` depends only on the seed, the stream's name and ``k``: it comes from numpy's
    counter-based generator (``Philox``) at counter ``k``, so a tactic that draws for the
    leads it happens to meet gets the same number for the same lead in every scenario,
    however many other leads it met first, and its draws touch no other stream. Counters are
    drawn in blocks of ``BLOCK`` (one generator call per block, the last few blocks kept), as
    the leads a tactic meets on a day were mostly created around the same time.

    A block keeps its uniforms and turns one into a normal (``inv_cdf``) only when it is
    asked for: most keys never are (discovery's draw is used by the one lead in sixteen that
    becomes an opportunity; a default company-year converted 16,640 uniforms for 1,037
    lookups). The number returned is the same either way.
    """

    # 1,024 keys a block: making a generator costs about as much as drawing 1,000 numbers,
    # and a default run asks for keys from every block of its market.
    BLOCK = 1024
    KEPT = 256  # blocks kept (each ~32 KiB): leads live long (buying windows of a year and more)

    def __init__(self, seed: int, name: str) -> None:
        self._key = [seed, zlib.crc32(name.encode("utf-8"))]
        self._blocks: dict[int, list[float]] = {}

    def __getitem__(self, index: int) -> float:
        block, offset = divmod(index, self.BLOCK)
        values = self._blocks.get(block)
        if values is None:
            if len(self._blocks) >= self.KEPT:
                del self._blocks[next(iter(self._blocks))]  # the oldest
            gen = np.random.Philox(key=self._key, counter=[block * self.BLOCK, 0, 0, 0])
            raw = gen.random_raw(4 * self.BLOCK)[::4]  # one output per counter value
            uniform = ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
            values = self._blocks[block] = uniform.tolist()
        return _inv_cdf(values[offset])


_NORMAL = NormalDist()
_inv_cdf = _NORMAL.inv_cdf
