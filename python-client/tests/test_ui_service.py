"""The web UI of a service: it shows every session, and bound beyond loopback it wants the service's secret."""
from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from conftest import EMBER_DIST, driver_result
from test_service import run_service
from test_service_ops import edit_conf, free_port, log_text, wait_for


def fetch(url: str, headers: Optional[dict] = None) -> tuple[int, dict, str]:
    """Status, headers and body of a GET that does not follow redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_a_service_ui_bound_beyond_loopback_wants_the_secret_and_shows_every_session(tmp_path: Path,
                                                                                     run_driver) -> None:
    home = tmp_path / "ember"
    shutil.copytree(EMBER_DIST, home, symlinks=True)
    port = free_port()
    edit_conf(home, "dev.ember.ui.cfg", "port = 4040", f"port = {port}")
    edit_conf(home, "dev.ember.ui.cfg", "bindAddress = 127.0.0.1", "bindAddress = 0.0.0.0")
    for generator in [run_service(home)]:
        _, info = next(generator)
        try:
            assert wait_for(lambda: "web UI at" in log_text(home)), log_text(home)
            base = f"http://127.0.0.1:{port}"
            secret = info["secret"]
            # No token, a wrong one: refused with what to do.
            status, _, body = fetch(base + "/api/v1/applications")
            assert status == 401 and "login?token=" in json.loads(body)["error"]
            assert fetch(base + "/api/v1/applications", {"Authorization": "Bearer wrong"})[0] == 401
            assert fetch(base + "/login?token=wrong")[0] == 401
            # The secret as a bearer token, or once through /login, which sets the cookie the pages send.
            status, headers, body = fetch(base + "/api/v1/applications", {"Authorization": f"Bearer {secret}"})
            assert status == 200 and json.loads(body) == []
            status, headers, _ = fetch(base + "/login?token=" + urllib.request.quote(secret))
            headers = {key.lower(): value for key, value in headers.items()}
            assert status == 303 and headers["location"] == "/"
            cookie = headers["set-cookie"].split(";")[0]
            assert "HttpOnly" in headers["set-cookie"]
            # Two drivers' sessions, both shown; sc.uiWebUrl is the service's UI.
            for name in ("first-app", "second-app"):
                proc = run_driver(f"""
                    import os
                    from ember import SparkContext
                    sc = SparkContext("ember://127.0.0.1:{info['port']}", "{name}")
                    total = sc.parallelize(range(10), 2).sum()
                    report({{"url": sc.uiWebUrl, "total": total, "pid": os.getpid()}})
                    sc.stop()
                """, env={"EMBER_HOME": str(home)})
                result = driver_result(proc)
                assert result["total"] == 45
                assert re.fullmatch(rf"http://[^/]+:{port}", result["url"]), result["url"]
            status, _, body = fetch(base + "/api/v1/applications", {"Cookie": cookie})
            apps = json.loads(body)
            assert status == 200 and sorted(app["name"] for app in apps) == ["first-app", "second-app"]
            assert all(app["status"] == "ENDED" for app in apps)
            for app in apps:
                jobs = json.loads(fetch(base + f"/api/v1/applications/{app['id']}/jobs", {"Cookie": cookie})[2])
                assert [job["status"] for job in jobs] == ["SUCCEEDED"] and jobs[0]["name"].startswith("sum at ")
            assert "a login with a wrong or missing token" in log_text(home)
        finally:
            generator.close()
