"""One helper for every audit trace, so that each service records who, when, before and after the same way.

An action is always a member of `AuditAction`, the closed set of what a trace may say (each with its French label):
a free string would be a trace nobody can label, filter or search for.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from certif import clock
from certif.models import AuditAction, AuditEvent

__all__ = ["AuditAction", "AuditChange", "audit_trail", "audit_trail_of", "record_audit", "record_audits"]


@dataclass(frozen=True)
class AuditChange:
    """One object's change, for `record_audits`."""

    target: Any
    before: dict | None = None
    after: dict | None = None


def _checked(action) -> AuditAction:
    if not isinstance(action, AuditAction):
        raise ValueError(f"Action d'audit inconnue : {action!r} (utilisez un membre de AuditAction).")
    return action


def _event(*, actor, action: AuditAction, target, before, after, occurred_at) -> AuditEvent:
    return AuditEvent(
        occurred_at=occurred_at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        before=before,
        after=after,
    )


def record_audit(*, actor, action: AuditAction, target, before=None, after=None) -> AuditEvent:
    event = _event(
        actor=actor, action=_checked(action), target=target, before=before, after=after, occurred_at=clock.now()
    )
    event.save(force_insert=True)
    return event


def record_audits(*, actor, action: AuditAction, changes: Iterable[AuditChange], occurred_at=None) -> list[AuditEvent]:
    """The same action on many objects, in one INSERT (a grid saves dozens of cells at once)."""
    action, occurred_at = _checked(action), occurred_at or clock.now()
    return AuditEvent.objects.bulk_create(
        _event(
            actor=actor,
            action=action,
            target=change.target,
            before=change.before,
            after=change.after,
            occurred_at=occurred_at,
        )
        for change in changes
    )


def audit_trail_of(*, targets=(), querysets=()):
    """The audit events of several objects in one query, newest first: `targets` (instances) and every object of
    `querysets` (a session and its decisions), without reading the querysets' rows first."""
    condition = Q(pk__in=[])
    for target in targets:
        condition |= Q(
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=False), target_id=str(target.pk)
        )
    for queryset in querysets:
        ids = queryset.order_by().annotate(audit_target_id=Cast("pk", CharField())).values("audit_target_id")
        condition |= Q(
            target_type=ContentType.objects.get_for_model(queryset.model, for_concrete_model=False), target_id__in=ids
        )
    return AuditEvent.objects.filter(condition).select_related("actor")


def audit_trail(target):
    """The audit events of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
    ).select_related("actor")
