from django import template

from documents.integrity import integrity_report
from documents.models import DocumentStatus, IssuedDocument
from documents.selectors import documents_stating

register = template.Library()


@register.simple_tag(takes_context=True)
def candidate_documents(context, candidate):
    """The documents issued to a candidate that the current user may download (none for a trainer by default)."""
    request = context.get("request")
    if request is None:
        return []
    return list(
        IssuedDocument.objects.visible_to(request.user)
        .filter(candidate=candidate)
        .defer("pdf")
        .select_related("session", "withdrawn__withdrawal")
        .order_by("-document_date", "kind", "-created_at", "-pk")
    )


@register.simple_tag
def session_valid_document_count(session):
    """The number of valid documents of a signed session (None before the signature)."""
    if not session.is_signed:
        return None
    return IssuedDocument.objects.filter(session=session, status=DocumentStatus.VALID).count()


@register.simple_tag
def session_integrity(session):
    """Whether what a signed session stores still says what was signed (None before the signature)."""
    return integrity_report(sessions=[session]).sessions[0] if session.is_signed else None


@register.simple_tag
def documents_at_stake(candidate, options):
    """The valid documents a withdrawal of `options` (award and blocks on offer) would revoke, for its form."""
    return documents_stating(candidate=candidate, award=options.award, blocks=options.blocks).select_related("session")
