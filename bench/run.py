"""Benchmark lambdalint against its peers on a generated Lambda monorepo (issue 7).

    .venv/bin/python bench/run.py --sizes 100,1000 --rounds 3

Run it with lambdalint's own interpreter: it runs ``lambdalint`` from that environment and the
floor (bench/floor.py) with the same libcst. Peers come from their own venv (bench/.venv-peers,
see bench/README.md); tools that are missing are reported as "not installed" and skipped.

For every size it builds (or reuses) the corpus, then times whole processes, round-robin so
that background noise falls on every tool alike: wall time, CPU time (user+sys of the process
and all its children), peak memory (the largest sum of RSS over the process tree, sampled, and
never less than the largest single process) and files per second; medians over the rounds.
A tool whose rounds would exceed --budget seconds stops early; the table says how many rounds
each row had. Prints Markdown for the README (and --output/--json write it to files).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import Manifest, ensure_corpus  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
PEER_PACKAGES = ("fixit", "pythaw", "pylint", "bandit", "ruff", "cfn-lint", "checkov", "libcst")
GROUPS = {
    "python": "Python handlers",
    "cfn": "CloudFormation/SAM templates",
    "templates": "All templates (SAM, CloudFormation, Serverless, Terraform)",
}


# -- measuring one whole process ----------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_rss: int  # bytes: largest sum of RSS over the process tree
    max_rss: int  # bytes: largest single process (from wait4)
    returncode: int
    timed_out: bool = False
    stderr_tail: str = ""


def tree_pids(root: int) -> List[int]:
    """The process and its descendants, through /proc/PID/task/TID/children."""
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
    return pids


def tree_rss(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(command: Sequence[str], cwd: Path, timeout: float, env: Optional[dict] = None) -> Sample:
    """Run ``command`` once and measure it as a whole process tree."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )
        peak = [0]
        done = threading.Event()
        timed_out = [False]

        def watch() -> None:
            interval = 0.01
            while not done.wait(interval):
                peak[0] = max(peak[0], tree_rss(process.pid))
                interval = min(0.05, interval * 1.5)  # sample densely at first, then cheaply
                if time.perf_counter() - start > timeout:
                    timed_out[0] = True
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        watcher.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        # Stray grandchildren (a pool that outlived its parent) must not run into the next tool.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
        max_rss = usage.ru_maxrss * 1024  # kilobytes on Linux
        return Sample(
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            peak_rss=max(peak[0], max_rss),
            max_rss=max_rss,
            returncode=process.returncode,
            timed_out=timed_out[0],
            stderr_tail=tail,
        )


# -- the tools ----------------------------------------------------------------------------------


@dataclass
class Context:
    root: Path
    manifest: Manifest
    jobs: int
    lambdalint: List[str]
    peers_bin: Optional[Path]
    no_cache_flag: bool  # lambdalint has --no-cache (so a cache exists and warm runs mean something)
    lambdalint_templates: bool  # this lambdalint lints templates

    @property
    def src_dirs(self) -> List[str]:
        return sorted({str(Path(p).parent) for p in self.manifest.python})

    def peer(self, name: str) -> Optional[str]:
        if self.peers_bin and (self.peers_bin / name).exists():
            return str(self.peers_bin / name)
        return shutil.which(name)


@dataclass
class Tool:
    key: str
    label: str
    group: str
    files: Callable[[Context], int]
    command: Callable[[Context], Optional[List[str]]]  # None: not installed
    ok: Callable[[int], bool] = lambda code: code in (0, 1)
    unavailable: Callable[[Context], Optional[str]] = lambda ctx: None  # a reason, or None
    prepare: Callable[[Context], None] = lambda ctx: None  # before every timed round
    prime: Callable[[Context], None] = lambda ctx: None  # once, before the first round
    reference: bool = False  # the lambdalint row the group's ratios are relative to
    note: str = ""


def python_files(ctx: Context) -> int:
    return len(ctx.manifest.python)


def cfn_files(ctx: Context) -> int:
    return len(ctx.manifest.cloudformation)


def all_templates(ctx: Context) -> int:
    return len(ctx.manifest.templates)


def clear_lambdalint_cache(ctx: Context) -> None:
    shutil.rmtree(ctx.root / ".lambdalint_cache", ignore_errors=True)


def lambdalint_cold(paths: Callable[[Context], List[str]], *options: str) -> Callable[[Context], List[str]]:
    def build(ctx: Context) -> List[str]:
        return ctx.lambdalint + ["check", *options] + (["--no-cache"] if ctx.no_cache_flag else []) + paths(ctx)
    return build


#: the template rules alone (and LL001): what cfn-lint and checkov do; the default run also
#: lints the handlers the templates name (the code rules read the template and code together)
TEMPLATE_RULES_ONLY = ("--select", "LL001,LL5,LL6")


def lambdalint_warm(paths: Callable[[Context], List[str]]) -> Callable[[Context], List[str]]:
    def build(ctx: Context) -> List[str]:
        return ctx.lambdalint + ["check"] + paths(ctx)
    return build


def prime_cache(paths: Callable[[Context], List[str]]) -> Callable[[Context], None]:
    """One untimed run that fills the cache; the timed runs then change nothing. The cache is
    cleared only when a size starts, so the Python and template warm rows do not undo each other."""
    def prime(ctx: Context) -> None:
        subprocess.run(ctx.lambdalint + ["check"] + paths(ctx), cwd=ctx.root,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return prime


def cold_prepare(ctx: Context) -> None:
    """With --no-cache a cold run ignores the cache (and the warm rows keep theirs); without
    the flag this lambdalint has no cache to clear, but clear it anyway to be sure."""
    if not ctx.no_cache_flag:
        clear_lambdalint_cache(ctx)


def no_warm(ctx: Context) -> Optional[str]:
    return None if ctx.no_cache_flag else "n/a: this lambdalint has no cache (--no-cache)"


def no_templates(ctx: Context) -> Optional[str]:
    return None if ctx.lambdalint_templates else "n/a: this lambdalint does not lint templates yet"


def no_templates_or_warm(ctx: Context) -> Optional[str]:
    return no_templates(ctx) or no_warm(ctx)


def floor(level: str, paths: Callable[[Context], List[str]]) -> Callable[[Context], List[str]]:
    def build(ctx: Context) -> List[str]:
        return [sys.executable, str(HERE / "floor.py"), "--level", level, "-j", str(ctx.jobs)] + paths(ctx)
    return build


def peer(name: str, *args: str, paths: Callable[[Context], List[str]], after: Sequence[str] = ()):
    def build(ctx: Context) -> Optional[List[str]]:
        executable = ctx.peer(name)
        if executable is None:
            return None
        expanded = [arg.replace("{jobs}", str(ctx.jobs)) for arg in args]
        return [executable, *expanded, *paths(ctx), *after]
    return build


def src_dirs(ctx: Context) -> List[str]:
    return ctx.src_dirs


def services(ctx: Context) -> List[str]:
    return ["services"]


def cfn_paths(ctx: Context) -> List[str]:
    return list(ctx.manifest.cloudformation)


def template_paths(ctx: Context) -> List[str]:
    return list(ctx.manifest.templates)


def pylint_ok(code: int) -> bool:
    return code & (1 | 32) == 0  # fatal message or usage error


def cfn_lint_ok(code: int) -> bool:
    return code in (0, 2, 4, 6, 8, 10, 12, 14)  # bit flags: errors, warnings, informational


def checkov_ok(code: int) -> bool:
    return code in (0, 1)


TOOLS: Tuple[Tool, ...] = (
    # Python handlers
    Tool("lambdalint", "**lambdalint (cold)**", "python", python_files,
         lambdalint_cold(src_dirs), prepare=cold_prepare, reference=True),
    Tool("lambdalint-warm", "lambdalint (warm, nothing changed)", "python", python_files,
         lambdalint_warm(src_dirs), unavailable=no_warm, prime=prime_cache(src_dirs)),
    Tool("floor-parse", "floor: libcst parse", "python", python_files, floor("parse", src_dirs)),
    Tool("floor", "floor: parse + traversal + positions", "python", python_files,
         floor("positions", src_dirs)),
    Tool("floor-names", "floor: … + scopes + qualified names", "python", python_files,
         floor("names", src_dirs)),
    Tool("floor-resolver", "floor: parse + traversal + lambdalint's own metadata", "python", python_files,
         floor("resolver", src_dirs)),
    Tool("fixit", "Fixit (default rules)", "python", python_files, peer("fixit", "lint", paths=src_dirs)),
    Tool("pythaw", "pythaw", "python", python_files, peer("pythaw", "check", paths=services),
         note="given `services/` (it takes one path); it reads only the .py files there"),
    Tool("pylint", "pylint", "python", python_files,
         peer("pylint", "--recursive=y", "--jobs={jobs}", paths=src_dirs), ok=pylint_ok,
         note="`--jobs` = cores"),
    Tool("bandit", "bandit", "python", python_files, peer("bandit", "-r", paths=src_dirs)),
    Tool("ruff", "ruff (far bound)", "python", python_files,
         peer("ruff", "check", "--no-cache", paths=src_dirs)),
    # CloudFormation / SAM
    Tool("lambdalint-cfn", "**lambdalint (cold)**", "cfn", cfn_files, lambdalint_cold(cfn_paths),
         unavailable=no_templates, prepare=cold_prepare, reference=True),
    Tool("lambdalint-cfn-only", "lambdalint, template rules only (`--select LL001,LL5,LL6`)", "cfn", cfn_files,
         lambdalint_cold(cfn_paths, *TEMPLATE_RULES_ONLY), unavailable=no_templates, prepare=cold_prepare),
    Tool("floor-yaml-cfn", "floor: C YAML compose (line marks)", "cfn", cfn_files, floor("yaml", cfn_paths)),
    Tool("cfn-lint", "cfn-lint", "cfn", cfn_files, peer("cfn-lint", paths=cfn_paths), ok=cfn_lint_ok),
    Tool("checkov-cfn", "checkov (cloudformation)", "cfn", cfn_files,
         peer("checkov", "--framework", "cloudformation", "--quiet", "--compact", "--skip-download",
              "-f", paths=cfn_paths), ok=checkov_ok),
    # every template kind
    Tool("lambdalint-templates", "**lambdalint (cold)**", "templates", all_templates,
         lambdalint_cold(template_paths), unavailable=no_templates, prepare=cold_prepare,
         reference=True),
    Tool("lambdalint-templates-only", "lambdalint, template rules only (`--select LL001,LL5,LL6`)", "templates",
         all_templates, lambdalint_cold(template_paths, *TEMPLATE_RULES_ONLY), unavailable=no_templates,
         prepare=cold_prepare),
    Tool("lambdalint-templates-warm", "lambdalint (warm, nothing changed)", "templates",
         all_templates, lambdalint_warm(template_paths), unavailable=no_templates_or_warm,
         prime=prime_cache(template_paths)),
    Tool("checkov", "checkov (cloudformation, serverless, terraform)", "templates", all_templates,
         peer("checkov", "--framework", "cloudformation", "serverless", "terraform", "--quiet",
              "--compact", "--skip-download", "-f", paths=template_paths), ok=checkov_ok),
)


# -- detecting what this lambdalint can do ------------------------------------------------------


def lambdalint_command() -> List[str]:
    script = Path(sys.executable).parent / "lambdalint"
    if script.exists():
        return [str(script)]
    found = shutil.which("lambdalint")
    return [found] if found else [sys.executable, "-m", "lambdalint"]


def has_no_cache_flag(lambdalint: List[str]) -> bool:
    result = subprocess.run(lambdalint + ["check", "--help"], capture_output=True, text=True)
    return "--no-cache" in result.stdout


def files_checked(lambdalint: List[str], root: Path, paths: List[str], no_cache: bool) -> int:
    """How many of ``paths`` this lambdalint says it checked (its JSON summary)."""
    command = lambdalint + ["check", "--format", "json", "--exit-zero"]
    command += (["--no-cache"] if no_cache else []) + paths
    result = subprocess.run(command, cwd=root, capture_output=True, text=True)
    try:
        return int(json.loads(result.stdout)["summary"]["files_checked"])
    except (ValueError, KeyError, TypeError):
        return -1


# -- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def versions(lambdalint: List[str], peers_bin: Optional[Path]) -> Dict[str, str]:
    found: Dict[str, str] = {}
    result = subprocess.run(lambdalint + ["--version"], capture_output=True, text=True)
    found["lambdalint"] = (result.stdout.strip().split() or ["?"])[-1]
    from importlib import metadata

    found["libcst (lambdalint's)"] = metadata.version("libcst")
    try:
        import yaml

        found["PyYAML (lambdalint's)"] = f"{yaml.__version__} (C loader: {hasattr(yaml, 'CSafeLoader')})"
    except ImportError:
        pass
    python = peers_bin / "python" if peers_bin else None
    if python is None:
        found["peers"] = "from PATH (versions not recorded)"
    if python and python.exists():
        script = (
            "import json, importlib.metadata as m, sys\n"
            "out = {}\n"
            f"for name in {PEER_PACKAGES!r}:\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: out[name] = 'not installed'\n"
            "out['python'] = sys.version.split()[0]\n"
            "print(json.dumps(out))\n"
        )
        result = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
        try:
            for name, version in json.loads(result.stdout).items():
                found[f"{name} (peers venv)" if name in ("libcst", "python") else name] = version
        except ValueError:
            pass
    return found


def machine(lambdalint: List[str], peers_bin: Optional[Path]) -> Dict[str, object]:
    return {
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "memory": memory_total(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions(lambdalint, peers_bin),
    }


# -- running --------------------------------------------------------------------------------------


@dataclass
class Row:
    tool: Tool
    files: int
    samples: List[Sample] = field(default_factory=list)
    status: str = ""  # empty when measured; otherwise why not
    spent: float = 0.0
    command: List[str] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(sample, attribute) for sample in self.samples)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def short(command: Sequence[str], root: Path) -> str:
    """A command as a user would type it (tool name, flags, at most a few paths)."""
    parts = [Path(command[0]).name] + list(command[1:])
    if parts[0].startswith("python"):
        parts = ["python"] + [Path(p).name if p.endswith(".py") else p for p in parts[1:]]
    flags = [p for p in parts if not (p.startswith("services/") or p == "services")]
    paths = [p for p in parts if p not in flags]
    shown = " ".join(flags)
    if paths:
        shown += f" {paths[0]}" + (f" … ({len(paths)} paths)" if len(paths) > 1 else "")
    return shown


def run_size(size: int, args, tools: Sequence[Tool], lambdalint: List[str],
             peers_bin: Optional[Path]) -> Tuple[Context, List[Row]]:
    started = time.perf_counter()
    root, manifest = ensure_corpus(args.corpus_dir, size, args.seed)
    progress(f"\n== size {size}: corpus {root} ({time.perf_counter() - started:.1f}s)")
    no_cache = has_no_cache_flag(lambdalint)
    checked_templates = files_checked(lambdalint, root, manifest.cloudformation[:3], no_cache)
    ctx = Context(root, manifest, args.jobs, lambdalint, peers_bin, no_cache, checked_templates > 0)
    # A cheap sanity check on a few services: lambdalint sees every handler it is given.
    probe = ctx.src_dirs[:3]
    expected = sum(1 for p in manifest.python if str(Path(p).parent) in probe)
    checked = files_checked(lambdalint, root, probe, no_cache)
    if checked != expected:
        progress(f"warning: lambdalint reports {checked} Python files checked, expected {expected}")
    rows: List[Row] = []
    for tool in tools:
        row = Row(tool, tool.files(ctx))
        reason = tool.unavailable(ctx)
        command = None if reason else tool.command(ctx)
        if reason:
            row.status = reason
        elif command is None:
            row.status = "not installed"
        elif row.files == 0:
            row.status = "no such files in this corpus"
        else:
            row.command = command
        rows.append(row)
    active = [row for row in rows if not row.status]
    clear_lambdalint_cache(ctx)
    for row in active:
        row.tool.prime(ctx)
    for round_index in range(args.rounds):
        for row in active:
            if row.status or len(row.samples) > round_index:
                continue
            if row.samples and row.spent + statistics.median(s.wall for s in row.samples) > args.budget:
                continue  # over its time budget: keep the rounds it has
            row.tool.prepare(ctx)
            sample = measure(row.command, root, args.timeout)
            row.spent += sample.wall
            label = f"{row.tool.key:<26} round {round_index + 1}"
            if sample.timed_out:
                row.status = f"timed out (> {args.timeout:.0f} s)"
                progress(f"{label}: timed out")
            elif not row.tool.ok(sample.returncode):
                row.status = f"failed (exit {sample.returncode})"
                progress(f"{label}: exit {sample.returncode}\n{sample.stderr_tail}")
            else:
                row.samples.append(sample)
                progress(f"{label}: {sample.wall:7.2f}s wall {sample.cpu:7.2f}s cpu "
                         f"{sample.peak_rss / 2**20:6.0f} MB")
    clear_lambdalint_cache(ctx)
    progress(f"== size {size} took {time.perf_counter() - started:.0f}s")
    return ctx, rows


def rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def ratio(value: float, reference: Optional[float]) -> str:
    if not reference:
        return "—"
    return f"{value / reference:.2f}×"


def table(ctx: Context, rows: Sequence[Row], rounds: int) -> str:
    out = [f"#### {len(ctx.manifest.python):,} handler files "
           f"({len(ctx.manifest.cloudformation)} CloudFormation/SAM, {len(ctx.manifest.serverless)} "
           f"Serverless, {len(ctx.manifest.terraform)} Terraform templates)", ""]
    for group, title in GROUPS.items():
        grouped = [row for row in rows if row.tool.group == group]
        if not grouped:
            continue
        reference = next((row for row in grouped if row.tool.reference and row.samples), None)
        ref_wall = reference.median("wall") if reference else None
        ref_cpu = reference.median("cpu") if reference else None
        out += [f"**{title}** ({grouped[0].files:,} files)", "",
                "| tool | wall s | CPU s | peak memory MB | files/s | wall ÷ lambdalint "
                "| CPU ÷ lambdalint | rounds |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for row in grouped:
            if not row.samples:
                out.append(f"| {row.tool.label} | {row.status or 'n/a'} | | | | | | |")
                continue
            wall, cpu = row.median("wall"), row.median("cpu")
            peak = row.median("peak_rss") / 2**20
            note = f" ({row.status})" if row.status else ""
            out.append(
                f"| {row.tool.label}{note} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | "
                f"{rate(row.files / wall)} | {ratio(wall, ref_wall)} | {ratio(cpu, ref_cpu)} | "
                f"{len(row.samples)}/{rounds} |"
            )
        out.append("")
    return "\n".join(out)


def targets(ctx: Context, rows: Sequence[Row]) -> str:
    """The issue's targets, where both sides were measured."""
    by_key = {row.tool.key: row for row in rows if row.samples}

    def wall(key: str) -> Optional[float]:
        return by_key[key].median("wall") if key in by_key else None

    lines = []
    checks = (
        ("lambdalint", "fixit", "faster than Fixit", 3.0, True),
        ("lambdalint", "pylint", "faster than pylint", 5.0, True),
        ("lambdalint", "floor", "× the floor (parse + traversal + positions)", 1.5, False),
        ("lambdalint-cfn", "cfn-lint", "faster than cfn-lint", 10.0, True),
        ("lambdalint-cfn", "checkov-cfn", "faster than checkov (CloudFormation/SAM)", 10.0, True),
        ("lambdalint-templates", "checkov", "faster than checkov (all templates)", 10.0, True),
        ("lambdalint-warm", "lambdalint", "warm rerun faster than cold", 20.0, True),
    )
    for ours, theirs, what, goal, faster in checks:
        a, b = wall(ours), wall(theirs)
        if a is None or b is None:
            missing = ours if a is None else theirs
            lines.append(f"- {what}: not measured ({missing} has no result)")
            continue
        if faster:
            value = b / a
            verdict = "met" if value >= goal else "not met"
            lines.append(f"- {what}: {value:.2f}× (target ≥ {goal:g}×) — {verdict}")
        else:
            value = a / b
            verdict = "met" if value <= goal else "not met"
            lines.append(f"- lambdalint is {value:.2f}{what} (target ≤ {goal:g}×) — {verdict}")
    if "lambdalint" in by_key and len(ctx.manifest.python) >= 10000:
        peak = by_key["lambdalint"].median("peak_rss") / 2**30
        verdict = "met" if peak < 1 else "not met"
        lines.append(f"- peak memory on {len(ctx.manifest.python):,} files: {peak:.2f} GB "
                     f"(target < 1 GB) — {verdict}")
    return "\n".join(lines)


def commands(ctx: Context, rows: Sequence[Row]) -> str:
    seen = []
    for row in rows:
        if row.command:
            seen.append(f"- {row.tool.key}: `{short(row.command, ctx.root)}`"
                        + (f" — {row.tool.note}" if row.tool.note else ""))
    return "\n".join(seen)


def parse_args(argv: Sequence[str]):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000",
                        help="comma-separated handler counts (default: 100,1000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per tool (default: 3)")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds a tool may spend per size before it stops after fewer "
                             "rounds (default: 120; it always gets one round)")
    parser.add_argument("--tools", default="all",
                        help="comma-separated tool keys (default: all): "
                             + ", ".join(tool.key for tool in TOOLS))
    parser.add_argument("--corpus-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "lambdalint-bench",
                        help="where corpora are built and cached (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before one command is killed (default: 900)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="cores for the floor's pool and for peers with a jobs option "
                             "(default: all cores)")
    parser.add_argument("--peers", type=Path, default=HERE / ".venv-peers",
                        help="the venv the peer tools are installed in (default: bench/.venv-peers)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default: 0)")
    parser.add_argument("--output", type=Path, help="also write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write every sample as JSON here")
    args = parser.parse_args(argv)
    args.sizes = [int(size.replace("_", "").replace(",", "")) for size in args.sizes.split(",") if size]
    known = {tool.key for tool in TOOLS}
    if args.tools != "all":
        wanted = [key.strip() for key in args.tools.split(",") if key.strip()]
        unknown = [key for key in wanted if key not in known]
        if unknown:
            parser.error(f"unknown tools: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        args.tools = wanted
    else:
        args.tools = [tool.key for tool in TOOLS]
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    tools = [tool for tool in TOOLS if tool.key in args.tools]
    lambdalint = lambdalint_command()
    peers_bin = args.peers / "bin" if (args.peers / "bin").is_dir() else None
    if peers_bin is None:
        progress(f"note: no peers venv at {args.peers}; looking for peers on PATH")
    info = machine(lambdalint, peers_bin)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = os.getloadavg()
    sections, raw = [], []
    for size in args.sizes:
        ctx, rows = run_size(size, args, tools, lambdalint, peers_bin)
        sections.append(table(ctx, rows, args.rounds))
        sections.append("Targets (issue 7):\n\n" + targets(ctx, rows) + "\n")
        raw.append({
            "size": size,
            "corpus": str(ctx.root),
            "digest": ctx.manifest.digest,
            "rows": [{
                "tool": row.tool.key, "files": row.files, "status": row.status,
                "command": row.command[:8] + (["…"] if len(row.command) > 8 else []),
                "samples": [sample.__dict__ | {"stderr_tail": ""} for sample in row.samples],
            } for row in rows],
        })
        last_ctx, last_rows = ctx, rows
    load_after = os.getloadavg()
    versions_line = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    header = [
        f"Command: `python bench/run.py {' '.join(argv)}`".replace("`python bench/run.py `",
                                                                    "`python bench/run.py`"),
        "",
        f"Machine: {info['cores']} cores, {info['cpu']}, {info['memory']} RAM, {info['os']}, "
        f"Python {info['python']}; run {started}; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after.",
        "",
        f"Versions: {versions_line}.",
        "",
        f"Medians of up to {args.rounds} rounds (a tool that would exceed {args.budget:.0f} s per size "
        "stops after fewer; see *rounds*). Wall and CPU are whole processes (CPU = user + sys of the "
        "process and its children); peak memory is the largest sum of RSS over the process tree.",
        "",
    ]
    report = "\n".join(header + sections + ["Commands (run in the corpus folder):", "",
                                             commands(last_ctx, last_rows), ""])
    print(report)
    if args.output:
        args.output.write_text(report)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "argv": list(argv), "sizes": raw}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
