"""The JSON Schema of plan files, generated from the pydantic models so the two never drift."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.plan_file import PlanFile

SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")


def plan_json_schema() -> str:
    schema = PlanFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "duban plan file"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
