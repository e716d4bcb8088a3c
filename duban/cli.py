"""The `duban` command: parses arguments, calls the service layer, prints the answer.

Heavy modules are imported inside the commands that need them, so `duban due` and the other
read-only commands start fast and never load Prefect.
"""

from duban.app import app
from duban.commands import (  # noqa: F401  (each registers its commands)
    doctor,
    draft,
    evidence,
    plans,
    review,
    sweep,
    time,
    web,
    work,
)

__all__ = ["app"]
