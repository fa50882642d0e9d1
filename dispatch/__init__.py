"""gevent-dispatch: Racket's web-server dispatchers for Python, served by gevent.

The contract lives in :mod:`dispatch.core`; each dispatcher is a module exporting
``make`` (``dispatch.sequencer.make``, ``dispatch.filter.make``, ...), as in Racket's
``web-server/dispatchers``.
"""
from typing import TYPE_CHECKING

from . import _extensions  # first: it picks compiled or pure-Python modules
from .connection import Connection
from .core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from .wsgi import to_wsgi

__all__ = ["Connection", "Dispatcher", "DispatcherNotApplicable", "next_dispatcher", "to_wsgi"]

if TYPE_CHECKING:
    #: the modules running compiled (mypyc), as ``"dispatch.engine.body"``: empty in pure
    #: Python (``GEVENT_DISPATCH_NO_EXTENSIONS=1``, or no compiled build)
    _compiled: tuple[str, ...]
else:
    def __getattr__(name: str):  # PEP 562: computed on first use, not at every import
        if name == "_compiled":
            return _extensions.compiled()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
