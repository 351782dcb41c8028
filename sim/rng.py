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
