"""Declaring and checking parameters: the small base every parameter class stands on.

``param`` declares a parameter (default, range, unit, meaning); ``check_fields`` checks a
dataclass of them; ``ConfigError`` is the one exception bad input raises. Tactics and decision
rules declare their parameters with these, and ``sim.params`` (the configuration schema and its
builder) builds tactics and rules: keeping this base apart means no module of ``sim`` imports
another that imports it back.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
from dataclasses import field
from typing import Any

BUSINESS_DAYS_PER_YEAR = 250  # one step is one business day

# Upper bounds of sizes. Each is far above any real organisation's value, and far below what
# would exhaust memory or run for days in one parameter alone: it turns a typo or an
# "unlimited" 1e9 into a clear refusal instead of a MemoryError or a run that never ends.
# (Whether a whole configuration fits the machine is checked before a run: sim.limits.)
#: Longest run: a century of business days. No planning question looks further ahead, and
#: every day keeps a row of the time series.
MAX_DAYS = 100 * BUSINESS_DAYS_PER_YEAR
#: Longest duration of any one step of the funnel (nurture, qualification, an open
#: opportunity, a contract term, a review period): ten years. The longest enterprise and
#: public-sector sales cycles and contracts run a few years; open leads pile up in memory for
#: as long as a step lasts.
MAX_STAGE_DAYS = 10 * BUSINESS_DAYS_PER_YEAR
#: Largest seed: numpy's SeedSequence takes any whole number >= 0, but the seed is also a
#: column of every study table (pandas and parquet store it as a signed 64-bit integer).
MAX_SEED = 2**63 - 1
#: Largest mean deal value that nurturing may grow a deal to (``deal_value_mean`` is at most
#: 1e12). A bound on the results: revenue stays many orders of magnitude below float64's
#: overflow at 1.8e308, so a run's sums are always finite.
MAX_DEAL_VALUE = 1e15


class ConfigError(ValueError):
    """A configuration value is missing, misspelt, of the wrong type or out of range.

    The message names the key, the value and what is allowed; entry points print it without
    a traceback.
    """


def param(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    unit: str = "",
    doc: str = "",
    lo_open: bool = False,
    plausible: tuple[Any, ...] | None = None,
    source: str = "",
    fitted: tuple[float, float] | None = None,
) -> Any:
    """Declare a parameter: its default, allowed closed range ``[lo, hi]``, unit and meaning.

    ``lo_open`` makes the lower bound strict (``> lo``), for quantities such as hours per day
    where zero would make the model meaningless.

    ``plausible`` is the range the true value plausibly lies in (a prior, not the validity
    bounds): ``("uniform", low, high)``, ``("triangular", low, mode, high)`` or
    ``("loguniform", low, high)``; ``source`` says where it comes from, or starts with
    "assumption" and gives the reasoning.

    ``fitted`` marks a behavioural parameter that calibration fits to the baseline facts
    (``experiments.calibrate``) and gives its search bounds ``(low, high)``: such a parameter is
    pinned down by the data, not an uncertainty, and needs no plausible range.
    """
    return field(
        default=default,
        metadata={
            "lo": lo,
            "hi": hi,
            "unit": unit,
            "doc": doc,
            "lo_open": lo_open,
            "plausible": plausible,
            "source": source,
            "fitted": fitted,
        },
    )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else unchanged.

    Samplers (SALib, Optuna, numpy) and ``mesa.batch_run`` hand over ``np.int64(3)`` or
    ``np.float64(0.2)``: they are accepted wherever a Python number is. Duck-typed, so this
    module does not import numpy.
    """
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def check_fields(obj: Any, prefix: str) -> None:
    """Check every field of a parameter dataclass against its declared type and range."""
    for f in dataclasses.fields(obj):
        value = plain(getattr(obj, f.name))
        if value is not getattr(obj, f.name):
            object.__setattr__(obj, f.name, value)
        key = f"{prefix}{f.name}"
        meta = f.metadata
        typ = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if typ == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{key} = {value!r}: must be true or false")
            continue
        if typ == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                    object.__setattr__(obj, f.name, value)
                else:
                    raise ConfigError(
                        f"{key} = {value!r}: must be a whole number ({meta.get('doc', '')})"
                    )
        elif typ == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{key} = {value!r}: must be a number ({meta.get('doc', '')})")
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(f"{key} = {value!r}: must be a finite number")
            object.__setattr__(obj, f.name, value)
        else:
            continue
        lo, hi = meta.get("lo"), meta.get("hi")
        unit = f" {meta['unit']}" if meta.get("unit") else ""
        allowed = _describe_range(lo, hi, meta.get("lo_open", False))
        too_low = lo is not None and (value <= lo if meta.get("lo_open") else value < lo)
        too_high = hi is not None and value > hi
        if too_low or too_high:
            raise ConfigError(f"{key} = {value!r}: must be {allowed}{unit} ({meta.get('doc', '')})")


def _describe_range(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return "any value"


def import_target(path: Any, key: str, base: type | None = None) -> Any:
    """Import the class at dotted ``path`` (a ``_target_``), or fail naming ``key``.

    Importing runs the module's top-level code: a config that names a ``_target_`` can run
    code (see the README's Security section). With ``base``, anything but a subclass of it is
    refused here, before the caller creates an instance.
    """
    module_name, _, attr = str(path).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(f"{key} = {path!r}: cannot import that class") from None
    if base is not None and not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigError(
            f"{key} = {path!r}: not a subclass of {base.__module__}.{base.__qualname__}"
        )
    return cls


def check_arguments(cls: type, kwargs: dict[str, Any], key: str) -> None:
    """Refuse keyword arguments that ``cls(**kwargs)`` would not accept, before calling it.

    The message names the first key the constructor does not take (or the first it needs).
    """
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to check against: let the call decide
        return
    params = signature.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [
        name
        for name, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    for name in kwargs:
        if not takes_any and name not in named:
            raise ConfigError(
                f"{key}.{name}: {cls.__name__} does not take this argument; it takes "
                f"{', '.join(named) or '(none)'}"
            )
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise ConfigError(
            f"{key}: {cls.__name__} cannot be built from these arguments ({exc})"
        ) from None


def reject_unknown(data: dict[str, Any], allowed: Any, key: str, what: str = "parameter") -> None:
    """Refuse the first key of ``data`` not in ``allowed``, naming it and the allowed ones."""
    allowed = set(allowed)  # once: a generator is used up by the first pass over it
    unknown = sorted(set(data) - allowed)
    if unknown:
        prefix = f"{key}." if key else ""
        raise ConfigError(
            f"{prefix}{unknown[0]}: unknown {what}; allowed keys are "
            f"{', '.join(sorted(allowed)) or '(none)'}"
        )
