"""The documents' answers to what happens below them: a rectification marks documents, a withdrawal revokes them."""

from documents.services import documents_mark_rectified, documents_revoke_withdrawn


def mark_rectified_documents(sender, *, rectification, actor, **kwargs) -> int:
    return documents_mark_rectified(rectification=rectification, actor=actor)


def revoke_withdrawn_documents(
    sender, *, withdrawal, candidate, award, blocks, revocation_reason, actor, **kwargs
) -> list[str]:
    revoked = documents_revoke_withdrawn(
        withdrawal=withdrawal,
        candidate=candidate,
        award=award,
        blocks=blocks,
        revocation_reason=revocation_reason,
        actor=actor,
    )
    return [f"{document.get_kind_display()} {document.grouped_code}" for document in revoked]
