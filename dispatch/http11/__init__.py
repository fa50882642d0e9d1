"""HTTP/1.1 for the server, as a sans-I/O core: :mod:`.reader` turns bytes into requests
(llhttp through ``httptools`` does the framing), :mod:`.writer` turns a WSGI response
into bytes.  Neither touches a socket; :mod:`dispatch.server` is the thin I/O layer.
"""
