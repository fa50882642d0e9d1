"""Templates: separation of view.  Racket: ``web-server/templates``
(``include-template``), on Jinja2 (``pip install 'gevent-dispatch[templates]'``).

::

    def fast_template(thing):
        return include_template("simple.html", thing=thing)

``simple.html`` holds ``<title>Fastest {{ thing }} in the West!</title>``.  As Racket's
``include-template`` finds its file beside the module that includes it, a relative
path is taken from the directory of the calling module (an absolute path as it is).

Unlike Racket's templates, HTML is escaped: in ``.html``, ``.htm``, ``.xml`` and
``.xhtml`` templates every ``{{ value }}`` is escaped unless marked safe
(``markupsafe.Markup``, or ``|safe`` in the template).  The result of an escaped
template is itself marked safe, so one template's output included in another (Racket's
``(fast-template (fast-template "Embedding"))``) is not escaped twice.  Templates are
compiled once and reloaded when their file changes.
"""
from __future__ import annotations

import importlib
import os
import sys
import threading
from typing import Any, Union

__all__ = ["include_template", "template_environment"]

_AUTOESCAPE = (".html", ".htm", ".xml", ".xhtml")
_environments: dict = {}
_lock = threading.Lock()


def _jinja2() -> Any:
    # An extra, imported by name: the type check needs no Jinja2 installed.
    try:
        return importlib.import_module("jinja2")
    except ImportError:  # say how to get it
        raise ImportError("servlets.templates needs Jinja2: "
                          "pip install 'gevent-dispatch[templates]'") from None


def template_environment(directory: Union[str, os.PathLike]):
    """The Jinja2 ``Environment`` for templates under ``directory`` (one per directory,
    made on first use): add filters or globals to it."""
    directory = os.path.realpath(directory)
    with _lock:
        env = _environments.get(directory)
        if env is None:
            jinja2 = _jinja2()
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(directory),
                autoescape=lambda name: name is not None and name.lower().endswith(_AUTOESCAPE),
                undefined=jinja2.StrictUndefined,  # a misspelt variable is an error
                keep_trailing_newline=True)
            _environments[directory] = env
    return env


def include_template(path: Union[str, os.PathLike], **variables: Any) -> str:
    """Render the template file at ``path`` with ``variables``.  Racket:
    ``include-template``.  A relative ``path`` is taken from the directory of the
    calling module's file.  Returns a string (a ``markupsafe.Markup`` for escaped
    templates); an undefined variable raises ``jinja2.UndefinedError``."""
    path = os.fspath(path)
    if not os.path.isabs(path):
        caller = sys._getframe(1).f_globals.get("__file__")
        base = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        path = os.path.join(base, path)
    directory, name = os.path.split(os.path.abspath(path))
    template = template_environment(directory).get_template(name)
    text = template.render(**variables)
    if name.lower().endswith(_AUTOESCAPE):
        from markupsafe import Markup

        return Markup(text)
    return text
