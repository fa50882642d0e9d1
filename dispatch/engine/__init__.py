"""The gevent I/O layer of the HTTP server: the connection loop (:mod:`.http_connection`),
``wsgi.input`` (:mod:`.body`), detached and raw streams, the listener, and the one module
that reaches into gevent's socket internals (:mod:`.sockets`), over the sans-I/O core in
:mod:`dispatch.http11`.
"""
