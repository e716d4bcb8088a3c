"""The promises about layers and generated files that keep duban easy to change.

The import rules live where a reader looks for them: each room's ``__init__`` docstring has a
sentence "May import ``a``, ``b`` and ``c``" naming the only first-party packages (and
``prefect``) its modules may import; a module may always import its own room. The tests here
read those sentences, check that they keep the layer order (calendars < schemas < tasks < render
< flows < duban, with ``duban.errors`` open to all), and scan every module's imports, function-
level ones included, against them.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from schemas.plan_schema import SCHEMA_PATH, plan_json_schema

from .conftest import ROOT

LAYERS = ("calendars", "schemas", "tasks", "render", "flows", "duban")
OPEN_TO_ALL = "duban.errors"
PREFECT = "prefect"
WATCHED = (*LAYERS, PREFECT)  # the imports the rules are about; other libraries are free
ALLOWANCE = re.compile(r"May import\s(.*?)(?:;|\.\s|\.$)", re.DOTALL)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    """Every first-party module, by dotted name."""
    return {module_name(p): p for layer in LAYERS for p in sorted((ROOT / layer).rglob("*.py"))}


@cache
def rooms() -> dict[str, frozenset[str]]:
    """Each package whose docstring says what it may import, with what it says."""
    found = {}
    for name, path in modules().items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        said = ALLOWANCE.search(doc)
        if said:
            found[name] = frozenset(re.findall(r"``([\w.]+)``", said.group(1)))
    return found


def room_of(module: str) -> str:
    return max((r for r in rooms() if within(module, r)), key=len)


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def imports(module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `module`, at any depth, relative ones
    resolved, and ``from package import submodule`` read as the submodule."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in modules() else base))
    return sorted({(line, name) for line, name in found if name.split(".")[0] in WATCHED})


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def test_every_package_is_a_layer_and_every_layer_says_what_it_may_import():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYERS), "a new top-level package needs its place in LAYERS"
    assert set(LAYERS) <= set(rooms()), "every layer's __init__ docstring says 'May import …'"


def above(name: str, room: str) -> bool:
    """Whether `room` importing `name` would break the layer order."""
    if name == OPEN_TO_ALL:
        return False
    if name.split(".")[0] == PREFECT:
        return layer(room) < LAYERS.index("flows")
    return layer(name) > layer(room)


@pytest.mark.parametrize("room", sorted(rooms()))
def test_no_room_is_allowed_a_higher_layer(room):
    higher = sorted(name for name in rooms()[room] if above(name, room))
    assert not higher, (
        f"{room}'s docstring allows {higher}: layers go {' < '.join(LAYERS)}, "
        f"and only flows and duban may import prefect"
    )


@pytest.mark.parametrize("room", sorted(rooms()))
def test_each_room_imports_only_what_its_docstring_allows(room):
    allowed = rooms()[room] | {room, OPEN_TO_ALL}
    wrong = [
        f"{modules()[module].relative_to(ROOT)}:{line} imports {name}"
        for module in modules()
        if room_of(module) == room
        for line, name in imports(module)
        if not any(within(name, ok) for ok in allowed)
    ]
    rule = ", ".join(sorted(allowed - {room}))
    assert not wrong, (
        f"{room} may import only {rule} (its __init__ docstring says so):\n  " + "\n  ".join(wrong)
    )


# Alembic runs these scripts itself; importing them on their own is not how they are used.
NOT_IMPORTED_ALONE = ("schemas.migrations",)


def probe(code: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> list[str]:
    """Run `code` in a fresh interpreter; return its output lines (its last says whether
    Prefect was loaded)."""
    script = f"import sys\n{code}\nprint('prefect loaded:', 'prefect' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, env=env
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


@pytest.mark.parametrize("room", sorted(r for r in rooms() if layer(r) < LAYERS.index("flows")))
def test_the_layers_below_the_flows_do_not_load_prefect(room):
    names = [
        m
        for m in modules()
        if room_of(m) == room and not any(within(m, x) for x in NOT_IMPORTED_ALONE)
    ]
    code = (
        "import importlib\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'prefect' in sys.modules:\n"
        "        print('first loaded by', name)\n"
        "        break"
    )
    lines = probe(code)
    assert lines[-1] == "prefect loaded: False", f"{room}: {lines[0]}"


PLAN, DAY = "cq-2019-pilot", "2019-08-07"


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A database with the pilot plan imported and one day swept (notices, escalations, an
    outbox), so the read-only commands below have something to render."""
    home = tmp_path_factory.mktemp("swept")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUBAN_", "PREFECT_API"))} | {
        "DUBAN_DATABASE_URL": f"sqlite:///{home / 'd.db'}",
        "DUBAN_HOME": str(home),
    }
    for command in (
        ["import", str(ROOT / "plans" / "chongqing-2019-pilot.yaml")],
        ["sweep", "--as-of", DAY],
    ):
        subprocess.run(
            [sys.executable, "-c", f"from duban.cli import app\napp({command!r})"],
            cwd=home,
            env=env,
            check=True,
            capture_output=True,
        )
    return home, env


# Each read-only command, run to its end on a swept database, and a piece of what it prints.
READ_ONLY = [
    (["due", "2019年9月前", "--json"], "2019-09"),
    (["calendar", "2020", "--json"], "2020-01-01"),
    (["workdays", "2020-01-02", "--plus", "3"], "2020-01"),
    (["who", "区卫生健康委牵头"], "区卫生健康委"),
    (["draft", str(ROOT / "tests" / "data" / "sources" / "000_321ef95c29761d99.txt")], "渝卫发"),
    (["plans"], "cq-20"),
    (["show", PLAN], "t02"),
    (["graph", PLAN], "t02"),
    (["tasks", "--unit", "南岸区", "--as-of", DAY], "t06"),
    (["overdue", "--as-of", DAY], "t06"),
    (["history", PLAN, "t02"], "t02"),
    (["extensions", PLAN, "--json"], "[]"),
    (["escalations", PLAN, "--json"], '"t02"'),
    (["outbox", "--json"], '"sent"'),
    (["receipts", "--json"], '"DB'),
    (["review", PLAN, "--as-of", DAY], "ranking"),
    (["review", PLAN, "--as-of", DAY, "--format", "html"], "<svg"),
    (["review", PLAN, "--as-of", DAY, "--format", "md"], "| "),
    (["review", PLAN, "--as-of", DAY, "--format", "json"], '"units"'),
    (["review", PLAN, "--as-of", DAY, "--format", "xlsx", "--out", "r.xlsx"], "wrote r.xlsx"),
    (["ranking", PLAN, "--as-of", DAY, "--circular", "c.html"], "wrote c.html"),
    (["sheet", PLAN, "1", "--out", "s.html"], "s.html"),
    (["sweep", "--status", "--as-of", "2019-08-09"], "last swept 2019-08-07"),
]


def test_read_only_commands_render_without_loading_prefect(swept):
    """All in one interpreter, in turn: the first command after which Prefect is loaded is the
    one whose path loads it (what an earlier command loaded did not)."""
    home, env = swept
    code = (
        "from duban.cli import app\n"
        f"for i, command in enumerate({[c for c, _ in READ_ONLY]!r}):\n"
        "    print('>>>', i, flush=True)\n"
        "    try:\n        app(command)\n"
        "    except SystemExit as done:\n"
        "        print('exit', done.code)\n"
        "    print('<<<', 'prefect' in sys.modules, flush=True)"
    )
    out = "\n".join(probe(code, env=env, cwd=home))
    runs = re.findall(r">>> \d+\n(.*?)\n<<< (True|False)", out, re.DOTALL)
    assert len(runs) == len(READ_ONLY), out[-2000:]
    for (command, shows), (printed, prefect) in zip(READ_ONLY, runs, strict=True):
        said = f"duban {' '.join(command)}"
        assert printed.splitlines()[-1] in ("exit 0", "exit None"), f"{said}:\n{printed}"
        assert shows in printed, f"{said} did not render:\n{printed[-2000:]}"
        assert prefect == "False", f"{said} loads prefect"


# The read-only commands people run most, and what they must start without: a cold `duban
# plans` costs SQLAlchemy's import and little more (bench/cold.py measures it), so they read
# through Core (schemas.columns), find the database without the Settings model
# (schemas.location), print plain text (duban.plain), and walk the graph without networkx.
FAST = [
    ["plans"],
    ["show", PLAN],
    ["tasks", "--unit", "南岸区", "--as-of", DAY],
    ["overdue", "--as-of", DAY],
    ["overdue", "--as-of", DAY, "--level", "supervise", "--json"],
]
HEAVY = ("pydantic", "sqlmodel", "schemas.tables", "networkx", "rich", "pendulum", "alembic")


@pytest.mark.parametrize("command", FAST, ids=" ".join)
def test_the_read_only_commands_start_without_the_heavy_libraries(swept, command):
    home, env = swept
    code = (
        "from duban.cli import app\n"
        "try:\n"
        f"    app({command!r})\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        f"print('loaded:', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    lines = probe(code, env=env, cwd=home)
    assert lines[-2] == "loaded: []", f"duban {' '.join(command)} {lines[-2]}"


def test_a_process_builds_the_command_it_runs_and_help_still_lists_them_all(swept):
    """`duban plans` builds `plans` alone (duban.app.Duban); `--help`, a command's help and
    a name that is no command behave as typer's, which builds every command."""
    home, env = swept
    code = (
        "from duban.cli import app\n"
        "for argv in (['--help'], ['plans', '--help'], ['nope'], ['plans']):\n"
        "    print('>>>', *argv)\n"
        "    try:\n"
        "        app(argv, prog_name='duban')\n"
        "    except SystemExit as done:\n"
        "        print('exit', done.code)"
    )
    runs = "\n".join(probe(code, env=env, cwd=home)).split(">>> ")[1:]
    everything, plans_help, unknown, plans = runs
    assert all(f" {name} " in everything for name in ("plans", "overdue", "calendar", "sweep"))
    assert everything.rstrip().endswith("exit 0")
    assert "Usage: duban plans [OPTIONS]" in plans_help and "--json" in plans_help
    assert unknown.rstrip().endswith("exit 2")  # typer's "No such command", on stderr
    assert PLAN in plans and "exit 0" in plans


def test_the_plan_json_schema_is_up_to_date():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == plan_json_schema(), (
        "schemas/plan.schema.json is stale: run `duban schema --write`"
    )


def test_the_cli_reference_is_generated_from_the_commands(tmp_path):
    fresh = tmp_path / "cli.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "duban.cli",
            "utils",
            "docs",
            "--name",
            "duban",
            "--output",
            str(fresh),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == fresh.read_text(
        encoding="utf-8"
    ), "docs/cli.md is stale: run `typer duban.cli utils docs --name duban --output docs/cli.md`"
