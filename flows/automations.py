"""The automations that tell the joint meeting office when the scheduled work goes wrong, kept
on the Prefect server (they watch its events, so they live there, not in prefect.yaml):

    duban-sweep-failed    a deadline sweep ended Failed, Crashed or TimedOut: the office's
                          webhook is told, with the run's link and what to do
    duban-sweep-missing   no deadline sweep completed in 26 hours (a worker or the server is
                          down; a skipped holiday sweep still completes)
    duban-runs-unheard    a duban flow run whose heartbeats stopped (its process or machine
                          died: kill -9, an eviction) is marked Crashed, which frees its
                          concurrency slot and, for a sweep, raises duban-sweep-failed

Heartbeats come from the flow runs themselves: workers set PREFECT_FLOWS_HEARTBEAT_FREQUENCY
(seconds, at least 30); a run is taken for dead after `silence` seconds without one.
`install_automations` creates the office's webhook block and replaces the three by name, so it
can be run again after a change.
"""

from __future__ import annotations

import datetime as dt

from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState, SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

BLOCK = "duban-office"
SWEEP_FLOW = "deadline-sweep"
FLOW_RUNS = ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"})
OF_THE_SWEEP = ResourceSpecification(
    {"prefect.resource.role": "flow", "prefect.resource.name": SWEEP_FLOW}
)
OF_DUBAN = ResourceSpecification(
    {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.duban"}
)
ENDED = {f"prefect.flow-run.{state}" for state in ("Completed", "Failed", "Cancelled", "Crashed")}


def install_automations(webhook_url: str, *, silence: int = 150) -> list[str]:
    """Save the office's webhook block and (re)create the automations; their names."""
    block_id = CustomWebhookNotificationBlock(
        name="duban office",
        url=webhook_url,
        json_data={"msgtype": "text", "text": {"content": "{{subject}}\n{{body}}"}},
    ).save(BLOCK, overwrite=True)
    automations = [
        Automation(
            name="duban-sweep-failed",
            description="A failed or crashed deadline sweep is reported to the office.",
            trigger=EventTrigger(
                match=FLOW_RUNS,
                match_related=OF_THE_SWEEP,
                expect={
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Crashed",
                    "prefect.flow-run.TimedOut",
                },
                posture=Posture.Reactive,
                threshold=1,
                within=dt.timedelta(0),
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="督办 deadline sweep {{ flow_run.state.name }}: {{ flow_run.name }}",
                    body=(
                        "The deadline sweep of {{ flow_run.parameters.as_of or "
                        "flow_run.expected_start_time }} ended {{ flow_run.state.name }}.\n"
                        "{{ flow_run.state.message }}\n"
                        "Run: {{ flow_run|ui_url }}\n"
                        "Nothing was half-written: the next sweep catches the day up, or rerun "
                        "it with `duban sweep --as-of DAY`."
                    ),
                )
            ],
        ),
        Automation(
            name="duban-sweep-missing",
            description="No deadline sweep completed in 26 hours (a worker or the server is down).",
            trigger=EventTrigger(
                match=FLOW_RUNS,
                match_related=OF_THE_SWEEP,
                expect={"prefect.flow-run.Completed"},
                posture=Posture.Proactive,
                threshold=1,
                within=dt.timedelta(hours=26),
            ),
            actions=[
                SendNotification(
                    block_document_id=block_id,
                    subject="督办 deadline sweep did not run",
                    body="No deadline sweep completed in the last 26 hours: check the workers.",
                )
            ],
        ),
        Automation(
            name="duban-runs-unheard",
            description="A duban flow run whose heartbeats stopped is marked Crashed.",
            trigger=EventTrigger(
                after={"prefect.flow-run.heartbeat"},
                expect={"prefect.flow-run.heartbeat", *ENDED},
                match=FLOW_RUNS,
                match_related=OF_DUBAN,
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=dt.timedelta(seconds=silence),
            ),
            actions=[
                ChangeFlowRunState(
                    state=StateType.CRASHED,
                    message=f"no heartbeat for {silence} s: its process or machine died",
                )
            ],
        ),
    ]
    with get_client(sync_client=True) as client:
        for automation in automations:
            for older in client.read_automations_by_name(automation.name):
                client.delete_automation(older.id)
    for automation in automations:
        automation.create()
    return [a.name for a in automations]
