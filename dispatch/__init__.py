"""gevent-dispatch: Racket's web-server dispatchers for Python, served by gevent.

The contract lives in :mod:`dispatch.core`; each dispatcher is a module exporting
``make`` (``dispatch.sequencer.make``, ``dispatch.filter.make``, ...), as in Racket's
``web-server/dispatchers``.
"""
from .connection import Connection
from .core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from .wsgi import to_wsgi

__all__ = ["Connection", "Dispatcher", "DispatcherNotApplicable", "next_dispatcher", "to_wsgi"]
