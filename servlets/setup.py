"""Loading servlet modules from files.  Racket: ``web-server/servlet/setup``
(``make-default-path->servlet``, ``make-v1.servlet``, ``make-v2.servlet``).

A servlet module, as Racket's servlet files::

    # servlets/add.py
    from servlets import request_bindings, extract_binding_single, response_xexpr, send_suspend

    interface_version = "v1"     # optional: "v1", "v2" or "stateless"
    timeout = 60                 # v1: seconds an instance and its continuations live

    def start(request):
        ...

* ``"v1"`` (the default without ``manager``): a stateful servlet whose continuations
  live ``timeout`` seconds (``make_timeout_manager``).  Racket requires ``timeout`` of
  a v1 servlet; here it defaults to ``timeouts_default_servlet`` (30 seconds), the
  default Racket gives its older, v0 servlets.
* ``"v2"`` (the default with ``manager``): a stateful servlet with the module's
  ``manager``.
* ``"stateless"``: ``start`` answers each request alone, without continuations
  (Racket's are ``#lang web-server`` servlets, whose serializable continuations Python
  does not have).

Each load runs the file afresh as a new module (registered in ``sys.modules`` under a
private name made from its path, replaced at the next load), as Racket gives each
servlet a namespace of its own; modules it imports are shared, as usual in Python.
Racket also makes the servlet's directory the current one while it runs; a Python
process has one current directory, so here the module finds its own with ``__file__``.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import tokenize
from typing import Any, Callable

from dispatch.dispatch_servlets import Servlet

from . import stateful
from .managers import make_timeout_manager
from .managers.manager import Manager
from .servlet import dispatch_servlet

__all__ = ["make_default_path_to_servlet", "ServletLoadError", "defines_start"]

INTERFACE_VERSIONS = ("v1", "v2", "stateless")


class ServletLoadError(Exception):
    """A servlet file that cannot be served: not a ``.py`` file, no ``start``, a bad
    ``interface_version`` or ``manager``."""


def defines_start(source: str, filename: str = "<servlet>") -> bool:
    """Whether ``source`` binds ``start`` at its top level (``def``, assignment or
    import), read from its syntax tree: no code of it runs."""
    for node in ast.parse(source, filename).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            names = [node.target.id] if isinstance(node.target, ast.Name) else []
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
        else:
            continue
        if "start" in names:
            return True
    return False


def _load_module(path: str) -> Any:
    with tokenize.open(path) as f:  # the encoding Python would read it with
        source = f.read()
    if not defines_start(source, path):
        raise ServletLoadError(f"{path} defines no start (a servlet module defines "
                               f"start(request)); it was not run")
    name = "_servlet_" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ServletLoadError(f"{path} cannot be loaded as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # for what needs its module (pickle, dataclasses)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def make_default_path_to_servlet(
        *, timeouts_default_servlet: float = 30) -> Callable[[str], Servlet]:
    """``path_to_servlet(path)``: load the servlet module at ``path`` (a ``.py`` file)
    and return its :class:`~dispatch.dispatch_servlets.Servlet`.  Racket:
    ``make-default-path->servlet`` (``#:timeouts-default-servlet``).  A file whose
    source does not define ``start`` is refused before any of it runs."""
    if isinstance(timeouts_default_servlet, bool) or \
            not isinstance(timeouts_default_servlet, (int, float)) or timeouts_default_servlet <= 0:
        raise ValueError(f"make_default_path_to_servlet: timeouts_default_servlet must be "
                         f"seconds (> 0), given {timeouts_default_servlet!r}")

    def path_to_servlet(path: str) -> Servlet:
        path = os.fspath(path)
        base = os.path.basename(path)
        if not path.endswith(".py") or base.startswith((".", "_")) or not os.path.isfile(path):
            raise ServletLoadError(f"{path!r} is not a servlet file (a .py file whose name "
                                   f"does not start with '.' or '_')")
        module = _load_module(path)
        start = getattr(module, "start", None)
        if not callable(start):
            raise ServletLoadError(f"{path}: start must be a procedure taking the request, "
                                   f"given {start!r}")
        version = getattr(module, "interface_version",
                          "v2" if hasattr(module, "manager") else "v1")
        if version not in INTERFACE_VERSIONS:
            raise ServletLoadError(f"{path}: interface_version must be one of "
                                   f"{', '.join(INTERFACE_VERSIONS)}, given {version!r}")
        directory = os.path.dirname(os.path.abspath(path))
        if version == "stateless":
            return Servlet(dispatch_servlet(start), manager=getattr(module, "manager", None),
                           directory=directory, module=module)
        if version == "v1":
            timeout = getattr(module, "timeout", timeouts_default_servlet)
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                    or timeout <= 0:
                raise ServletLoadError(f"{path}: timeout must be seconds (> 0), "
                                       f"given {timeout!r}")
            manager: Manager = make_timeout_manager(None, timeout, timeout)
        else:
            exported = getattr(module, "manager", None)
            if not isinstance(exported, Manager):
                raise ServletLoadError(f"{path}: a v2 servlet exports a manager "
                                       f"(make_timeout_manager(...), ...), given {exported!r}")
            manager = exported

        def make_handler(responder):
            return stateful.make(start, manager=manager, servlet_responder=responder)

        return Servlet(stateful.make(start, manager=manager), manager=manager,
                       directory=directory, module=module, make_handler=make_handler)

    return path_to_servlet
