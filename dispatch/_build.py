"""The modules compiled with mypyc when the package is built: the one list.

``setup.py`` reads this file by path (the build has none of the package's dependencies,
so it cannot import :mod:`dispatch`); :mod:`dispatch._extensions` reads it at run time to
tell which modules are running compiled.  Add a module here to compile it: it must pass
``mypy`` (mypyc compiles what the type checker proved), and ``tests/test_compiled.py``
then checks that a build compiles it.  Keep this file free of imports.

What compiling changes, and so what to check before adding a module:

- every annotation is enforced at run time: an argument, or a value from untyped code
  (``Any``, a ``# type: ignore``) stored in a typed variable, of another type raises
  ``TypeError: bytes object expected; got str``.  Annotate what the code really accepts
  (``Optional``, ``Union``); leave out public functions that check their own arguments
  (their ``ValueError`` naming the argument would become that ``TypeError``:
  ``dispatch.sse.encoder``, whose ``retry=1.5`` showed it).  An attribute set to
  ``None`` in ``__init__`` and to an untyped value (a greenlet) elsewhere is typed
  ``None`` by mypy: annotate it;
- ``isinstance(x, C)`` for a class ``C`` defined in a compiled module is compiled as an
  exact type test: a subclass made in Python fails it.  Keep classes that users may
  subclass in a pure module (``dispatch.http.xexpr_nodes``);
- compiled classes take no new attributes, no weak references (no ``__weakref__``: keep
  it out of the pure twin's ``__slots__`` too) and no subclasses in Python; one that
  subclasses a builtin or an uncompiled class is refused or compiled as a plain class;
- mypyc compiles no class-body aliases (``read1 = read``) and no mutable class defaults.

Tried and left pure: ``dispatch.sse.encoder`` (above).  ``dispatch.websocket.protocol``
failed at first on the first point: a payload is ``bytes`` or, unmasked in place, a
``bytearray``, and a text message reused the payload's variable; its types now say so.
``dispatch.websocket.connection`` stays pure: applications attach attributes to a
connection and hold weak references to it.
"""

#: modules compiled into one extension library, each beside its pure-Python twin
COMPILED = (
    # the sans-I/O core: parsing callbacks, the environ, the response head and framing
    "dispatch.http11.reader",
    "dispatch.http11.environ",
    "dispatch.http11.writer",
    # the engine's per-request and per-byte paths
    "dispatch.engine.body",
    "dispatch.engine.http_connection",
    "dispatch.engine.socket_io",  # HTTPConnection's base: a native class's base compiles too
    "dispatch.engine.sockets",
    "dispatch.engine.rawstream",
    "dispatch.engine.detached",
    # every response_xexpr page (its node classes stay pure: see xexpr_nodes)
    "dispatch.http.xexpr_writer",
    # every servlet response: the constructors' checks and assembly (their werkzeug
    # Response subclass stays pure, in response.py)
    "dispatch.http.response_parts",
    # every WebSocket frame received and sent (sans-I/O; the connection stays pure)
    "dispatch.websocket.protocol",
)

#: mypyc's group: one shared library, the module ``GROUP + "__mypyc"``, holds the compiled
#: code of all.  Inside the package, not beside it: an editable install (``pip install
#: -e .``) maps only the packages, so a top-level library was importable only from the
#: checkout's own folder, and ``import dispatch`` failed in a user's program elsewhere.
GROUP = "dispatch._native"
#: the shared library's module, as mypyc names it
LIBRARY = GROUP + "__mypyc"

#: set to 1 at build time: build pure Python; at run time: run pure Python
NO_EXTENSIONS = "GEVENT_DISPATCH_NO_EXTENSIONS"


def source_path(module: str) -> str:
    """``dispatch.engine.body`` -> ``dispatch/engine/body.py`` (relative, with ``/``)."""
    return module.replace(".", "/") + ".py"
