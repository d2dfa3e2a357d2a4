"""The console scripts: ``ember-submit`` (spark-submit's counterpart) and ``ember-shell`` (pyspark's).

    ember-submit [options] script.py [script arguments]
    ember-shell [options] [-c COMMAND]

Both take spark-submit's options for a Python application: ``--master``, ``--name``, ``--py-files``, ``--files``,
``--archives``, ``--conf k=v`` (repeatable), ``--properties-file`` (in place of the distribution's
``conf/spark-defaults.conf``) and ``--driver-java-options``. As with spark-submit, what the program sets itself wins:
``SparkContext("local[2]", "app")`` in the script overrides ``--master`` and ``--name``, and both override the
properties file. ``ember-submit`` runs the script in this interpreter, as ``python script.py`` would (its directory
first on ``sys.path``, ``sys.argv`` its own), and exits with its exit code.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
from typing import Any, Callable, Optional, Sequence

from ember import conf as conf_module


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--master", help="the master URL: local[*] (default), local[N], ember://HOST:PORT, "
                                         "ember-cluster://HOST:PORT")
    parser.add_argument("--name", help="the application's name (spark.app.name)")
    parser.add_argument("--py-files", metavar="FILES",
                        help="comma-separated .py, .zip or .egg files for the program's and the workers' sys.path")
    parser.add_argument("--files", metavar="FILES",
                        help="comma-separated files copied for every task (SparkFiles.get(name) finds them)")
    parser.add_argument("--archives", metavar="ARCHIVES",
                        help="comma-separated archives unpacked for every task")
    parser.add_argument("--conf", dest="conf", action="append", default=[],
                        metavar="KEY=VALUE", help="a setting (repeatable), e.g. --conf spark.task.maxFailures=2")
    parser.add_argument("--properties-file", metavar="FILE",
                        help="settings to start from, in place of the distribution's conf/spark-defaults.conf")
    parser.add_argument("--driver-java-options", metavar="OPTIONS",
                        help="options for the JVM a local master starts (spark.driver.extraJavaOptions)")
    parser.add_argument("--version", action="version", version=_version_text())


_VALUED_OPTIONS = {"--master", "--name", "--py-files", "--files", "--archives", "--conf", "--properties-file",
                   "--driver-java-options"}


def _attach_values(argv: Sequence[str]) -> list[str]:
    """``--opt VALUE`` as ``--opt=VALUE`` for the options that take one, up to the script: a value that starts with a
    dash (``--driver-java-options -Xmx2g``) is then the option's, as spark-submit reads it, not another option."""
    result: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg in _VALUED_OPTIONS and rest:
            result.append(f"{arg}={rest.pop(0)}")
        elif arg.startswith("-"):
            result.append(arg)
        else:  # The script (or -c's command): what follows is the program's own.
            result.append(arg)
            result.extend(rest)
            break
    return result


def _version_text() -> str:
    import ember
    return f"Ember {ember.__version__} (the RDD API of PySpark {ember.PYSPARK_API_VERSION})"


def _settings(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """The settings the options give, as spark.* keys."""
    settings: dict[str, str] = {}
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            parser.error(f"--conf expects KEY=VALUE, got {item!r}")
        key = key.strip()
        if not key.startswith("spark."):
            # As spark-submit: a setting that is not Spark's is ignored, with a word about it.
            print(f"Warning: Ignoring non-Spark config property: {key}", file=sys.stderr)
            continue
        settings[key] = value
    named = {"master": "spark.master", "name": "spark.app.name", "py_files": "spark.submit.pyFiles",
             "files": "spark.files", "archives": "spark.archives",
             "driver_java_options": "spark.driver.extraJavaOptions"}
    for option, key in named.items():
        value = getattr(args, option)
        if value is not None:
            settings[key] = value
    return settings


def _apply(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Makes every SparkConf() of the program start from the properties file and the options."""
    if args.properties_file is not None and not os.path.isfile(args.properties_file):
        parser.error(f"--properties-file {args.properties_file}: no such file")
    conf_module.use_submit_settings(args.properties_file, _settings(parser, args))
    # As spark-submit puts --py-files on the driver's PYTHONPATH: the program may import them before its context.
    for path in reversed([p for p in (args.py_files or "").split(",") if p]):
        sys.path.insert(0, os.path.abspath(path))


def submit(argv: Optional[Sequence[str]] = None) -> int:
    """``ember-submit``: runs a Python program with the given settings; returns its exit code."""
    parser = argparse.ArgumentParser(
        prog="ember-submit", description="Runs a PySpark-style Python program on Ember (spark-submit's options).")
    _options(parser)
    parser.add_argument("script", help="the Python program to run")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the program's own arguments")
    args = parser.parse_args(_attach_values(sys.argv[1:] if argv is None else argv))
    if not os.path.isfile(args.script):
        parser.error(f"{args.script}: no such file")
    _apply(parser, args)
    script = os.path.abspath(args.script)
    sys.argv = [args.script, *args.arguments]
    sys.path.insert(0, os.path.dirname(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        return _exit_code(e.code)
    except KeyboardInterrupt:
        return 130
    except BaseException:  # noqa: BLE001 - the program's own failure, reported as python would
        traceback.print_exc()
        return 1
    return 0


def _exit_code(code: Any) -> int:
    """SystemExit's code as python would make it the process's: None is 0, an int itself, else a message and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


BANNER = """\
Welcome to Ember {version}: PySpark's RDD API ({api}) on a small JVM runtime.
Using Python {python}; master {master}, app {app}.
SparkContext available as 'sc', SparkSession as 'spark'.{extra}"""


def shell(argv: Optional[Sequence[str]] = None) -> int:
    """``ember-shell``: a Python REPL with ``sc`` and ``spark`` ready (IPython's when it is installed), or, with
    ``-c``, runs one command in that namespace and exits."""
    parser = argparse.ArgumentParser(
        prog="ember-shell", description="A Python shell with an Ember SparkContext ready as 'sc'.")
    _options(parser)
    parser.add_argument("-c", dest="command", metavar="COMMAND", help="run COMMAND with sc ready, then exit")
    args = parser.parse_args(_attach_values(sys.argv[1:] if argv is None else argv))
    _apply(parser, args)
    import ember
    from ember import SparkConf, SparkContext
    from ember.sql import SparkSession

    sc = SparkContext(conf=SparkConf().setIfMissing("spark.app.name", "ember-shell"))
    namespace: dict[str, Any] = {"sc": sc, "spark": SparkSession.builder.getOrCreate(), "SparkContext": SparkContext,
                                 "SparkConf": SparkConf, "__name__": "__main__"}
    try:
        if args.command is not None:
            try:
                exec(compile(args.command, "<command>", "exec"), namespace)
            except SystemExit as e:
                return _exit_code(e.code)
            except BaseException:  # noqa: BLE001 - the command's failure, reported as python -c would
                traceback.print_exc()
                return 1
            return 0
        url = getattr(sc, "uiWebUrl", None)
        banner = BANNER.format(version=ember.__version__, api=f"PySpark {ember.PYSPARK_API_VERSION}",
                               python=sys.version.split()[0], master=sc.master, app=sc.appName,
                               extra=f"\nWeb UI at {url}" if url else "")
        return _interact(namespace, banner)
    finally:
        sc.stop()


def _interact(namespace: dict[str, Any], banner: str) -> int:
    start_ipython: Optional[Callable[..., Any]]
    try:
        from IPython import start_ipython  # type: ignore[import-not-found]
    except ImportError:
        start_ipython = None
    if start_ipython is not None:
        print(banner)
        start_ipython(argv=[], user_ns=namespace, display_banner=False)
        return 0
    import code
    try:
        import readline
        import rlcompleter
        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    except ImportError:
        pass
    try:
        code.interact(banner=banner, local=namespace, exitmsg="")
    except SystemExit as e:
        return _exit_code(e.code)
    return 0


def submit_main() -> None:
    sys.exit(submit())


def shell_main() -> None:
    sys.exit(shell())
