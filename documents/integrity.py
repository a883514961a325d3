"""Does what is stored still say what was signed? Read by `manage.py verify_integrity` and by the session page.

For each signed session: its decisions' fingerprint is recomputed (juries.selectors.decisions_fingerprint, the
session and its decisions as signed) and compared with the one stored at the signature, with the one the sign-off's
audit trace recorded and with the one printed on its minutes; each rectification (a later act, outside that
fingerprint) is compared with its own audit trace. Every issued document's bytes are hashed again and compared with
the SHA-256 kept beside them (the CDC holder declarations are checked likewise by declarations.integrity; the
whole database, by config.integrity).

On PostgreSQL the triggers refuse these rows to any write; this check is what tells whether someone went around
them (a superuser disabling a trigger, a restored backup, a disk fault). A fixed number of queries, whatever the
number of sessions and documents.
"""

import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.utils.formats import date_format

from certif.digests import short_digest, with_digest
from certif.models import AuditAction, AuditEvent
from documents.models import DocumentKind, IssuedDocument
from juries.models import Decision, JurySession, JurySessionStatus, Rectification
from juries.selectors import decisions_fingerprint


@dataclass
class SessionIntegrity:
    session: JurySession
    fingerprint_problems: list[str] = field(default_factory=list)
    documents_checked: int = 0
    document_problems: list[str] = field(default_factory=list)
    minutes_checked: int = 0
    rectifications_checked: int = 0

    @property
    def fingerprint_ok(self) -> bool:
        return not self.fingerprint_problems

    @property
    def documents_ok(self) -> bool:
        return not self.document_problems

    @property
    def ok(self) -> bool:
        return self.fingerprint_ok and self.documents_ok

    @property
    def fingerprint_verdict(self) -> str:
        return "Empreinte des décisions vérifiée" if self.fingerprint_ok else "Empreinte des décisions non vérifiée"

    @property
    def fingerprint_detail(self) -> str:
        if not self.fingerprint_ok:
            return ""
        checked = ["à celle de la signature", "à sa trace d'audit"]
        if self.minutes_checked:
            checked.append("à celle imprimée sur le procès-verbal")
        sentence = (
            "recalculée à l'instant à partir des décisions conservées, elle est identique "
            f"{', '.join(checked[:-1])} et {checked[-1]}"
        )
        if self.rectifications_checked == 1:
            sentence += " ; la rectification est conforme à sa trace d'audit"
        elif self.rectifications_checked:
            sentence += f" ; les {self.rectifications_checked} rectifications sont conformes à leurs traces d'audit"
        return sentence + "."

    @property
    def documents_verdict(self) -> str:
        if not self.documents_ok:
            return "Documents non vérifiés"
        return "Documents vérifiés" if self.documents_checked else "Aucun document émis pour cette session"

    @property
    def documents_detail(self) -> str:
        if not self.documents_ok or not self.documents_checked:
            return ""
        if self.documents_checked == 1:
            return "le document conservé est identique, octet pour octet, à son empreinte SHA-256."
        return (
            f"les {self.documents_checked} documents conservés sont identiques, octet pour octet, à leur empreinte "
            "SHA-256."
        )

    @property
    def label(self) -> str:
        return f"Jury du {date_format(self.session.date, 'j F Y')} ({self.session.place})"


@dataclass
class IntegrityReport:
    sessions: list[SessionIntegrity]

    @property
    def problems(self) -> list[str]:
        found = []
        for item in self.sessions:
            found += [f"{item.label} : {problem}" for problem in item.fingerprint_problems + item.document_problems]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def documents_checked(self) -> int:
        return sum(item.documents_checked for item in self.sessions)


def printed_fingerprint_matches(pdf: bytes, fingerprint: str) -> bool:
    """Is `fingerprint` printed on these minutes? (It may wrap over two lines: spaces are not compared.)"""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    text = "".join("".join((page.extract_text() or "").split()) for page in reader.pages)
    return bool(fingerprint) and fingerprint in text


def _sign_off_fingerprints(session_ids) -> dict[int, list[str]]:
    events = AuditEvent.objects.filter(
        action=AuditAction.JURY_SIGNED_OFF,
        target_type=ContentType.objects.get_for_model(JurySession, for_concrete_model=False),
        target_id__in=[str(pk) for pk in session_ids],
    ).only("target_id", "after")
    found = defaultdict(list)
    for event in events:
        found[int(event.target_id)].append((event.after or {}).get("fingerprint", ""))
    return found


def _check_rectifications(session_ids, results: dict[int, SessionIntegrity]) -> None:
    rectifications = list(
        Rectification.objects.filter(decision__presentation__session_id__in=session_ids).select_related(
            "decision__block", "decision__presentation__enrolment__candidate"
        )
    )
    if not rectifications:
        return
    traces = {}
    for event in AuditEvent.objects.filter(
        action=AuditAction.JURY_DECISION_RECTIFIED,
        target_type=ContentType.objects.get_for_model(Decision, for_concrete_model=False),
        target_id__in=[str(r.decision_id) for r in rectifications],
    ).only("after"):
        traces[(event.after or {}).get("rectification")] = event.after
    for rectification in rectifications:
        decision = rectification.decision
        item = results[decision.presentation.session_id]
        item.rectifications_checked += 1
        trace = traces.get(rectification.pk)
        who = (
            f"la rectification du bloc {decision.block.number} de {decision.presentation.enrolment.candidate.full_name}"
        )
        if trace is None:
            item.fingerprint_problems.append(f"{who} n'a pas de trace d'audit de sa signature.")
        elif (trace.get("outcome"), trace.get("reason")) != (rectification.outcome, rectification.reason):
            item.fingerprint_problems.append(
                f"{who} ne dit plus ce qui a été signé (décision ou motif différent de sa trace d'audit)."
            )


def _check_documents(session_ids, results: dict[int, SessionIntegrity]) -> None:
    documents = IssuedDocument.objects.filter(session_id__in=session_ids).only(
        "pk", "session_id", "kind", "title", "verification_code", "sha256", "pdf"
    )
    minutes_ok = []
    for document, computed in with_digest(documents.order_by("session_id", "pk"), "pdf"):
        item = results[document.session_id]
        item.documents_checked += 1
        if computed != document.sha256:
            item.document_problems.append(
                f"le document « {document.title} » (code {document.grouped_code}) ne correspond plus à son "
                f"empreinte SHA-256 : enregistrée {short_digest(document.sha256)}, recalculée {short_digest(computed)}."
            )
        elif document.kind == DocumentKind.MINUTES:
            minutes_ok.append(document.pk)
    for minutes in IssuedDocument.objects.filter(pk__in=minutes_ok).only(
        "pk", "session_id", "verification_code", "pdf"
    ):
        item = results[minutes.session_id]
        item.minutes_checked += 1
        if not printed_fingerprint_matches(bytes(minutes.pdf), item.session.decisions_fingerprint):
            item.fingerprint_problems.append(
                f"le procès-verbal (code {minutes.grouped_code}) n'imprime pas l'empreinte enregistrée à la signature."
            )


def integrity_report(*, sessions=None) -> IntegrityReport:
    """Check the given signed sessions (every signed session when `sessions` is None)."""
    if sessions is None:
        sessions = JurySession.objects.filter(status=JurySessionStatus.SIGNED).select_related("certification")
    sessions = [session for session in sessions if session.status == JurySessionStatus.SIGNED]
    results = {session.pk: SessionIntegrity(session=session) for session in sessions}
    ids = list(results)
    report = IntegrityReport(sessions=list(results.values()))
    if ids:
        decisions = defaultdict(list)
        for decision in Decision.objects.filter(presentation__session_id__in=ids).select_related(
            "block", "block_evaluation__grid", "block_evaluation__scale", "presentation__enrolment"
        ):
            decisions[decision.presentation.session_id].append(decision)
        traces = _sign_off_fingerprints(ids)
        for pk, item in results.items():
            stored = item.session.decisions_fingerprint
            computed = decisions_fingerprint(item.session, decisions[pk])
            if computed != stored:
                item.fingerprint_problems.append(
                    f"l'empreinte des décisions recalculée ({short_digest(computed)}) ne correspond pas à celle enregistrée "
                    f"à la signature ({short_digest(stored)}) : la session ou ses décisions ont changé depuis."
                )
            if not traces[pk]:
                item.fingerprint_problems.append("la signature n'a pas de trace d'audit.")
            elif stored not in traces[pk]:
                item.fingerprint_problems.append(
                    "l'empreinte enregistrée sur la session n'est pas celle que la trace d'audit de la signature a "
                    f"retenue ({short_digest(traces[pk][0])})."
                )
        _check_rectifications(ids, results)
        _check_documents(ids, results)
    return report
