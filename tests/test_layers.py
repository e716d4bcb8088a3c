"""The promises about layers and generated files that keep duban easy to change."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from schemas.plan_schema import SCHEMA_PATH, plan_json_schema

from .conftest import ROOT

PURE = [
    "calendars",
    "calendars.workdays",
    "calendars.deadlines",
    "schemas",
    "schemas.tables",
    "schemas.db",
    "schemas.plan_file",
    "schemas.settings",
    "tasks",
    "tasks.plans.graph",
    "tasks.plans.importer",
    "tasks.plans.queries",
    "tasks.plans.recalc",
    "tasks.plans.responsibility",
    "tasks.plans.lint",
    "tasks.work.lifecycle",
    "tasks.work.audit",
    "tasks.work.status",
    "tasks.sweep.escalation",
    "tasks.sweep.pipeline",
    "tasks.sweep.outbox",
    "tasks.sweep.notices",
    "tasks.sweep.delivery",
    "tasks.review.compute",
    "tasks.sweep.digest",
    "render.review",
    "render.xlsx",
    "render.documents",
]


# Layer order, lowest first: calendars < schemas < tasks < render < flows < duban. A layer
# imports only those below it; `duban.errors` is the one module every layer may import.
LAYERS = ["calendars", "schemas", "tasks", "render", "flows", "duban"]


def imported_modules(path) -> list[str]:  # type: ignore[no-untyped-def]
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_no_layer_imports_one_above_it(layer):
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in above and name != "duban.errors"
    ]
    assert wrong == []


def loads_prefect(code: str) -> bool:
    probe = f"import sys\n{code}\nprint('prefect' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return out.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize("module", PURE)
def test_the_domain_layers_do_not_load_prefect(module):
    assert not loads_prefect(f"import {module}")


@pytest.mark.parametrize(
    "command",
    [
        ["due", "2019年9月前", "--json"],
        ["calendar", "2020", "--json"],
        ["workdays", "2020-01-02", "--plus", "3"],
        ["who", "区卫生健康委牵头"],
        ["plans"],
        ["outbox"],
        ["review", "none", "--format", "json"],
    ],
)
def test_read_only_commands_do_not_load_prefect(command, tmp_path):
    code = (
        f"import os; os.environ['DUBAN_DATABASE_URL'] = 'sqlite:///{tmp_path}/d.db'\n"
        f"from schemas.db import create_schema; create_schema('sqlite:///{tmp_path}/d.db')\n"
        "from duban.cli import app\n"
        f"try:\n    app({command!r})\nexcept SystemExit:\n    pass"
    )
    assert not loads_prefect(code)


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
