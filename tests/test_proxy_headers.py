"""dispatch.proxy_headers: X-Forwarded-* believed only from trusted proxies, as deep as
the configured hops."""
import json

import requests

from dispatch import proxy_headers
from dispatch.proxy_headers import TrustedProxies
from dispatch.testing import Client
from servlets import response_full


def report(conn, request):
    body = json.dumps({"client_ip": request.client_ip, "scheme": request.scheme,
                       "host": request.host, "url": request.url,
                       "script_root": request.script_root})
    conn.respond(response_full(200, None, None, "application/json", [], [body.encode()]))


def seen(dispatcher, peer="127.0.0.1", **headers):
    client = Client(dispatcher)
    reply = client.get("/p", headers=headers, environ_base={"REMOTE_ADDR": peer})
    return json.loads(reply.data)


FORWARDED = {"X-Forwarded-For": "203.0.113.9, 198.51.100.2", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "example.org"}


def test_a_trusted_peer_s_headers_are_honoured_one_hop_deep():
    result = seen(proxy_headers.make(report, trusted=("127.0.0.1",)), **FORWARDED)
    # One proxy: its own entry (the last) is the client; the first may be made up.
    assert result["client_ip"] == "198.51.100.2"
    assert result["scheme"] == "https"
    assert result["host"] == "localhost"  # X-Forwarded-Host is off by default (ProxyFix)
    assert result["url"] == "https://localhost/p"


def test_an_untrusted_peer_s_headers_are_ignored():
    result = seen(proxy_headers.make(report, trusted=("10.0.0.0/8",)), peer="192.0.2.1",
                  **FORWARDED)
    assert result["client_ip"] == "192.0.2.1"
    assert result["scheme"] == "http"


def test_hops_and_host_and_prefix():
    two = proxy_headers.make(report, trusted=("10.0.0.0/8",), x_for=2, x_host=1, x_prefix=1)
    result = seen(two, peer="10.1.2.3", **FORWARDED, **{"X-Forwarded-Prefix": "/app"})
    assert result["client_ip"] == "203.0.113.9"
    assert result["host"] == "example.org"
    assert result["script_root"] == "/app"
    assert result["url"] == "https://example.org/app/p"
    # Fewer values than hops: nothing is believed (ProxyFix's rule).
    short = seen(two, peer="10.1.2.3", **{"X-Forwarded-For": "198.51.100.2"})
    assert short["client_ip"] == "10.1.2.3"


def test_trust_rules():
    proxies = TrustedProxies(("127.0.0.1", "10.0.0.0/8", "::1"))
    assert proxies.trusts("127.0.0.1") and proxies.trusts("10.200.0.1")
    assert proxies.trusts("::1") and proxies.trusts("::ffff:10.0.0.1")
    assert not proxies.trusts("127.0.0.2") and not proxies.trusts("11.0.0.1")
    for junk in (None, "", "not-an-ip", "unix:/tmp/s"):
        assert not proxies.trusts(junk)
    environ = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert not proxies.apply(environ) and environ["REMOTE_ADDR"] == "192.0.2.1"
    environ["REMOTE_ADDR"] = "10.0.0.5"
    assert proxies.apply(environ) and environ["REMOTE_ADDR"] == "1.2.3.4"
    assert environ["werkzeug.proxy_fix.orig"]["REMOTE_ADDR"] == "10.0.0.5"
    assert TrustedProxies("127.0.0.1").trusts("127.0.0.1")  # one address as a string


def test_over_a_socket_and_as_wsgi_middleware(served):
    headers = {"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"}
    trusted = served(proxy_headers.make(report))  # default: loopback is the proxy
    assert requests.get(trusted + "/p", headers=headers, timeout=5).json()["client_ip"] \
        == "198.51.100.2"
    untrusted = served(proxy_headers.make(report, trusted=("10.0.0.0/8",)))
    result = requests.get(untrusted + "/p", headers=headers, timeout=5).json()
    assert (result["client_ip"], result["scheme"]) == ("127.0.0.1", "http")

    client = Client(report)
    client.application = proxy_headers.wrap_wsgi(client.application, trusted=("192.0.2.1",))
    reply = client.get("/p", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert json.loads(reply.data)["scheme"] == "https"
