"""`python -m bench` (`make bench`): options, the generator, the work folder, the report."""

from __future__ import annotations

import argparse
import platform
import shutil
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench import environment
from bench.asyncload import AsyncioClient
from bench.data import DataPhases
from bench.load import LoadGenerator
from bench.phases import CURVE_SIZES, Bench, Clock, Options
from bench.report import render
from bench.results import BenchRun, write_results
from bench.scenarios import SCENARIOS
from bench.wrk import Wrk, find_wrk

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
EPILOG = f"""
scenarios (--only): {", ".join(f"{s.key} ({s.title})" for s in SCENARIOS)}.

Each scenario runs on the floor (bench/floor.py) and then on kana-server, both child processes on free
loopback ports, driven by the same generator: wrk when installed (`make bench` installs Debian's wrk when
apt-get is available), else a raw asyncio HTTP/1.1 client. The scaling curve imports exports of
{", ".join(f"{n:,}" for n in CURVE_SIZES)} usage events; the largest also gives the import timing and the
memory measurement. Results go to bench/results.json. See bench/README.md.
"""


def default_synchronous() -> str:
    """kana-server's default SQLite `synchronous` (the floor uses the same)."""
    from kana_server.settings import Settings

    return str(Settings.model_fields["sqlite_synchronous"].default)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure kana-server against a minimal Starlette + SQLite floor in the same run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--quick", action="store_true", help="short runs: 3 s after 1 s warm-up; curve 2 rounds of 1 s"
    )
    p.add_argument("--only", help="comma-separated scenarios to run (default: all)")
    p.add_argument("--skip-load", action="store_true", help="skip the scenarios (kana-server vs the floor)")
    p.add_argument("--skip-curve", action="store_true", help="skip the scaling curve")
    p.add_argument(
        "--skip-import",
        action="store_true",
        help="skip the import timing (the curve and memory still fill their databases by import)",
    )
    p.add_argument("--skip-memory", action="store_true", help="skip the memory measurement")
    p.add_argument("--duration", type=float, help="seconds per timed run (default 8; --quick 3)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up before each run (default 2; --quick 1)")
    p.add_argument("--curve-rounds", type=int, help="rounds of the scaling curve (default 3; --quick 2)")
    p.add_argument(
        "--curve-duration", type=float, help="seconds per curve run, per round (default 2; --quick 1)"
    )
    p.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    p.add_argument(
        "--timeout", type=float, default=10, help="a request slower than this fails (default 10 s)"
    )
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the other core serves)")
    p.add_argument("--generator", choices=["auto", "wrk", "asyncio"], default="auto", help="load generator")
    p.add_argument(
        "--max-events", type=int, default=CURVE_SIZES[-1], help="largest database, in usage events (1000000)"
    )
    p.add_argument(
        "--synchronous",
        choices=["OFF", "NORMAL", "FULL", "EXTRA"],
        help="SQLite synchronous for both servers (default: kana-server's default)",
    )
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results file (bench/results.json)")
    p.add_argument(
        "--keep", type=Path, help="keep databases and logs in this folder (default: a temporary one)"
    )
    p.add_argument("--check", action="store_true", help="exit with 1 when a measured goal is not met")
    return p


def options_from(args: argparse.Namespace, p: argparse.ArgumentParser) -> Options:
    """Options from parsed arguments (unknown scenarios are a usage error)."""
    known = [s.key for s in SCENARIOS]
    chosen = tuple(known)
    if args.only:
        chosen = tuple(x.strip().lower() for x in args.only.split(",") if x.strip())
        unknown = [x for x in chosen if x not in known]
        if unknown:
            p.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    if (
        args.connections < 1
        or args.max_events < 2
        or (args.curve_rounds is not None and args.curve_rounds < 1)
    ):
        p.error("--connections and --curve-rounds must be at least 1, --max-events at least 2")
    quick = args.quick
    return Options(
        scenarios=chosen,
        load=not args.skip_load and bool(chosen),
        curve=not args.skip_curve,
        import_timing=not args.skip_import,
        memory=not args.skip_memory,
        duration=args.duration if args.duration is not None else (3 if quick else 8),
        warmup=args.warmup if args.warmup is not None else (1 if quick else 2),
        curve_duration=args.curve_duration or (1 if quick else 2),
        curve_warmup=1,
        curve_rounds=args.curve_rounds or (2 if quick else 3),
        memory_duration=2 if quick else 3,
        connections=args.connections,
        timeout=args.timeout,
        max_events=args.max_events,
        synchronous=args.synchronous or default_synchronous(),
    )


def choose_generator(name: str, threads: int, console: Console) -> LoadGenerator:
    """wrk if installed (or asked for), else the asyncio client."""
    path = find_wrk()
    if name == "wrk" and path is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk); or use --generator asyncio")
    if name != "asyncio" and path is not None:
        return Wrk(path, threads)
    if name == "auto":
        console.print("[yellow]wrk is not installed: using the asyncio client (slower than wrk)[/yellow]")
    return AsyncioClient()


def estimate_seconds(options: Options) -> float:
    """A rough duration of the whole run, for the first progress line."""
    total = 10.0
    if options.load:
        total += len(options.scenarios) * 2 * (options.duration + options.warmup + 1)
    sizes = options.sizes()
    total += sum(n / 20_000 + 3 for n in sizes)  # export + import, ~50 s for 1 000 000 events
    if options.curve:
        total += len(sizes) * (4 * options.curve_duration * options.curve_rounds + options.curve_warmup + 2)
    if options.memory:
        total += options.memory_duration + 3
    return total


def interrupt(signum: int, _frame: object) -> None:
    """SIGTERM (a CI timeout, `kill`) stops the run like Ctrl-C: the servers are stopped by PID."""
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print the report, write results.json."""
    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a shell
        signal.signal(signal.SIGINT, signal.default_int_handler)
    p = parser()
    args = p.parse_args(argv)
    options = options_from(args, p)
    console = Console() if sys.stdout.isatty() else Console(width=150)  # logs keep the tables whole
    generator = choose_generator(args.generator, args.threads, console)
    started = datetime.now(UTC)
    run = BenchRun(
        started=started,
        settings={
            "connections": options.connections,
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "curve_duration_s": options.curve_duration,
            "curve_warmup_s": options.curve_warmup,
            "curve_rounds": options.curve_rounds,
            "memory_duration_s": options.memory_duration,
            "timeout_s": options.timeout,
            "sqlite_synchronous": options.synchronous,
            "scenarios": list(options.scenarios) if options.load else [],
            "sizes": options.sizes(),
            "quick": bool(args.quick),
            "workers": 1,
        },
        environment={
            "machine": environment.machine(),
            "python": platform.python_version(),
            "versions": environment.versions(),
            "git": environment.git_commit(ROOT),
            "generator": {"name": generator.name, "version": generator.version, "threads": args.threads},
        },
    )
    folder = args.keep or Path(tempfile.mkdtemp(prefix="kana-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    clock = Clock(console)
    clock.say(
        f"bench: {generator.version}, {options.connections} connections, work folder {folder}; "
        f"about {estimate_seconds(options) / 60:.0f} min"
    )
    load_average = run.environment["machine"]["load_average"]
    if load_average and load_average[0] >= 0.5:
        clock.say(
            f"[yellow]the machine is busy (load average {load_average[0]:.2f}): other processes share "
            "its cores, so the numbers will be noisier[/yellow]"
        )
    bench = Bench(options, generator, folder, clock, run)
    try:
        if options.load:
            bench.load_phase()
        if options.sizes():
            DataPhases(bench).run()
    except KeyboardInterrupt:
        run.failure = "interrupted"
        console.print("[red]interrupted: the servers were stopped; partial results follow[/red]")
    except Exception as error:
        run.failure = f"{type(error).__name__}: {error}"
        raise
    finally:
        run.finished = datetime.now(UTC)
        run.environment["machine"]["load_average_end"] = environment.machine()["load_average"]
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
        write_results(run, args.output)
    console.print()
    render(console, run)
    console.print(f"\nResults written to {args.output}", highlight=False)
    if run.failure or (args.check and not all(g.met for g in run.goals())):
        sys.exit(1)
