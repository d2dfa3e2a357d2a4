"""The web UI in a real browser: headless Chromium, driven through Selenium, reads the pages of a real local driver's
UI (``sc.uiWebUrl``) while the driver runs jobs on command. Every figure the pages show is checked against what the
driver's program computed: its task counts, its partitions, its exception.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); without them these tests fail.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from conftest import _write_driver, driver_env

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError as e:  # the test extra pins selenium; say so rather than skipping
    SELENIUM_MISSING: Optional[str] = f"selenium is not installed ({e}): pip install -e 'python-client[test]'"
else:
    SELENIUM_MISSING = None

SCREENSHOTS = Path(__file__).resolve().parent.parent / "target" / "ui-screenshots"
INSTALL_HINT = "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"

# The driver under test: one SparkContext with its UI on any free port, running one named command per line of its
# standard input, each in a thread of its own under a job group named after the command, and printing
# "DONE <command> <json>" when it ends.
DRIVER = """
import json, sys, threading, time
from operator import add
from ember import SparkConf, SparkContext

sc = SparkContext("local[2]", "ui-test", conf=SparkConf().set("spark.ui.port", "0"))

def say(*words):
    print(*words, flush=True)

def slow():
    rdd = sc.parallelize(range(6), 6)
    return {"result": rdd.map(lambda x: (time.sleep(1.2), x)[1]).collect(), "tasks": rdd.getNumPartitions()}

def shuffle():
    words = sc.parallelize(["a", "b", "c", "a", "b", "a"] * 20, 3)
    counts = words.map(lambda w: (w, 1)).reduceByKey(add, 2)
    return {"counts": sorted(counts.collect()), "map_tasks": words.getNumPartitions(),
            "reduce_tasks": counts.getNumPartitions()}

def fail():
    def f(x):
        if x == 2:
            raise ValueError("boom from the ui test")
        return x
    try:
        sc.parallelize(range(4), 4).map(f).collect()
    except Exception as e:
        return {"type": type(e).__name__, "message": str(e)}
    return {"type": None}

def cache():
    rdd = sc.parallelize(range(1000), 5).map(lambda x: x * 3).persist()
    return {"count": rdd.count(), "partitions": rdd.getNumPartitions(), "id": rdd.id()}

# The cache command's job group is markup: the pages must show it as text, never run it.
GROUPS = {"cache": '<img src=x onerror="window.__injected = 1"><b>cache</b>'}

def run(name):
    sc.setJobGroup(GROUPS.get(name, name), "the ui test's " + name)
    try:
        say("DONE", name, json.dumps(globals()[name]()))
    except Exception as e:
        say("DONE", name, json.dumps({"error": repr(e)}))

sc.parallelize(range(2), 2).count()  # the workers start before any test watches
say("URL", sc.uiWebUrl)
for line in sys.stdin:
    if line.strip() == "quit":
        break
    threading.Thread(target=run, args=(line.strip(),), daemon=True).start()
sc.stop()
"""


class UiDriver:
    """The driver process: ``url`` of its UI, ``run(command)`` to start a command, ``wait(command)`` for its result."""

    def __init__(self, proc: "subprocess.Popen[str]", log: Path) -> None:
        self.proc = proc
        self.log = log
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.results: dict[str, Any] = {}
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._expect("URL ", 90)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _expect(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith("DONE "):
                _, name, value = line.split(" ", 2)
                self.results[name] = json.loads(value)
            if line.startswith(prefix):
                return line[len(prefix):]
        pytest.fail(f"the driver said no {prefix.strip()!r} in {timeout} s (exit code {self.proc.poll()}); its "
                    f"output:\n{self.log.read_text(errors='replace')[-4000:]}")

    def run(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def done(self, command: str) -> bool:
        while not self.lines.empty():
            line = self.lines.get()
            if line.startswith("DONE "):
                _, name, value = line.split(" ", 2)
                self.results[name] = json.loads(value)
        return command in self.results

    def wait(self, command: str, timeout: float = 60) -> Any:
        if not self.done(command):
            self._expect(f"DONE {command} ", timeout)
        result = self.results[command]
        assert "error" not in result, f"the driver's {command} failed: {result['error']}"
        return result


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiDriver]:
    directory = tmp_path_factory.mktemp("ui-browser")
    script = _write_driver(directory / "drivers", DRIVER)
    log = directory / "driver.err"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, str(script)], env=driver_env(), cwd=str(directory), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
    try:
        ui = UiDriver(proc, log)
        assert ui.url.startswith("http://"), (f"sc.uiWebUrl is {ui.url!r}: the distribution has no web UI bundle "
                                              f"(dev.ember.ui); rebuild it")
        yield ui
    finally:
        if proc.poll() is None:
            try:
                assert proc.stdin is not None
                proc.stdin.write("quit\n")
                proc.stdin.close()
                proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()


class Browser:
    """One headless Chromium for the module's tests, opened on first use; ``fail`` holds why it could not be."""

    def __init__(self) -> None:
        self.fail: Optional[str] = None
        self._driver: Any = None

    def get(self) -> Any:
        if self._driver is None and self.fail is None:
            self._driver, self.fail = _start_chromium()
        if self.fail is not None:
            pytest.fail(self.fail)
        return self._driver

    def quit(self) -> None:
        if self._driver is not None:
            self._driver.quit()


def _start_chromium() -> tuple[Any, Optional[str]]:
    if SELENIUM_MISSING:
        return None, SELENIUM_MISSING
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        missing = " and ".join(name for name, path in (("chromium", chromium), ("chromedriver", chromedriver))
                               if not path)
        return None, f"{missing} not found on PATH: {INSTALL_HINT}"
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    try:
        return webdriver.Chrome(options=options, service=Service(chromedriver)), None
    except WebDriverException as e:
        return None, f"could not start headless Chromium ({chromium}, {chromedriver}): {e.msg}; {INSTALL_HINT}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    holder = Browser()
    yield holder
    holder.quit()


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    """The first truthy value of ``check()``, retried over stale elements (the page re-renders as data change)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except StaleElementReferenceException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what} (last seen: {last!r})")
        time.sleep(interval)


def app_id(page: Any, url: str) -> str:
    """The driver's application (its one session), from the applications page."""
    page.get(url + "/#/")
    rows = wait_until(lambda: page.find_elements(By.CSS_SELECTOR, "#apps-table tr[data-app-id]"), 20,
                      "the applications table")
    assert len(rows) == 1
    assert rows[0].get_attribute("data-status") == "RUNNING"
    assert "ui-test" in rows[0].text
    return rows[0].get_attribute("data-app-id")


# Reads the row of a job group in the jobs table in one call: the page may re-render between two separate reads.
JOB_ROW = """
const row = [...document.querySelectorAll('#jobs-table tr[data-job-group]')]
    .find(r => r.getAttribute('data-job-group') === arguments[0]);
if (!row) return null;
const bar = row.querySelector('.progress');
return {id: row.getAttribute('data-job-id'), status: row.getAttribute('data-status'),
        completed: +bar.getAttribute('data-completed'), total: +bar.getAttribute('data-total'),
        failed: +bar.getAttribute('data-failed'), text: row.innerText, group: row.cells[2].textContent,
        markup: row.querySelectorAll('img, b').length};
"""


def click(page: Any, selector: str, what: str) -> None:
    def attempt() -> bool:
        elements = page.find_elements(By.CSS_SELECTOR, selector)
        if not elements:
            return False
        elements[0].click()
        return True
    wait_until(attempt, 20, what)


def test_the_jobs_page_follows_a_running_job_without_reloading(driver: UiDriver, browser: Browser) -> None:
    page = browser.get()
    app = app_id(page, driver.url)
    page.get(f"{driver.url}/#/app/{app}/jobs")
    wait_until(lambda: page.find_elements(By.ID, "jobs-table"), 20, "the jobs table")
    page.execute_script("window.__sameDocument = true;")  # gone if anything reloads the page

    driver.run("slow")
    seen: list[tuple[str, int, int]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = page.execute_script(JOB_ROW, "slow")
        if row:
            if not seen or seen[-1] != (row["status"], row["completed"], row["total"]):
                seen.append((row["status"], row["completed"], row["total"]))
            if row["status"] != "RUNNING" and driver.done("slow"):
                break
        time.sleep(0.1)
    result = driver.wait("slow")
    tasks = result["tasks"]
    assert result["result"] == list(range(tasks))

    assert page.execute_script("return window.__sameDocument === true;"), "the page was reloaded"
    assert page.current_url.endswith(f"#/app/{app}/jobs")
    running = [completed for status, completed, _ in seen if status == "RUNNING"]
    assert running, f"the page never showed the job running: {seen}"
    # Six tasks of 1.2 s on two slots finish two at a time: the page shows the count climbing while the job runs.
    assert len(set(running)) >= 2 and running == sorted(running), seen
    assert all(total in (0, tasks) for _, _, total in seen), seen  # 0 only before its stage starts
    assert seen[-1] == ("SUCCEEDED", tasks, tasks), seen


def test_a_job_links_to_its_stages_and_their_tasks(driver: UiDriver, browser: Browser) -> None:
    page = browser.get()
    app = app_id(page, driver.url)
    driver.run("shuffle")
    result = driver.wait("shuffle")
    assert result["counts"] == [["a", 60], ["b", 40], ["c", 20]]
    map_tasks, reduce_tasks = result["map_tasks"], result["reduce_tasks"]

    page.get(f"{driver.url}/#/app/{app}/jobs")
    job = wait_until(lambda: (page.execute_script(JOB_ROW, "shuffle") or {}).get("status") == "SUCCEEDED" and
                     page.execute_script(JOB_ROW, "shuffle"), 20, "the shuffle job, succeeded")
    assert (job["completed"], job["total"], job["failed"]) == (map_tasks + reduce_tasks,) * 2 + (0,)
    click(page, f'#jobs-table tr[data-job-id="{job["id"]}"] a.job-link', "the job's link")

    wait_until(lambda: page.current_url.endswith(f"#/app/{app}/job/{job['id']}"), 10, "the job's page")
    summary = wait_until(lambda: page.find_elements(By.ID, "job-summary"), 20, "the job's summary")[0]
    assert summary.get_attribute("data-status") == "SUCCEEDED"
    stage_rows = wait_until(lambda: page.find_elements(By.CSS_SELECTOR, "#job-stages tr[data-stage-id]"), 10,
                            "the job's stages")
    assert len(stage_rows) == 2 and all(r.get_attribute("data-status") == "COMPLETE" for r in stage_rows)
    # One rectangle per task of the job, on the workers that ran them.
    rects = page.find_elements(By.CSS_SELECTOR, "#timeline rect.task")
    assert len(rects) == map_tasks + reduce_tasks
    assert {r.get_attribute("data-status") for r in rects} == {"SUCCESS"}
    workers = {r.get_attribute("data-executor-id") for r in rects}
    assert 1 <= len(workers) <= 2 and all(w.isdigit() for w in workers), workers
    assert len(page.find_elements(By.CSS_SELECTOR, "#timeline .lane-label")) == len(workers)

    # The map side is the stage with the job's lower id; its page lists one row per task, partition by partition.
    first = min(stage_rows, key=lambda r: int(r.get_attribute("data-stage-id")))
    stage_id = first.get_attribute("data-stage-id")
    click(page, f'#job-stages tr[data-stage-id="{stage_id}"] a.stage-link', "the first stage's link")
    wait_until(lambda: page.current_url.endswith(f"#/app/{app}/stage/{stage_id}/0"), 10, "the stage's page")
    rows = wait_until(lambda: page.find_elements(By.CSS_SELECTOR, "#stage-tasks tr[data-task-id]"), 20,
                      "the stage's tasks")
    assert len(rows) == map_tasks
    assert sorted(int(r.get_attribute("data-index")) for r in rows) == list(range(map_tasks))
    assert {r.get_attribute("data-status") for r in rows} == {"SUCCESS"}
    assert {r.get_attribute("data-executor-id") for r in rows} <= workers
    assert len(page.find_elements(By.CSS_SELECTOR, "#timeline rect.task")) == map_tasks
    stage = page.find_element(By.ID, "stage-summary")
    assert stage.get_attribute("data-status") == "COMPLETE"
    assert f"{map_tasks}/{map_tasks}" in stage.text
    skew = page.find_element(By.ID, "task-skew")
    assert int(skew.get_attribute("data-count")) == map_tasks
    low, median, high = (float(skew.get_attribute(f"data-{k}")) for k in ("min", "median", "max"))
    assert 0 <= low <= median <= high


def test_a_failed_job_shows_the_python_traceback(driver: UiDriver, browser: Browser) -> None:
    page = browser.get()
    app = app_id(page, driver.url)
    driver.run("fail")
    result = driver.wait("fail")
    assert result["type"] == "ValueError" and "boom from the ui test" in result["message"]

    page.get(f"{driver.url}/#/app/{app}/jobs")
    job = wait_until(lambda: (page.execute_script(JOB_ROW, "fail") or {}).get("status") == "FAILED" and
                     page.execute_script(JOB_ROW, "fail"), 20, "the failing job, failed")
    assert job["failed"] >= 1
    assert "ValueError: boom from the ui test" in job["text"], "the jobs table sums the error up"
    click(page, f'#jobs-table tr[data-job-id="{job["id"]}"] a.job-link', "the failed job's link")
    error = wait_until(lambda: page.find_elements(By.ID, "job-error"), 20, "the job's error")[0]
    text = error.text
    assert "Traceback (most recent call last):" in text
    assert "ValueError: boom from the ui test" in text
    assert 'raise ValueError("boom from the ui test")' in text, "the traceback quotes the line that raised"
    assert page.find_element(By.ID, "job-summary").get_attribute("data-status") == "FAILED"
    failed_rects = page.find_elements(By.CSS_SELECTOR, '#timeline rect.task[data-status="FAILED"]')
    assert failed_rects and all(r.get_attribute("data-index") == "2" for r in failed_rects)


def test_the_storage_page_shows_a_cached_rdd(driver: UiDriver, browser: Browser) -> None:
    page = browser.get()
    app = app_id(page, driver.url)
    driver.run("cache")
    result = driver.wait("cache")
    assert result["count"] == 1000

    page.get(f"{driver.url}/#/app/{app}/storage")
    rows = wait_until(lambda: page.find_elements(By.CSS_SELECTOR, "#storage-table tr[data-rdd-id]"), 20,
                      "a cached RDD")
    assert len(rows) == 1
    row = rows[0]
    assert row.get_attribute("data-rdd-id") == str(result["id"])
    assert int(row.get_attribute("data-partitions")) == result["partitions"] == 5
    assert int(row.get_attribute("data-cached-partitions")) == result["partitions"]
    assert "5/5" in row.text and "100%" in row.text

    # The job's group, markup from the program, is shown as it is and never becomes part of the page.
    group = '<img src=x onerror="window.__injected = 1"><b>cache</b>'
    page.get(f"{driver.url}/#/app/{app}/jobs")
    job = wait_until(lambda: page.execute_script(JOB_ROW, group), 20, "the cache job")
    assert job["group"] == group and job["markup"] == 0
    assert page.execute_script("return window.__injected === undefined;")


def test_a_screenshot_of_a_job_page(driver: UiDriver, browser: Browser) -> None:
    page = browser.get()
    app = app_id(page, driver.url)
    if not driver.done("shuffle"):
        driver.run("shuffle")
        driver.wait("shuffle")
    page.get(f"{driver.url}/#/app/{app}/jobs")
    job = wait_until(lambda: page.execute_script(JOB_ROW, "shuffle"), 20, "the shuffle job")
    page.get(f"{driver.url}/#/app/{app}/job/{job['id']}")
    wait_until(lambda: page.find_elements(By.CSS_SELECTOR, "#timeline rect.task"), 20, "the job's timeline")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / "job.png"
    target.unlink(missing_ok=True)
    assert page.save_screenshot(str(target))
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, len(data)
