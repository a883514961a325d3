from django import template

from juries.models import IssuedDocument

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
