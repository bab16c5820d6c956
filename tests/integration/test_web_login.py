"""The UI's login when the server has credentials (real HTTP, embedded Platform): every /ui page but the login and
the static files needs the session cookie, the cookie is HttpOnly/SameSite=Strict/Path=/ui and opens nothing but
/ui, and the API still needs SigV4."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from lambdahost.core.credentials import Credentials
from lambdahost.core.settings import Settings
from lambdahost.server import Platform
from tests.integration.serving import http_server
from tests.integration.web_client import UiClient

ADMIN = Credentials("AKIDWEBADMIN", "web-admin-secret")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiClient]:
    platform = Platform(Settings(data_dir=tmp_path_factory.mktemp("web-login"), credentials=ADMIN)).start()
    try:
        with http_server(platform) as url:
            yield UiClient(url)
    finally:
        platform.close()


def log_in(client: UiClient) -> str:
    page = client.post_form(
        "/ui/login",
        {"access_key_id": ADMIN.access_key_id, "secret_access_key": ADMIN.secret_access_key, "next": "/ui/overview"},
    )
    assert page.status == 303 and page.headers["location"] == "/ui/overview"
    [cookie] = page.cookies
    return cookie


def test_pages_redirect_to_the_login_until_logged_in(client: UiClient) -> None:
    client.cookie = None
    page = client.get("/ui/functions/x?status=failed")
    assert page.status == 303
    assert page.headers["location"] == "/ui/login?next=%2Fui%2Ffunctions%2Fx%3Fstatus%3Dfailed"
    assert client.post_form("/ui/functions/x/delete", {}).status == 401
    assert client.get("/ui/static/ui.css").status == 200
    login = client.get("/ui/login")
    assert login.status == 200 and 'name="secret_access_key"' in login.text
    assert client.get("/health").status == 200


def test_wrong_credentials_are_refused(client: UiClient) -> None:
    client.cookie = None
    page = client.post_form("/ui/login", {"access_key_id": ADMIN.access_key_id, "secret_access_key": "nope"})
    assert page.status == 401 and 'id="login-error"' in page.text and not page.cookies
    page = client.post_form("/ui/login", {"access_key_id": "OTHER", "secret_access_key": ADMIN.secret_access_key})
    assert page.status == 401


def test_the_session_cookie_opens_the_ui_only(client: UiClient) -> None:
    cookie = log_in(client)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/ui" in attributes
    client.cookie = cookie.split(";", 1)[0]
    page = client.get("/ui/")
    assert page.status == 200 and 'action="/ui/logout"' in page.text
    assert client.get("/ui/overview").status == 200
    api = client.get("/2015-03-31/functions")
    assert api.status == 403 and api.headers["x-amzn-errortype"].startswith("MissingAuthenticationToken")
    assert client.get("/lambdahost/v1/status").status == 403

    name, _, value = client.cookie.partition("=")
    expiry, _, signature = value.partition(".")
    client.cookie = f"{name}={int(expiry) + 1000}.{signature}"  # a longer life, same signature: forged
    assert client.get("/ui/").status == 303

    client.cookie = cookie.split(";", 1)[0]
    out = client.post_form("/ui/logout", {})
    assert out.status == 303 and out.headers["location"] == "/ui/login"
    assert any(re.search(r"lambdahost_ui=\"?\"?;", c) for c in out.cookies)


def test_login_never_redirects_to_another_site(client: UiClient) -> None:
    client.cookie = None
    for target in ("//evil.example/ui/", "https://evil.example/ui/", "/2015-03-31/functions"):
        page = client.post_form(
            "/ui/login",
            {"access_key_id": ADMIN.access_key_id, "secret_access_key": ADMIN.secret_access_key, "next": target},
        )
        assert page.status == 303 and page.headers["location"] == "/ui/"
