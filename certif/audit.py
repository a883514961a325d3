"""One helper for every audit trace, so that each service records who, when, before and after the same way."""

from django.contrib.contenttypes.models import ContentType

from certif import clock
from certif.models import AuditEvent


def record_audit(*, actor, action: str, target, before=None, after=None) -> AuditEvent:
    return AuditEvent.objects.create(
        occurred_at=clock.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        before=before,
        after=after,
    )


def audit_trail(target):
    """The audit events of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        target_id=str(target.pk),
    ).select_related("actor")
