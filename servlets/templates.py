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

Racket's ``@in[x xs]{...}`` loop (``in``, a ``for/list`` in the template) is Jinja2's
``{% for x in xs %}...{% endfor %}``; its conditionals (``@when``, ``@if``) are
``{% if %}``, and ``@(expression)`` is ``{{ expression }}`` for the variables passed in::

    {% for c in clients %}<tr><td>{{ c[0] }}, {{ c[1] }}</td></tr>{% endfor %}

:func:`include_template_xml` is Racket's ``include-template/xml``: the rendered text as
a :class:`~dispatch.http.xexpr.CData`, to be placed inside an x-expression as it is
(``("html", include_template_xml("static.html"))``); a plain ``include_template`` result
there is text, and its markup would be escaped.

X-expressions in templates (not in Racket, whose templates splice strings): a ``CData``
is safe HTML to Jinja (it has ``__html__``), and the ``xexpr`` filter renders an
x-expression, or a list of them such as a formlet's ``formlet_display(f)``, as HTML
that is not escaped again: ``{{ form|xexpr }}``.  :func:`response_template` answers
with a rendered template, as ``response_xexpr`` with an x-expression.
"""
from __future__ import annotations

import importlib
import mimetypes
import os
import sys
import threading
from typing import Any, Iterable, Mapping, Optional, Union

from dispatch.http.cookies import Cookie
from dispatch.http.response import TEXT_HTML_MIME_TYPE, Headers, Response, response_full
from dispatch.http.xexpr import CData, xexpr_to_string

__all__ = ["include_template", "include_template_xml", "response_template",
           "template_environment", "xexpr_html"]

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
            env.filters["xexpr"] = xexpr_html
            _environments[directory] = env
    return env


def xexpr_html(x: Any):
    """``x``, an x-expression or a list of them (a forest: a list whose first item is
    not a tag), as HTML that Jinja does not escape again (``markupsafe.Markup``); the
    ``xexpr`` filter of every template."""
    from markupsafe import Markup

    if isinstance(x, list) and not (x and isinstance(x[0], str)):
        return Markup("".join(xexpr_to_string(item) for item in x))
    return Markup(xexpr_to_string(x))


def _caller_path(path: Union[str, os.PathLike], depth: int) -> str:
    path = os.fspath(path)
    if not os.path.isabs(path):
        caller = sys._getframe(depth + 1).f_globals.get("__file__")
        base = os.path.dirname(os.path.abspath(caller)) if caller else os.getcwd()
        path = os.path.join(base, path)
    return path


def include_template(path: Union[str, os.PathLike], **variables: Any) -> str:
    """Render the template file at ``path`` with ``variables``.  Racket:
    ``include-template``.  A relative ``path`` is taken from the directory of the
    calling module's file.  Returns a string (a ``markupsafe.Markup`` for escaped
    templates); an undefined variable raises ``jinja2.UndefinedError``."""
    return _render(_caller_path(path, 1), variables)


def include_template_xml(path: Union[str, os.PathLike], **variables: Any) -> CData:
    """:func:`include_template`'s text as a :class:`~dispatch.http.xexpr.CData`: written
    as it is where an x-expression includes it.  Racket: ``include-template/xml``
    (its ``cdata``).  Only use it for templates whose values are escaped (``.html``
    and the like) or trusted: the text is not escaped again."""
    return CData(_render(_caller_path(path, 1), variables))


def _render(path: str, variables: Mapping[str, Any]) -> str:
    directory, name = os.path.split(os.path.abspath(path))
    template = template_environment(directory).get_template(name)
    text = template.render(**variables)
    if name.lower().endswith(_AUTOESCAPE):
        from markupsafe import Markup

        return Markup(text)
    return text


def response_template(path: Union[str, os.PathLike],
                      variables: Optional[Mapping[str, Any]] = None, *, code: int = 200,
                      message: Optional[str] = None, mime_type: Optional[str] = None,
                      headers: Headers = None, cookies: Iterable[Cookie] = (),
                      **more: Any) -> Response:
    """A response whose body is the template at ``path`` rendered with ``variables``
    and the other keywords (as :func:`include_template`: a relative path is taken from
    the calling module's directory).  Not in Racket, where a template's string goes to
    ``response/full``.  ``mime_type`` defaults to the file's (``.html``: ``text/html;
    charset=utf-8``); ``code``, ``message``, ``headers`` and ``cookies`` are
    ``response_full``'s.  A template variable with one of these names goes in
    ``variables``::

        return response_template("board.html", cards=cards, form=formlet_display(f))
    """
    if variables is not None and not isinstance(variables, Mapping):
        raise TypeError(f"response_template: variables is a mapping of names to values, "
                        f"not {type(variables).__name__} {variables!r}")
    full = _caller_path(path, 1)
    text = _render(full, {**(variables or {}), **more})
    if mime_type is None:
        guessed = mimetypes.guess_type(full)[0]
        if guessed is None or guessed == "text/html":
            mime_type = TEXT_HTML_MIME_TYPE
        else:
            mime_type = guessed + ("; charset=utf-8" if guessed.startswith("text/") or
                                   guessed.endswith("xml") else "")
    return response_full(code, message, None, mime_type, headers,
                         [str(text).encode("utf-8")], cookies=cookies)
