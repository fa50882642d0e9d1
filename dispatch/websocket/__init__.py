"""WebSockets.  Racket: the ``rfc6455`` package (``net/rfc6455``).

==========================================  ==============================================
Racket                                      Python
==========================================  ==============================================
``make-general-websockets-dispatcher``      :func:`make_general_websockets_dispatcher`
``ws-service-mapper``                       :func:`ws_service_mapper`
``make-service-mapper-dispatcher``          :func:`make_service_mapper_dispatcher`
``ws-serve``, ``ws-serve*``                 :func:`ws_serve`, :func:`ws_serve_star`
``ws-connect``                              :func:`ws_connect`
``ws-send!``, ``ws-recv``, ``ws-recv-evt``  :func:`ws_send`, :func:`ws_recv`, :func:`ws_recv_evt`
``ws-recv-stream``                          :func:`ws_recv_stream`
``ws-close!``                               :func:`ws_close`
``ws-conn-closed?``                         :func:`ws_conn_closed`
``ws-conn-close-status``, ``-reason``       :func:`ws_conn_close_status`, ``_reason``
``ws-conn-line``, ``ws-conn-headers``       :func:`ws_conn_line`, :func:`ws_conn_headers`
``ws-url?``, ``wss-url?``                   :func:`ws_url`, :func:`wss_url`
``eof``                                     :data:`EOF` (and :func:`is_eof`)
==========================================  ==============================================
"""
from .client import HandshakeFailed, ws_connect, ws_url, wss_url
from .connection import (
    EOF,
    ConnectionClosed,
    WebSocketConnection,
    WSOptions,
    is_eof,
    ws_close,
    ws_conn_close_reason,
    ws_conn_close_status,
    ws_conn_closed,
    ws_conn_headers,
    ws_conn_line,
    ws_conn_path,
    ws_conn_subprotocol,
    ws_recv,
    ws_recv_evt,
    ws_recv_stream,
    ws_send,
)
from .deflate import DeflateOptions
from .dispatcher import make_general_websockets_dispatcher
from .gevent_websocket import make_wsgi_websocket_dispatcher
from .own_port import ws_serve, ws_serve_star
from .service_mapper import make_service_mapper_dispatcher, ws_service_mapper

__all__ = [
    "EOF", "ConnectionClosed", "DeflateOptions", "HandshakeFailed", "WSOptions",
    "WebSocketConnection", "is_eof", "make_general_websockets_dispatcher",
    "make_service_mapper_dispatcher", "make_wsgi_websocket_dispatcher", "ws_close",
    "ws_conn_close_reason",
    "ws_conn_close_status", "ws_conn_closed", "ws_conn_headers", "ws_conn_line",
    "ws_conn_path", "ws_conn_subprotocol", "ws_connect", "ws_recv", "ws_recv_evt",
    "ws_recv_stream", "ws_send", "ws_serve", "ws_serve_star", "ws_service_mapper", "ws_url",
    "wss_url",
]
