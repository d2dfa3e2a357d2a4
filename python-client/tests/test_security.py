"""Attacks on a running Ember (issue 18): what one client of a service can reach of another's, what other local
users can plant, what unauthenticated peers can make the JVM do. Each test fails on the code before its fix."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from py4j.java_gateway import JavaObject
from py4j.protocol import Py4JError

from conftest import StartDriver, driver_result
from ember.errors import EmberError
from ember.java_gateway import SideChannel, connect
from test_service import service  # noqa: F401 - the fixture


def test_a_client_cannot_reach_another_clients_session_by_guessing_ids(service, start_driver: StartDriver,  # noqa: F811
                                                                       tmp_path: Path) -> None:
    home, info = service
    env = {"EMBER_HOME": str(home), "EMBER_GATEWAY": f"127.0.0.1:{info['port']}"}
    ready = tmp_path / "victim-ready"
    go_on = tmp_path / "attack-done"
    victim = start_driver(f"""
        import time
        from pathlib import Path
        from ember import SparkContext
        sc = SparkContext(appName="victim")
        data = sc.parallelize(list(range(1000)), 4).cache()
        first = data.sum()
        Path({str(ready)!r}).touch()
        deadline = time.monotonic() + 60
        while not Path({str(go_on)!r}).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        report({{"first": first, "after": data.map(lambda x: x * 2).sum(), "session": sc._session.id()}})
        sc.stop()
    """, env=env)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and victim.proc.poll() is None:
        time.sleep(0.05)
    assert ready.exists(), victim.output_text()

    gateway, entry = connect(info["port"], info["secret"])  # the attacker holds the service's secret too
    reached = []
    try:
        for i in range(201):
            for method in ("stop", "id", "cancelAllJobs"):
                try:
                    getattr(JavaObject(f"o{i}", gateway._gateway_client), method)()
                    reached.append(f"o{i}.{method}")
                except Py4JError:
                    pass
        side = entry.sidePort()
        for number in range(1, 21):  # session ids are s1, s2, ...: not enough to act on a session
            for request in (lambda c: c.store([[b"x"]]), lambda c: c.blob(b"x"), lambda c: c.broadcast(1, b"x")):
                try:
                    request(SideChannel(side, info["secret"], f"s{number}"))
                    reached.append(f"side s{number}")
                except EmberError:
                    pass
    finally:
        gateway.close()
        go_on.touch()
    victim.proc.wait(timeout=60)
    result = driver_result(subprocess.CompletedProcess([], victim.proc.returncode, victim.output_text(), ""))
    assert reached == []
    assert result["first"] == sum(range(1000)) and result["after"] == 2 * sum(range(1000))
