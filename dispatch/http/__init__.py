"""Requests and responses.  Racket: ``web-server/http``.

Below the dispatchers, as in Racket: the request and response structs, x-expressions,
JSON, cookies, bindings, basic and digest authentication, id cookies and CSRF tokens.
Nothing here imports a dispatcher or the servlet layer; :mod:`servlets` re-exports all
of it.
"""
