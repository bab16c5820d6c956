"""How a Platform (real SQLite file) composes authentication: no wrapper without credentials, and with them a
signature check plus a separate, random key pair for functions that the check accepts."""

from __future__ import annotations

import time
from pathlib import Path

from lambdahost.api.app import LambdaHostApp
from lambdahost.api.auth import RequireSignature
from lambdahost.api.body_limit import BodyLimit
from lambdahost.core.credentials import PLACEHOLDER, Credentials
from lambdahost.core.model import FunctionConfig
from lambdahost.core.settings import Settings
from lambdahost.core.sigv4 import HttpRequest, sign
from lambdahost.engine.function_env import function_environment
from lambdahost.server import Platform

ADMIN = Credentials("AKIDADMIN", "admin-secret")


def signed_by(key: Credentials) -> HttpRequest:
    request = HttpRequest("GET", "/2015-03-31/functions", "", [("Host", "127.0.0.1:9000")])
    added = sign(request, key, "us-east-1", "lambda", time.time())
    return HttpRequest(request.method, request.path, "", [*request.headers, *added])


def test_without_credentials_the_pipeline_has_no_auth_wrapper(tmp_path: Path) -> None:
    platform = Platform(Settings(data_dir=tmp_path))
    try:
        assert platform.verifier is None
        app = platform.asgi_app()
        assert isinstance(app, BodyLimit) and type(app.app) is LambdaHostApp
        assert platform.settings.function_credentials == PLACEHOLDER
    finally:
        platform.close()


def test_with_credentials_functions_get_their_own_accepted_key_pair(tmp_path: Path) -> None:
    platform = Platform(Settings(data_dir=tmp_path, credentials=ADMIN))
    try:
        outer = platform.asgi_app()
        assert isinstance(outer, BodyLimit)
        app = outer.app
        assert isinstance(app, RequireSignature) and isinstance(app.app, LambdaHostApp)
        functions_key = platform.settings.function_credentials
        assert functions_key not in (PLACEHOLDER, ADMIN)
        assert platform.verifier is not None
        assert platform.verifier.verify(signed_by(ADMIN)) == ADMIN.access_key_id
        assert platform.verifier.verify(signed_by(functions_key)) == functions_key.access_key_id
        config = FunctionConfig(
            name="f",
            runtime="python3.11",
            handler="app.handler",
            role="arn:aws:iam::000000000000:role/r",
            code_sha256_hex="0" * 64,
            code_size=1,
            revision_id="r",
            last_modified=0.0,
        )
        env = function_environment(config, platform.settings, "/code")
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
            functions_key.access_key_id,
            functions_key.secret_access_key,
        )
    finally:
        platform.close()
    other = Platform(Settings(data_dir=tmp_path, credentials=ADMIN))
    try:
        assert other.settings.function_credentials != functions_key  # new on every start
    finally:
        other.close()
