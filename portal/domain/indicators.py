"""Indicators per school, year and scale, computed from anonymous respondents.

Each item's answers run from 1 to its ``answer_max``; reversed items are mirrored first
(value becomes answer_max + 1 - value) so that a higher score is always the more
favourable one: safer, happier, less victimised. A respondent's scale score is the mean of
their answered items on that scale. The school's scale mean is the mean of those scores,
and a respondent counts as positive when their score lies above the middle of the scale.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from portal.models import SCALES, Item


@dataclass
class ScaleResult:
    scale: str
    respondents: int
    mean: float | None
    positive_share: float | None


@dataclass
class GroupResult:
    """Figures of one leerjaar or groep; ``suppressed`` hides figures of a small group."""

    name: str
    respondents: int
    suppressed: bool
    scales: dict[str, ScaleResult] = field(default_factory=dict)


@dataclass
class OptionShare:
    """Share of an item's respondents that chose this option; None in a suppressed report."""

    label: str
    share: float | None


@dataclass
class ItemShares:
    """Share of respondents per answer option of one victimisation item."""

    code: str
    text: str
    options: list[OptionShare]


@dataclass(frozen=True)
class ScoringPlan:
    """The scale items of a questionnaire as plain values, read once from the Item rows.

    Scoring a few thousand respondents reads every item for each of them, and reading
    attributes of peewee rows is several times slower than reading a tuple.
    """

    # (item code, scale, reversed, answer_max) per item that belongs to a scale.
    items: tuple[tuple[str, str, bool, int], ...]
    # The highest answer per scale, which puts the middle of that scale at (1 + max) / 2.
    answer_max: dict[str, int]

    @classmethod
    def of(cls, items: Sequence[Item]) -> "ScoringPlan":
        scored = tuple(
            (item.code, item.scale, bool(item.reversed), item.answer_max)
            for item in items
            if item.scale is not None
        )
        return cls(scored, {scale: answer_max for _code, scale, _rev, answer_max in scored})

    def scores(self, answers: dict) -> dict[str, float]:
        """Return a respondent's score per scale; a scale with no answered item is left out."""
        per_scale: dict[str, list[int]] = {}
        for code, scale, reversed_, answer_max in self.items:
            value = answers.get(code)
            if value is None:
                continue
            value = int(value)
            per_scale.setdefault(scale, []).append(answer_max + 1 - value if reversed_ else value)
        return {scale: sum(values) / len(values) for scale, values in per_scale.items()}


def summarise_scores(
    answer_max: dict[str, int],
    score_sets: Iterable[dict[str, float]],
    hidden: frozenset = frozenset(),
) -> dict[str, ScaleResult]:
    """Return mean and positive share per scale over respondents' scale scores.

    A scale in ``hidden`` keeps its respondent count but gets no mean or share.
    """
    scores: dict[str, list[float]] = defaultdict(list)
    for respondent_scores in score_sets:
        for scale, score in respondent_scores.items():
            scores[scale].append(score)

    results = {}
    for scale in SCALES:
        values = scores.get(scale, [])
        if not values or scale in hidden:
            results[scale] = ScaleResult(scale, len(values), None, None)
            continue
        middle = (1 + answer_max[scale]) / 2
        positive = sum(1 for v in values if v > middle)
        results[scale] = ScaleResult(
            scale, len(values), sum(values) / len(values), positive / len(values)
        )
    return results


def thin_scales(parts: Iterable[tuple[object, dict[str, float]]], threshold: int) -> frozenset:
    """Return the scales that some part scores from more than 0 but fewer than threshold respondents.

    ``parts`` yields (part, scale scores) per respondent, where a part is a school or a
    group. A respondent who skipped every item of a scale has no score on it, so a scale
    can rest on a few pupils even where the part as a whole is large enough. Its figure
    would describe those few, and the figures of the other parts would give it away, so
    such a scale is hidden for every part.
    """
    counts: Counter = Counter()
    for part, scores in parts:
        for scale in scores:
            counts[(part, scale)] += 1
    return frozenset(scale for (_part, scale), count in counts.items() if count < threshold)


def thin_items(
    items: Sequence[Item], parts: Iterable[tuple[object, dict]], threshold: int
) -> frozenset:
    """Return the aantasting items that some part has more than 0 but fewer than threshold answers to."""
    codes = [item.code for item in items if item.scale == "aantasting"]
    counts: Counter = Counter()
    for part, answers in parts:
        for code in codes:
            if answers.get(code) is not None:
                counts[(part, code)] += 1
    return frozenset(code for (_part, code), count in counts.items() if count < threshold)


def victimisation_shares(
    items: Sequence[Item], answer_sets: Sequence[dict], hidden: frozenset = frozenset()
) -> list[ItemShares]:
    """Return, per aantasting item, the share of its respondents that chose each option.

    An item in ``hidden`` keeps its answer options but gets no shares.
    """
    shares = []
    for item in items:
        if item.scale != "aantasting":
            continue
        values = [int(a[item.code]) for a in answer_sets if a.get(item.code) is not None]
        labels = item.labels
        if item.code in hidden:
            options = [OptionShare(label, None) for label in labels]
        else:
            options = [
                OptionShare(label, (values.count(i + 1) / len(values)) if values else 0.0)
                for i, label in enumerate(labels)
            ]
        shares.append(ItemShares(item.code, item.text, options))
    return shares


def group_results_from_scores(
    answer_max: dict[str, int],
    rows: Iterable[tuple[str, dict[str, float]]],
    threshold: int,
    also_hide: frozenset = frozenset(),
    hide_all: bool = False,
    hidden_scales: frozenset = frozenset(),
) -> list[GroupResult]:
    """Return results per group from (group, scale scores) rows, with small groups hidden.

    ``suppressed_groups`` decides which groups are hidden; ``hide_all`` hides every group,
    for a report that shows no figures at all. A scale in ``hidden_scales``, or one that a
    shown group scores from too few respondents (``thin_scales``), is hidden in every group.
    """
    by_group: dict[str, list[dict[str, float]]] = defaultdict(list)
    for group, scores in rows:
        by_group[group].append(scores)
    counts = {name: len(score_sets) for name, score_sets in by_group.items()}
    hidden = set(counts) if hide_all else suppressed_groups(counts, threshold, also_hide)
    shown = (
        (name, scores)
        for name, score_sets in by_group.items()
        if name not in hidden
        for scores in score_sets
    )
    hidden_scales = hidden_scales | thin_scales(shown, threshold)

    results = []
    for name in sorted(by_group, key=_group_sort_key):
        score_sets = by_group[name]
        if name in hidden:
            results.append(GroupResult(name, len(score_sets), suppressed=True))
            continue
        results.append(
            GroupResult(
                name,
                len(score_sets),
                False,
                summarise_scores(answer_max, score_sets, hidden_scales),
            )
        )
    return results


def suppressed_groups(
    group_counts: dict[str, int], threshold: int, also_hide: frozenset = frozenset()
) -> frozenset:
    """Return the groups of one report whose figures are hidden.

    A group with fewer than ``threshold`` respondents is hidden, and so is every group in
    ``also_hide``. The report's total is always shown, so the total minus the visible
    groups gives the hidden groups together. When those have fewer than ``threshold``
    respondents (and more than 0), the smallest visible group is hidden as well, again
    and again, until the hidden groups together reach the threshold or none is visible.
    Among visible groups of equal size, the one that comes first in the report's order
    (``groep 7`` before ``groep 8``) is hidden first. ``group_counts`` maps group to
    respondents.
    """
    hidden = {group for group, count in group_counts.items() if count < threshold}
    hidden |= also_hide & group_counts.keys()
    visible = sorted(
        (group for group in group_counts if group not in hidden),
        key=lambda group: (group_counts[group], _group_sort_key(group)),
    )
    hidden_respondents = sum(group_counts[group] for group in hidden)
    while visible and 0 < hidden_respondents < threshold:
        group = visible.pop(0)
        hidden.add(group)
        hidden_respondents += group_counts[group]
    return frozenset(hidden)


def hidden_by_difference(group_counts: dict[tuple[str, int], int], threshold: int) -> frozenset:
    """Return the groups of a combined report that one location's hidden group could leak.

    A group combined over several locations may pass the threshold while one location's
    part of it is hidden in that location's own report: because it is small, or because
    ``suppressed_groups`` hid it to protect another small group. The combined figures
    minus those of the other locations' own reports would then give that part away, so
    such a group is hidden as a whole. ``group_counts`` maps (group, school id) to
    respondents.
    """
    per_school: dict[int, dict[str, int]] = defaultdict(dict)
    for (group, school), count in group_counts.items():
        per_school[school][group] = count
    hidden: set[str] = set()
    for counts in per_school.values():
        hidden |= {group for group in suppressed_groups(counts, threshold) if counts[group] > 0}
    return frozenset(hidden)


def _group_sort_key(name: str) -> tuple:
    """Sort "groep 10" after "groep 9" by comparing the number in a group name as a number."""
    head, _, tail = name.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (name, 0)
