"""Compiled modules or their pure-Python twins, chosen once, when :mod:`dispatch` loads.

A build with mypyc puts an extension module beside each ``.py`` of ``_build.COMPILED``,
and Python's own finder prefers the extension.  Pure Python is used instead (a finder
ahead of Python's loads the ``.py`` of every ``dispatch.*`` and ``servlets.*`` module):

- with ``GEVENT_DISPATCH_NO_EXTENSIONS=1`` in the environment (as aiohttp's
  ``AIOHTTP_NO_EXTENSIONS``), to compare, or to debug with Python's tools;
- in a checkout whose extensions are older than one of their sources (built in place by
  ``pip install -e .``, then edited or pulled): the stale code is never run; a warning
  says to build again.

It is all or nothing: the compiled modules call each other's C code directly, so one of
them loaded from its source beside the others compiled would be two modules in one.
This module and ``_build`` stay pure Python: they run before the choice is made.
"""
from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import warnings
from importlib.machinery import ExtensionFileLoader, ModuleSpec
from importlib.util import spec_from_file_location
from typing import Optional, Sequence

from ._build import COMPILED, NO_EXTENSIONS, source_path

__all__ = ["PURE_REASON", "compiled"]

_PACKAGES = ("dispatch.", "servlets.")
# the root holding the package folders (site-packages, or a checkout)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SourceFirst:
    """A meta path finder: the ``.py`` file of a ``dispatch.*`` or ``servlets.*``
    module wherever there is one, ahead of an extension module of the same name."""

    @staticmethod
    def find_spec(fullname: str, path: Optional[Sequence[str]] = None,
                  target: object = None) -> Optional[ModuleSpec]:
        if path is None or not fullname.startswith(_PACKAGES):
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            if os.path.isdir(os.path.join(folder, leaf)):
                return None  # a package: Python's finder, as usual
            source = os.path.join(folder, leaf + ".py")
            if os.path.isfile(source):
                return spec_from_file_location(fullname, source)
        return None


def _stale() -> Optional[str]:
    """In a checkout (not an installed package), the first compiled module whose
    source is newer than its extension; None when all are fresh or none is built."""
    if not os.path.isfile(os.path.join(_ROOT, "setup.py")):
        return None  # installed: sources and extensions come together from one wheel
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    for module in COMPILED:
        source = os.path.join(_ROOT, source_path(module))
        try:
            built = os.stat(source[:-3] + suffix).st_mtime
        except OSError:
            continue  # not built (for this Python)
        try:
            if os.stat(source).st_mtime > built:
                return source_path(module)
        except OSError:
            continue
    return None


def _choose() -> Optional[str]:
    if os.environ.get(NO_EXTENSIONS) == "1":
        return f"{NO_EXTENSIONS}=1"
    stale = _stale()
    if stale is not None:
        warnings.warn(f"gevent-dispatch: {stale} is newer than its compiled extension: "
                      "running pure Python; build again (pip install -e .)",
                      RuntimeWarning, stacklevel=2)
        return f"{stale} is newer than its extension"
    return None


#: why pure Python runs even where extensions are built (None: extensions are used)
PURE_REASON = _choose()
if PURE_REASON is not None and not any(isinstance(finder, SourceFirst)
                                       for finder in sys.meta_path):
    sys.meta_path.insert(0, SourceFirst())


def compiled() -> tuple[str, ...]:
    """The modules of ``_build.COMPILED`` running compiled (imported here if need be)."""
    return tuple(name for name in COMPILED
                 if isinstance(importlib.import_module(name).__loader__, ExtensionFileLoader))
