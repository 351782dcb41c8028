"""How every entry point ends: one line on stderr and an exit status, never a traceback.

- 0: done;
- 1: a failure after work started (a run raised, a file could not be written, aggregation
  failed); the line names what failed and what to do;
- 2: bad input, refused before anything was written; the line names the key and what is
  allowed;
- 130: interrupted (Ctrl-C); the line says how to resume.

``HYDRA_FULL_ERROR=1`` (or ``--debug``) re-raises instead, to show the traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence

from sim.params import ConfigError

FAILED, BAD_INPUT, INTERRUPTED = 1, 2, 130

_HINTS = {
    errno.ENOSPC: "free some space, then run the same command again",
    errno.EDQUOT: "free some space, then run the same command again",
    errno.EACCES: "choose a directory you can write to",
    errno.EROFS: "choose a writable directory",
    errno.EEXIST: "choose another output directory",
    errno.ENOTDIR: "a file stands where a directory is needed; choose another directory",
    errno.EISDIR: "a directory stands where a file is needed; choose another directory",
}


class RunsFailedError(Exception):
    """Runs of a study raised (after work started): the message is one line, the exit 1."""


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system error: the path, what went wrong, and what to do."""
    if exc.filename is None:
        return str(exc)
    what = exc.strerror or str(exc)
    return f"{exc.filename}: {what}; {_HINTS.get(exc.errno, 'check the path and run again')}"


def describe_failure(exc: BaseException) -> str:
    """One line for an exception raised during a run."""
    if isinstance(exc, OSError):
        return describe_os_error(exc)
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else '(no message)'}"


def debugging(argv: Sequence[str] = ()) -> bool:
    """Whether the user asked for tracebacks (``HYDRA_FULL_ERROR=1`` or ``--debug``)."""
    return os.environ.get("HYDRA_FULL_ERROR") == "1" or "--debug" in argv


def guarded(
    body: Callable[[], int],
    argv: Sequence[str] = (),
    interrupted: str = "interrupted; nothing half-written was kept",
) -> int:
    """Run an entry point's ``body`` and turn its failures into one line and an exit status."""
    try:
        return body()
    except ConfigError as exc:
        if debugging(argv):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return BAD_INPUT
    except OSError as exc:
        if debugging(argv):
            raise
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return FAILED
    except RunsFailedError as exc:
        if debugging(argv):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print(f"\n{interrupted}", file=sys.stderr)
        return INTERRUPTED
