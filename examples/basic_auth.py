"""Port of the Basic Authentication example of Racket's HTTP documentation, an insta
program: a module that defines ``start``.

    python -m servlets.insta examples/basic_auth.py [--port 8000] [--no-web-browser]

Without credentials the answer is ``401`` with a fresh realm; with them, the page shows
the user and password the browser sent.
"""
import itertools

from servlets import (
    TEXT_HTML_MIME_TYPE,
    make_basic_auth_header,
    request_to_basic_credentials,
    response_full,
    response_xexpr,
)

_realms = itertools.count(1)  # Racket's (gensym): a realm the browser has not seen


def start(req):
    credentials = request_to_basic_credentials(req)
    if credentials is not None:
        user, password = credentials
        return response_xexpr(
            ("html", ("head", ("title", "Basic Auth Test")),
             ("body", ("h1", "User: ", user.decode("utf-8", "replace")),
              ("h1", "Pass: ", password.decode("utf-8", "replace")))))
    return response_full(401, "Unauthorized", None, TEXT_HTML_MIME_TYPE,
                         [make_basic_auth_header(f"Basic Auth Test: g{next(_realms)}")],
                         [b""])
