"""The ports of the Racket web-server documentation's examples, run as their docstrings
say (``--port 0 --no-web-browser``) from a terminal, read from their banner and stopped
with enter."""
import re

import pytest
import requests

from tests.test_serve_servlet import Program

ARGS = ("--port", "0", "--no-web-browser")


@pytest.fixture
def example():
    running = []

    def start(*argv):
        running.append(Program([*argv, *ARGS], tty=True))
        return running[-1]

    yield start
    for p in running:
        p.close()


def stop(p):
    p.press_enter()
    assert p.wait() == 0


def test_servlet_env_hello(example):
    p = example("examples/servlet_env_hello.py")
    page = requests.get(p.base + "/servlets/standalone.rkt", timeout=5)
    assert "<title>Hello world!</title>" in page.text and "Hey out there!" in page.text
    stop(p)


def test_dispatch_blog(example):
    p = example("examples/dispatch_blog.py")
    home = requests.get(p.base + "/", timeout=5).text
    assert 'href="/posts/Extracurricular-Activity"' in home
    post = requests.get(p.base + "/posts/Extracurricular-Activity", timeout=5).text
    assert 'href="/archive/1984/10"' in post
    archive = requests.get(p.base + "/archive/1984/10", timeout=5).text
    assert "<h1>Archive 1984/10</h1>" in archive and "Extracurricular-Activity" in archive
    assert "<h1>Posts</h1>" in requests.get(p.base + "/contact", timeout=5).text  # else
    stop(p)


def test_dispatch_sum(example):
    p = example("examples/dispatch_sum.py")
    first = requests.get(p.base + "/", timeout=5).text
    second_url = re.search(r'href="([^"]+)"', first).group(1)
    assert second_url == "/2nd/50"
    third_url = re.search(r'href="([^"]+)"', requests.get(p.base + second_url, timeout=5).text)
    assert third_url.group(1) == "/sum/50/100"
    assert "<h1>150</h1>" in requests.get(p.base + third_url.group(1), timeout=5).text
    assert "<h1>10</h1>" in requests.get(p.base + "/add/1/2/3/4", timeout=5).text
    assert "<h1>0</h1>" in requests.get(p.base + "/add", timeout=5).text
    assert requests.get(p.base + "/add/1/x", timeout=5).status_code == 404
    stop(p)


def test_cookies(example):
    p = example("examples/cookies.py")
    first = requests.get(p.base + "/", allow_redirects=False, timeout=5)
    assert first.status_code == 303 and first.headers["Set-Cookie"] == "id=joseph"
    session = requests.Session()
    assert "<h1>Hello joseph</h1>" in session.get(p.base + "/", timeout=5).text
    cookied = requests.get(p.base + "/cookied", timeout=5)
    assert "You're cookie'd!" in cookied.text.replace("&#39;", "'")
    set_cookies = cookied.raw.headers.getlist("Set-Cookie")
    assert re.fullmatch(r"time=\d+", set_cookies[0]) and set_cookies[1] == "id=joseph; Secure"
    stop(p)


def test_id_cookie_login(example, tmp_path):
    p = example("examples/id_cookie_login.py", "--salt", str(tmp_path / "salt"))
    session = requests.Session()
    assert "<title>Log in</title>" in session.get(p.base + "/", timeout=5).text
    welcome = session.post(p.base + "/login", data={"user": "alice"}, timeout=5)
    assert "<h1>Hello alice</h1>" in welcome.text
    # the login cookie stays out of other sites' posts (SameSite=Lax: not Racket's default)
    assert welcome.history[0].headers["Set-Cookie"].endswith("; Path=/; HttpOnly; SameSite=Lax")
    signed = session.cookies["user"]
    forged = signed.rsplit("&", 1)[0] + "&mallory"
    assert "Log in" in requests.get(p.base + "/", cookies={"user": forged}, timeout=5).text
    assert requests.post(p.base + "/login", timeout=5).status_code == 400  # no user binding
    logged_out = session.post(p.base + "/logout", timeout=5)
    assert "<title>Log in</title>" in logged_out.text and "user" not in session.cookies
    stop(p)


def test_basic_auth_with_insta(example):
    p = example("-m", "servlets.insta", "examples/basic_auth.py")
    refused = requests.get(p.base + "/servlets/standalone.rkt", timeout=5)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="Basic Auth Test: g')
    page = requests.get(p.base + "/servlets/standalone.rkt", auth=("ann", "secret"), timeout=5)
    assert "<h1>User: ann</h1>" in page.text and "<h1>Pass: secret</h1>" in page.text
    stop(p)


def test_insta_needs_a_start(tmp_path):
    import subprocess
    import sys

    from tests.test_serve_servlet import ROOT

    module = tmp_path / "nostart.py"
    module.write_text("x = 1\n")
    done = subprocess.run([sys.executable, "-m", "servlets.insta", str(module), *ARGS],
                          capture_output=True, text=True, cwd=ROOT, timeout=30,
                          stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "you must provide a 'start'" in done.stderr


def test_templates_blog(example):
    pytest.importorskip("jinja2")
    p = example("examples/templates_blog.py")
    home = requests.get(p.base + "/", timeout=5).text
    assert "<title>Al's Church: Posts</title>" in home
    assert "<h2>Church and the States</h2>" in home and 'action="/new"' in home
    posted = requests.post(p.base + "/new", data={"title": "<i>Lambda</i>", "body": "Calculus"},
                           timeout=5).text
    assert "<h2>&lt;i&gt;Lambda&lt;/i&gt;</h2>" in posted and 'href="/"' in posted
    home = requests.get(p.base + "/", timeout=5).text
    assert home.index("&lt;i&gt;Lambda") < home.index("Church and the States")
    assert requests.post(p.base + "/new", data={"title": "t"}, timeout=5).status_code == 400
    stop(p)
