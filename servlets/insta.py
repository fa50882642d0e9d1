"""Tutorial-style programs: a module that defines ``start``, served at once.  Racket:
``#lang web-server/insta``.

::

    python -m servlets.insta blog.py            # or: blog:start, package.module:start
    python -m servlets.insta blog.py --port 8000 --no-web-browser
    python -m servlets.insta blog.py --reload     # restart when a source file changes

As in Racket's insta, the server takes a free port (``--port`` picks one), opens a
browser on the servlet, and prints ``Your Web application is running at <url>.``; the
module may call :func:`static_files_path` and :func:`no_web_browser` while it loads,
as an insta module does.  Enter, end of input, ``/quit``, Ctrl-C or SIGTERM stop it.
gevent's monkey-patching is applied before the module is loaded, so its blocking calls
let other requests run.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Any, Callable, Optional

__all__ = ["load_start", "main", "no_web_browser", "static_files_path"]

_settings: dict = {"extra_files_path": None, "launch_browser": True}


def static_files_path(path: str) -> None:
    """Serve the files under ``path`` too.  Racket: ``static-files-path``."""
    _settings["extra_files_path"] = path


def no_web_browser() -> None:
    """Do not open a browser.  Racket: ``no-web-browser``."""
    _settings["launch_browser"] = False


def load_start(target: str) -> Callable:
    """The procedure ``target`` names: ``file.py``, ``file.py:name``, ``module`` or
    ``module:name`` (``name`` is ``start`` by default)."""
    spec, _, attribute = target.partition(":")
    attribute = attribute or "start"
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        if not os.path.isfile(path):
            raise SystemExit(f"insta: no file {spec!r}")
        sys.path.insert(0, os.path.dirname(path))
        name = os.path.splitext(os.path.basename(path))[0]
        module_spec: Any = importlib.util.spec_from_file_location(name, path)  # a file: a spec
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
    else:
        sys.path.insert(0, os.getcwd())
        module = importlib.import_module(spec)
    start = getattr(module, attribute, None)
    if not callable(start):
        raise SystemExit(f"insta: you must provide a '{attribute}' request handler "
                         f"in {spec}")
    return start


def main(argv: Optional[list] = None) -> Any:
    parser = argparse.ArgumentParser(prog="python -m servlets.insta",
                                     description="Serve a module's start(request).")
    parser.add_argument("target", help="file.py, module, or either with :name")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--listen-ip", default="127.0.0.1")
    parser.add_argument("--servlet-path", default="/servlets/standalone.rkt")
    parser.add_argument("--static-files-path", default=None)
    parser.add_argument("--no-web-browser", action="store_true")
    parser.add_argument("--reload", action="store_true",
                        help="restart when a source file changes (dispatch.reload)")
    args = parser.parse_args(argv)

    from gevent import monkey

    monkey.patch_all()
    start = load_start(args.target)
    from .servlet_env import serve_servlet

    # Run as ``-m``, this module is __main__: the module's calls went to the imported one.
    settings = importlib.import_module("servlets.insta")._settings
    extra = args.static_files_path or settings["extra_files_path"]
    return serve_servlet(
        start, port=args.port, listen_ip=args.listen_ip, servlet_path=args.servlet_path,
        extra_files_paths=[extra] if extra else [],
        launch_browser=settings["launch_browser"] and not args.no_web_browser,
        reload=args.reload)


if __name__ == "__main__":
    main()
