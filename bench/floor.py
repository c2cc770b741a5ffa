"""The floor that lambdalint is measured against: the libcst (or YAML) work alone, for every
file, in lambdalint's process layout (a process pool, files sent in chunks), as a whole process.

    python bench/floor.py --level positions [-j N] PATH...

Levels (each includes the ones before it, except yaml):
  parse       libcst.parse_module
  positions   + MetadataWrapper + PositionProvider + one batched traversal  (the floor)
  names       + ScopeProvider + QualifiedNameProvider  (libcst's name resolution)
  resolver    parse + traversal + lambdalint's own metadata, which replaces libcst's providers:
              positions (lambdalint.python.positions), name resolution and parent map
              (lambdalint.python.names)
  yaml        compose every .yaml/.yml/.json file with the C YAML loader (nodes keep line marks)

Run it with lambdalint's own interpreter so that it uses the same libcst. Prints how many files
it handled and how many nodes it visited, so a run that did nothing cannot pass for a fast one.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, List, Sequence

PYTHON_LEVELS = ("parse", "positions", "names", "resolver")
YAML_SUFFIXES = (".yaml", ".yml", ".json")

_level = "positions"


def discover(paths: Sequence[str], suffixes: Sequence[str]) -> List[str]:
    found: List[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(str(path))
            continue
        for folder, folders, files in os.walk(path):
            folders.sort()
            found += [os.path.join(folder, name) for name in sorted(files) if name.endswith(tuple(suffixes))]
    return found


def _init(level: str) -> None:
    global _level
    _level = level


def _python_file(path: str) -> int:
    import libcst as cst
    from libcst.metadata import (
        MetadataWrapper,
        PositionProvider,
        QualifiedNameProvider,
        ScopeProvider,
    )

    with open(path, "rb") as handle:
        module = cst.parse_module(handle.read())
    if _level == "parse":
        return 1
    providers = set() if _level == "resolver" else {PositionProvider}
    if _level == "names":
        providers |= {ScopeProvider, QualifiedNameProvider}
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    metadata = wrapper.resolve_many(providers)
    if _level == "resolver":
        from lambdalint.python.names import ModuleNames, parent_map
        from lambdalint.python.positions import Positions

        Positions(wrapper.module)
        ModuleNames(wrapper.module)
        parent_map(wrapper.module)
    counter = _new_counter()
    counter.metadata = metadata
    cst.visit_batched(wrapper.module, [counter])
    return counter.nodes


def _yaml_file(path: str) -> int:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as handle:
        node = yaml.compose(handle, Loader=loader)
    return _count_yaml(node)


def _count_yaml(node) -> int:
    if node is None:
        return 0
    stack, count = [node], 0
    while stack:
        current = stack.pop()
        count += 1
        value = current.value
        if isinstance(value, list):
            for item in value:
                stack.extend(item if isinstance(item, tuple) else (item,))
    return count


_counter_class = None


def _new_counter():
    """A visitor that does what a cheap rule does (looks at calls and names); the class is
    built on first use so that the yaml level never imports libcst."""
    global _counter_class
    if _counter_class is None:
        import libcst as cst

        class Counter(cst.BatchableCSTVisitor):
            def __init__(self) -> None:
                super().__init__()
                self.nodes = 0

            def visit_Call(self, node: cst.Call) -> None:
                self.nodes += 1

            def visit_Name(self, node: cst.Name) -> None:
                self.nodes += 1

        _counter_class = Counter
    return _counter_class()


def run(level: str, files: List[str], jobs: int) -> Iterable[int]:
    work = _yaml_file if level == "yaml" else _python_file
    if jobs <= 1 or len(files) < 16:
        _init(level)
        return [work(path) for path in files]
    # The same pool shape as lambdalint's engine: set up once per worker, chunks of files.
    chunksize = max(1, min(64, len(files) // (jobs * 8)))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(level,)) as pool:
        return list(pool.map(work, files, chunksize=chunksize))


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", choices=PYTHON_LEVELS + ("yaml",), default="positions")
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    files = discover(args.paths, YAML_SUFFIXES if args.level == "yaml" else (".py",))
    counts = run(args.level, files, args.jobs)
    print(f"{args.level}: {len(files)} files, {sum(counts)} nodes")
    return 0 if files else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
