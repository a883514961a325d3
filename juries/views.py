"""Jury pages. Staff prepare sessions (composition, candidates); the president deliberates and signs off.

Every change goes through juries.services (validated, audited, refused once the session is signed).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from candidates.models import Enrolment
from certif.models import Certification
from certif.roles import Role, roles_of
from certif.rules import Outcome
from certif.security import check_signature_password
from certif.validation import show_errors
from evaluation.views import OUTCOME_BADGES
from juries import selectors, services
from juries.composition import panel_problem
from juries.forms import MemberForm, RectificationForm, RecusalForm, SessionForm, SignOffForm
from juries.integrity import integrity_report
from juries.models import (
    Decision,
    DocumentStatus,
    IssuedDocument,
    JuryMember,
    JurySession,
    Presentation,
    Rectification,
    Recusal,
)


def _roles(request):
    roles = roles_of(request.user)
    if Role.STAFF not in roles and Role.PRESIDENT not in roles:
        raise PermissionDenied("Les jurys concernent les gestionnaires et les présidents de jury.")
    return roles


def _session(request, pk, *, staff_only=False) -> JurySession:
    roles = _roles(request)
    if staff_only and Role.STAFF not in roles:
        raise PermissionDenied("Seuls les gestionnaires préparent les sessions de jury.")
    queryset = JurySession.objects.visible_to(request.user).select_related(
        "certification__jury_rule", "signed_by", "created_by"
    )
    return get_object_or_404(queryset, pk=pk)


def _presides(members, user) -> bool:
    """Is `user` the account linked to the president among these members of a session?"""
    return any(member.is_president and member.user_id == user.pk for member in members)


def _posted_id(request, name: str) -> int | None:
    """The id a form posted under `name`, or None (then 404) when it is missing or not a number."""
    value = request.POST.get(name, "")
    return int(value) if value.isdecimal() and len(value) < 19 else None


def _refuse_signed(request, session):
    """A change posted to a signed session: nothing changes, the page says why."""
    messages.error(request, services.SIGNED_MESSAGE)
    return redirect("juries:detail", pk=session.pk)


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _form_page(request, *, title, form, session=None, intro="", submit="Enregistrer", status=200):
    breadcrumb = [(reverse("juries:list"), "Jurys")]
    if session is not None:
        breadcrumb.append((reverse("juries:detail", args=[session.pk]), str(session)))
    return render(
        request,
        "form_page.html",
        {
            "title": title,
            "form": form,
            "breadcrumb": breadcrumb,
            "intro": intro,
            "submit": submit,
            "cancel_url": reverse("juries:detail", args=[session.pk]) if session else reverse("juries:list"),
        },
        status=status,
    )


# — Sessions —


def session_list(request):
    roles = _roles(request)
    sessions = list(
        JurySession.objects.visible_to(request.user)
        .select_related("certification__jury_rule", "signed_by")
        .prefetch_related("blocks", "members", "presentations")
    )
    rows = [
        {
            "session": session,
            "violations": selectors.session_violations(session, list(session.members.all())),
            "candidates": len(session.presentations.all()),
        }
        for session in sessions
    ]
    return render(request, "juries/session_list.html", {"rows": rows, "can_prepare": Role.STAFF in roles})


def session_create(request):
    if Role.STAFF not in _roles(request):
        raise PermissionDenied("Seuls les gestionnaires préparent les sessions de jury.")
    certification = Certification.objects.get(rncp_code="16204")
    form = SessionForm(request.POST or None, certification=certification)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.jury_session_create(certification=certification, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Session de jury créée : {session}. Composez maintenant le jury.")
            _warn_registration(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Préparer une session de jury",
        form=form,
        intro="La fiche impose la composition du jury : 50 % de professionnels (salariés et employeurs à parts "
        "égales), 50 % de formateurs, un président professionnel.",
        submit="Créer la session",
        status=400 if request.method == "POST" else 200,
    )


def _warn_registration(request, session):
    """Outside every registration period: said at once, on the page that follows the save."""
    problem = selectors.registration_problem(session)
    if problem:
        messages.warning(request, f"Attention : {problem}")


def session_edit(request, pk):
    session = _session(request, pk, staff_only=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    presented = session.presentations.exists()
    initial = {"date": session.date, "place": session.place, "blocks": list(session.blocks.all())}
    form = SessionForm(
        request.POST or None, initial=initial, certification=session.certification, date_locked=presented
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.jury_session_update(session=session, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Session de jury modifiée.")
            session.refresh_from_db()
            _warn_registration(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Modifier la session",
        form=form,
        session=session,
        intro="Des candidats sont présentés : la date ne se déplace qu'avec un motif, tracé dans le journal d'audit."
        if presented
        else "",
        status=400 if request.method == "POST" else 200,
    )


def _presentations(session):
    return list(
        Presentation.objects.filter(session=session)
        .select_related("enrolment__candidate", "enrolment__cohort__pathway")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related(
                    "block", "decided_by", "block_evaluation__grid", "block_evaluation__scale"
                )
                .prefetch_related(
                    Prefetch("rectifications", queryset=Rectification.objects.select_related("signed_by"))
                )
                .order_by("block__number"),
            ),
            Prefetch("recusals", queryset=Recusal.objects.select_related("member").order_by("member__name", "source")),
        )
    )


def _panel_rows(session, members, presentations):
    """Each presentation with the members who deliberate on that candidate and, when broken, why."""
    panels = selectors.presentation_panels(session, members, presentations)
    base_ok = not selectors.session_violations(session, members)
    rows = []
    for presentation in presentations:
        panel = panels[presentation.pk]
        rows.append(
            {
                "presentation": presentation,
                "panel": panel,
                "problem": panel_problem(presentation.enrolment.candidate.full_name, panel) if base_ok else "",
            }
        )
    return rows


def session_detail(request, pk):
    roles = _roles(request)
    session = _session(request, pk)
    members = list(session.members.select_related("user"))
    violations = selectors.session_violations(session, members)
    presentations = _presentations(session)
    return render(
        request,
        "juries/session_detail.html",
        {
            "session": session,
            "blocks": list(session.blocks.order_by("number")),
            "members": members,
            "violations": violations,
            "presentations": presentations,
            "panel_rows": _panel_rows(session, members, presentations),
            "dates": selectors.session_date_facts(session, presented=bool(presentations)),
            "can_prepare": Role.STAFF in roles and not session.is_signed,
            "is_staff": Role.STAFF in roles,
            "problems": [] if session.is_signed else selectors.sign_off_problems(session),
            "is_session_president": _presides(members, request.user),
            "valid_documents": (
                IssuedDocument.objects.filter(session=session, status=DocumentStatus.VALID).count()
                if session.is_signed
                else None
            ),
            "integrity": integrity_report(sessions=[session]).sessions[0] if session.is_signed else None,
        },
    )


# — Members —


def member_edit(request, pk, member_pk=None):
    session = _session(request, pk, staff_only=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    member = get_object_or_404(JuryMember, pk=member_pk, session=session) if member_pk else JuryMember(session=session)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            violations = services.jury_member_save(member=form.instance, actor=request.user)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Membre enregistré : {form.instance.name}.")
            if violations:
                messages.warning(request, "Composition non conforme à la fiche : " + " ".join(violations))
            else:
                messages.success(request, "La composition du jury respecte la fiche.")
                _warn_panels(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Modifier un membre du jury" if member_pk else "Ajouter un membre du jury",
        form=form,
        session=session,
        intro="Un membre est un professionnel salarié, un professionnel employeur ou un formateur. Le président "
        "est un professionnel titulaire, relié à son compte utilisateur pour signer. Un suppléant ne délibère que pour "
        "remplacer, sur un candidat, un titulaire de sa catégorie qui ne délibère pas sur ce candidat.",
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def member_remove(request, pk, member_pk):
    session = _session(request, pk, staff_only=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    member = get_object_or_404(JuryMember, pk=member_pk, session=session)
    violations = services.jury_member_remove(member=member, actor=request.user)
    messages.success(request, f"{member.name} a été retiré du jury.")
    if violations:
        messages.warning(request, "Composition non conforme à la fiche : " + " ".join(violations))
    else:
        _warn_panels(request, session)
    return redirect("juries:detail", pk=session.pk)


def _warn_panels(request, session):
    for problem in selectors.panel_problems(session).values():
        messages.warning(request, problem)


# — Candidates —


def presentations(request, pk):
    session = _session(request, pk, staff_only=True)
    if request.method == "POST":
        if session.is_signed:
            return _refuse_signed(request, session)
        enrolment = get_object_or_404(
            Enrolment.objects.select_related("candidate", "cohort__pathway"), pk=_posted_id(request, "enrolment")
        )
        try:
            services.presentation_add(session=session, enrolment=enrolment, actor=request.user)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, f"{enrolment.candidate.full_name} est présenté au jury.")
        return redirect("juries:presentations", pk=session.pk)
    items = [] if session.is_signed else selectors.eligibilities(session)
    return render(
        request,
        "juries/presentations.html",
        {
            "session": session,
            "eligible": [item for item in items if item.eligible],
            "ineligible": [item for item in items if not item.eligible],
            "presented": _presentations(session),
        },
    )


@require_POST
def presentation_remove(request, pk, presentation_pk):
    session = _session(request, pk, staff_only=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    presentation = get_object_or_404(
        Presentation.objects.select_related("enrolment__candidate"), pk=presentation_pk, session=session
    )
    services.presentation_remove(presentation=presentation, actor=request.user)
    messages.success(request, f"{presentation.enrolment.candidate.full_name} n'est plus présenté à cette session.")
    return redirect("juries:presentations", pk=session.pk)


def recusal_add(request, pk):
    session = _session(request, pk, staff_only=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    form = RecusalForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            services.recusal_declare(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Lien déclaré : ce membre ne délibérera pas sur ce candidat.")
            _warn_panels(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Déclarer un lien avec un candidat",
        form=form,
        session=session,
        intro="Un membre lié à un candidat ne délibère pas sur ce candidat ; la page et le procès-verbal le mentionnent.",
        status=400 if request.method == "POST" else 200,
    )


# — Deliberation, sign-off, rectification —


def _deliberation_rows(presentations, posted=None, panels=None):
    rows = []
    for presentation in presentations:
        cells = []
        for decision in presentation.decisions.all():
            key = f"d-{decision.pk}"
            outcome = (posted or {}).get(f"{key}-outcome") or decision.outcome or decision.proposal_outcome
            reason = (posted or {}).get(f"{key}-reason", decision.departure_reason)
            cells.append(
                {
                    "decision": decision,
                    "key": key,
                    "outcome": outcome,
                    "reason": reason,
                    "proposal_label": Outcome(decision.proposal_outcome).label,
                    "badge": OUTCOME_BADGES[decision.proposal_outcome],
                    "rectifications": list(decision.rectifications.all()),
                    "current_label": Outcome(decision.current_outcome).label if decision.current_outcome else "",
                }
            )
        panel = (panels or {}).get(presentation.pk)
        rows.append(
            {
                "presentation": presentation,
                "cells": cells,
                "recusals": list(presentation.recusals.all()),
                "panel": panel,
                "problem": panel_problem(presentation.enrolment.candidate.full_name, panel) if panel else "",
            }
        )
    return rows


def deliberation(request, pk):
    _roles(request)
    session = _session(request, pk)
    members = list(session.members.select_related("user"))
    is_president = _presides(members, request.user)
    violations = selectors.session_violations(session, members)
    posted, errors = None, []
    if request.method == "POST":
        if not is_president:
            raise PermissionDenied("Seul le président du jury enregistre les décisions.")
        if session.is_signed:
            return _refuse_signed(request, session)
        entries = []
        for name in request.POST:
            if name.startswith("d-") and name.endswith("-outcome"):
                try:
                    decision_id = int(name[2 : -len("-outcome")])
                except ValueError:
                    return HttpResponseBadRequest("Champ de décision inconnu.")
                entries.append(
                    services.DecisionInput(
                        decision_id=decision_id,
                        outcome=request.POST[name],
                        reason=request.POST.get(f"d-{decision_id}-reason", ""),
                    )
                )
        try:
            changed = services.decisions_record(session=session, entries=entries, actor=request.user)
        except ValidationError as error:
            errors, posted = error.messages, request.POST
        else:
            messages.success(
                request,
                f"Décisions enregistrées ({changed} modifiée{'s' if changed > 1 else ''})."
                if changed
                else "Décisions enregistrées : aucune modification.",
            )
            return redirect("juries:deliberation", pk=session.pk)
    presentations = _presentations(session)
    panels = {} if violations else selectors.presentation_panels(session, members, presentations)
    return render(
        request,
        "juries/deliberation.html",
        {
            "session": session,
            "blocks": list(session.blocks.order_by("number")),
            "members": members,
            "violations": violations,
            "rows": _deliberation_rows(presentations, posted, panels),
            "editable": is_president and not session.is_signed and not violations,
            "is_president": is_president,
            "errors": errors,
            "outcomes": [(Outcome.VALIDATED.value, "Validé"), (Outcome.NOT_VALIDATED.value, "Non validé")],
        },
        status=400 if errors else 200,
    )


def sign_off(request, pk):
    _roles(request)
    session = _session(request, pk)
    members = list(session.members.select_related("user"))
    is_president = _presides(members, request.user)
    if not is_president:
        raise PermissionDenied("Seul le président du jury signe la session.")
    if session.is_signed:
        messages.info(request, f"Cette session a déjà été signée le {session.signed_at:%d/%m/%Y}.")
        return redirect("juries:detail", pk=session.pk)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check_signature_password(request=request, user=request.user, password=form.cleaned_data["password"])
            result = services.jury_session_sign_off(session=session, signed_by=request.user)
        except ValidationError as error:
            show_errors(form, error)
        else:
            awards = ", ".join(award.number for award in result.awards)
            messages.success(
                request,
                f"Session signée : les décisions sont définitives. Blocs acquis ajoutés : {result.acquired}."
                + (f" Certification délivrée : {awards}." if awards else ""),
            )
            return redirect("juries:detail", pk=session.pk)
    return render(
        request,
        "juries/sign_off.html",
        {
            "session": session,
            "form": form,
            "problems": selectors.sign_off_problems(session),
            "dates": selectors.session_date_facts(session, presented=session.presentations.exists()),
        },
        status=400 if request.method == "POST" else 200,
    )


def rectify(request, pk, decision_pk):
    _roles(request)
    session = _session(request, pk)
    decision = get_object_or_404(
        Decision.objects.select_related("block", "presentation__enrolment__candidate").prefetch_related(
            "rectifications"
        ),
        pk=decision_pk,
        presentation__session=session,
    )
    if not _presides(session.members.all(), request.user):
        raise PermissionDenied("Seul le président du jury signe une rectification.")
    if not session.is_signed:
        messages.error(request, "La session n'est pas signée : modifiez la décision sur la page de délibération.")
        return redirect("juries:deliberation", pk=session.pk)
    form = RectificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check_signature_password(request=request, user=request.user, password=form.cleaned_data["password"])
            services.decision_rectify(
                decision=decision,
                outcome=form.cleaned_data["outcome"],
                reason=form.cleaned_data["reason"],
                signed_by=request.user,
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, "Rectification signée : la décision d'origine reste visible.")
            return redirect("juries:deliberation", pk=session.pk)
    candidate = decision.presentation.enrolment.candidate
    return _form_page(
        request,
        title=f"Rectifier la décision : {candidate.full_name}, bloc {decision.block.number}",
        form=form,
        session=session,
        intro=f"Décision signée : {decision.get_outcome_display()} (proposition : "
        f"{decision.get_proposal_outcome_display()}). Une rectification est un nouvel acte, motivé et signé par le "
        "président ; la décision d'origine reste visible.",
        submit="Signer la rectification",
        status=400 if request.method == "POST" else 200,
    )
