"""The modules compiled with mypyc when the package is built: the one list.

``setup.py`` reads this file by path (the build has none of the package's dependencies,
so it cannot import :mod:`dispatch`); :mod:`dispatch._extensions` reads it at run time to
tell which modules are running compiled.  Add a module here to compile it: it must pass
``mypy`` (mypyc compiles what the type checker proved), and ``tests/test_compiled.py``
then checks that a build compiles it.  Keep this file free of imports.
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
)

#: the extension library's name (one shared library holds the compiled code of all)
GROUP = "dispatch"

#: set to 1 at build time: build pure Python; at run time: run pure Python
NO_EXTENSIONS = "GEVENT_DISPATCH_NO_EXTENSIONS"


def source_path(module: str) -> str:
    """``dispatch.engine.body`` -> ``dispatch/engine/body.py`` (relative, with ``/``)."""
    return module.replace(".", "/") + ".py"
