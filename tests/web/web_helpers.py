"""Helpers shared by the web tests (a module, not conftest, so tests can import it by name)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from form_data import config_form_data  # noqa: F401  (re-exported for the web tests)

from trainer import TRPOConfig

PASSWORD = "correct-horse-battery-staple"
# One update is 256 steps; 2048 steps are 8 updates: a couple of seconds on one core.
TINY_PARAMS = TRPOConfig(
    n_steps=256, value_minibatch_size=64, value_epochs=2, hidden_sizes=(16,), value_hidden_sizes=(16,), device="cpu"
).to_dict()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """Poll until ``predicate()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class HttpSession:
    """A minimal cookie-keeping HTTP client for a server in another process (CSRF token sent as a header)."""

    def __init__(self, base_url: str) -> None:
        import http.cookiejar
        import urllib.request

        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str, bytes]:
        """GET (or POST a form when ``data`` is given); returns status, final URL and body, following redirects."""
        import urllib.error
        import urllib.parse
        import urllib.request

        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base_url + path, data=body)  # noqa: S310 (our own test server)
        if body is not None:
            req.add_header("X-CSRFToken", self._csrf())
            req.add_header("Referer", self.base_url + path)
        try:
            with self.opener.open(req, timeout=60) as response:
                return response.status, response.geturl(), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read()

    def json(self, path: str) -> Any:
        import json

        status, _, body = self.request(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)

    def post_form(self, path: str, data: dict[str, Any]) -> tuple[int, str, bytes]:
        """Load the form first (it sets the CSRF cookie), then submit it."""
        self.request(path)
        return self.request(path, data)
