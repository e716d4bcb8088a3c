"""The unit ranking (排名) and the rule that states it, in the plan's language.

Units are ranked by their on-time rate: the share of their own due items handed in by the
approved due date. Equal rates share a rank. A unit under an open 督办 ranks below every unit
without one. What a unit does not answer for is left out of its rate: delays caused upstream
(tasks.review.blame), work set aside, and, while the sweep does not chase them, the items of
co-responsible and participating units. Units with nothing counted yet are listed apart, not
first; the office and leadership, who run the ladder, are not ranked at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from fractions import Fraction
from operator import attrgetter
from statistics import mean

from schemas.plan_file import EscalationPolicy
from schemas.vocabulary import SET_ASIDE, AssignmentState, Cause, Role
from tasks.review.model import ItemReview, UnitScore

RULE = {
    "zh": {
        "head": "排名规则：按各单位到期事项的按时完成率（按时报送的到期事项÷到期事项）从高到低"
        "排列，完成率相同的并列同一名次；有未结督办的单位排在没有未结督办的单位之后。",
        "upstream": "因上游任务延误导致的逾期不计入本单位：上游任务仅指方案明确规定的前置任务"
        "{phases}，且须由其他单位承担、本身逾期、晚于本事项时限完成。",
        "phases": "及方案规定须先完成的前一阶段任务",
        "not_counted": "配合单位、参与单位只接收提醒、不予催办，其逾期不计入排名，由牵头单位对任务"
        "负责。",
        "chased": "配合单位、参与单位逾期后同样予以催办，其逾期计入本单位。",
        "tail": "经批准延期的事项按批准后的时限计算。尚无到期事项的单位单列，不参与排名；联席会议"
        "办公室和领导不参与排名。",
    },
    "en": {
        "head": "Ranking rule: units are ranked by their on-time rate (due items handed in on "
        "time ÷ items due), highest first; equal rates share a rank; a unit with an open "
        "escalation (督办) ranks below every unit without one.",
        "upstream": " Delays caused by late upstream tasks do not count against a unit: an "
        "upstream task is only a prerequisite the plan names{phases}, led by another unit, "
        "itself late, and finished after this item was due.",
        "phases": " or a task of an earlier phase the plan says must finish first",
        "not_counted": " Co-responsible and participating units are reminded, not urged, so "
        "their delays are not counted; the lead unit answers for the task.",
        "chased": " Co-responsible and participating units are urged when late too, and their "
        "delays count against them.",
        "tail": " Approved extensions move the due date counted. Units with nothing due yet "
        "are listed apart; the office and leadership are not ranked.",
    },
}


def ranking_rule(policy: EscalationPolicy) -> str:
    """The rule in words, as the plan's policy makes it."""
    words = RULE[policy.language]
    phases = words["phases"] if policy.phase_order_upstream else ""
    return (
        words["head"]
        + words["upstream"].format(phases=phases)
        + words[policy.co_units]
        + words["tail"]
    )


def counted_roles(policy: EscalationPolicy) -> frozenset[str]:
    """The roles whose lateness counts against the unit: the lead's always; the others' only
    when the sweep chases them."""
    return frozenset(Role) if policy.co_units == "chased" else frozenset((Role.LEAD,))


def rank_units(
    items: Sequence[ItemReview],
    *,
    reports: Collection[str],
    overseers: Collection[str],
    as_of: dt.date,
    policy: EscalationPolicy,
) -> tuple[tuple[UnitScore, ...], tuple[UnitScore, ...]]:
    """The ranked units in rank order, and the units with nothing counted yet (by name).

    `reports` are the codes of report tasks (阶段总结), shown beside the rate; `overseers` the
    office and leadership, left out.
    """
    by_unit: dict[str, list[ItemReview]] = defaultdict(list)
    for item in items:
        if item.unit not in overseers:
            by_unit[item.unit].append(item)
    roles = counted_roles(policy)
    scores = [_score(unit, mine, reports, as_of, roles) for unit, mine in by_unit.items()]
    ranked = sorted((s for s in scores if s.due), key=lambda s: (_standing(s), s.name))
    placed: list[UnitScore] = []
    for n, score in enumerate(ranked):
        tied = n and _standing(ranked[n - 1]) == _standing(score)
        placed.append(UnitScore(**{**score.__dict__, "rank": placed[-1].rank if tied else n + 1}))
    apart = tuple(sorted((s for s in scores if not s.due), key=lambda s: s.name))
    return tuple(placed), apart


def _standing(score: UnitScore) -> tuple[bool, Fraction]:
    """What a rank is decided on: an open 督办 first, then the exact rate (so ties are ties)."""
    return score.open_escalations > 0, -Fraction(score.on_time, score.due)


def _counted(item: ItemReview, as_of: dt.date, roles: frozenset[str]) -> bool:
    """An item counts once its due date has passed (or it was handed in on the day), unless it
    was set aside, held up upstream, or is in a role not counted."""
    due = item.approved_due
    return (
        due is not None
        and due <= as_of
        and (due < as_of or item.actual is not None)
        and item.state not in SET_ASIDE
        and item.cause != Cause.UPSTREAM
        and item.role in roles
    )


def _score(
    unit: str,
    mine: list[ItemReview],
    reports: Collection[str],
    as_of: dt.date,
    roles: frozenset[str],
) -> UnitScore:
    # A unit has thousands of items: each figure is a pass over them, so the causes are
    # counted at once and the rest picks out the few items it is about first.
    counted = [i for i in mine if _counted(i, as_of, roles)]
    causes = Counter(map(attrgetter("cause"), mine))
    own = [i for i in mine if i.cause == Cause.OWN]
    accepted = [i.late_workdays for i in mine if i.state == AssignmentState.ACCEPTED]
    summaries = [
        i for i in mine if i.task in reports and i.approved_due and i.approved_due <= as_of
    ]
    return UnitScore(
        unit=unit,
        name=mine[0].unit_name,
        assigned=len(mine),
        due=len(counted),
        on_time=sum(i.actual is not None and i.late_workdays == 0 for i in counted),
        accepted_on_time=accepted.count(0),
        accepted_late=len(accepted) - accepted.count(0),
        overdue_now=sum(i.overdue_workdays > 0 for i in mine),
        own_delays=len(own),
        upstream_delays=causes[Cause.UPSTREAM],
        supporting_delays=causes[Cause.SUPPORTING],
        avg_workdays_late=round(mean(i.late_workdays or i.overdue_workdays for i in own), 1)
        if own
        else 0.0,
        summaries_on_time=sum(i.actual is not None and i.late_workdays == 0 for i in summaries),
        summaries_due=len(summaries),
        open_escalations=sum(map(attrgetter("escalated"), mine)),
    )
