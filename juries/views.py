"""Jury pages. Staff prepare sessions (composition, candidates); the president deliberates and signs off.

Every change goes through juries.services (validated, audited, refused once the session is signed).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from candidates.models import Enrolment
from certif.audit import audit_trail_of
from certif.audit_display import describe_events
from certif.badges import OUTCOME_BADGES
from certif.collation import french
from certif.permissions import is_session_president, is_staff
from certif.rules import Outcome
from certif.security import check_signature_password
from certif.selectors import certification_filter, certifications_in_force_first
from certif.sorting import SortColumn, TableSort
from certif.text import counted
from certif.validation import apply_service
from certif.views_helpers import apply_service_message, confirmation_page, form_page, is_confirmed, require
from juries import selectors, services
from juries.composition import panel_problem
from juries.forms import (
    MemberForm,
    RectificationForm,
    RecusalForm,
    SessionCertificationForm,
    SessionForm,
    SignOffForm,
)
from juries.models import (
    Decision,
    JuryMember,
    JurySession,
    Presentation,
    Rectification,
    Recusal,
)


def _session(request, pk, *, prepare=False, with_members=False) -> JurySession:
    """The session, among those the user sees (404 for a president's other sessions); 403 to anyone else, and to
    anyone but staff when the page prepares it. `with_members`: its members (and their accounts) come along, which
    the president's rules read."""
    require(request.user, "juries.list_jurysession")
    if prepare:
        require(request.user, "juries.prepare_jurysession")
    queryset = JurySession.objects.visible_to(request.user).select_related(
        "certification__jury_rule", "signed_by", "created_by"
    )
    if with_members:
        queryset = queryset.prefetch_related(Prefetch("members", queryset=JuryMember.objects.select_related("user")))
    return get_object_or_404(queryset, pk=pk)


def _posted_id(request, name: str) -> int | None:
    """The id a form posted under `name`, or None (then 404) when it is missing or not a number."""
    value = request.POST.get(name, "")
    return int(value) if value.isdecimal() and len(value) < 19 else None


def _refuse_signed(request, session):
    """A change posted to a signed session: nothing changes, the page says why."""
    messages.error(request, services.SIGNED_MESSAGE)
    return redirect("juries:detail", pk=session.pk)


def _form_page(request, *, title, form, session=None, intro="", submit="Enregistrer"):
    breadcrumb = [(reverse("juries:list"), "Jurys")]
    if session is not None:
        breadcrumb.append((reverse("juries:detail", args=[session.pk]), str(session)))
    cancel_url = reverse("juries:detail", args=[session.pk]) if session else reverse("juries:list")
    return form_page(
        request, title=title, form=form, breadcrumb=breadcrumb, intro=intro, submit=submit, cancel_url=cancel_url
    )


# — Sessions —


_presented_count = (
    Presentation.objects.filter(session=OuterRef("pk")).order_by().values("session").annotate(n=Count("pk")).values("n")
)
SESSION_COLUMNS = (
    SortColumn("date", "Date", ("date",)),
    SortColumn("certification", "Certification", ("certification__rncp_code",)),
    SortColumn("lieu", "Lieu", (french("place"),)),
    SortColumn("candidats", "Candidats", (Coalesce(Subquery(_presented_count), 0),)),
)


def session_list(request):
    require(request.user, "juries.list_jurysession")
    certification, certifications = certification_filter(request)
    sort = TableSort(request, SESSION_COLUMNS, default="-date", tie_break=("-pk",))  # newest first, as before
    sessions = sort.order_by(
        JurySession.objects.visible_to(request.user)
        .select_related("certification__jury_rule", "signed_by")
        .prefetch_related("blocks", "members", "presentations")
    )
    if certification is not None:
        sessions = sessions.filter(certification=certification)
    sessions = list(sessions)
    rows = [
        {
            "session": session,
            "violations": selectors.session_violations(session, list(session.members.all())),
            "candidates": len(session.presentations.all()),
        }
        for session in sessions
    ]
    return render(
        request,
        "juries/session_list.html",
        {"rows": rows, "certification": certification, "certifications": certifications, "sort": sort},
    )


def session_create(request):
    require(request.user, "juries.list_jurysession")
    require(request.user, "juries.prepare_jurysession")
    # A session examines one certification: chosen first (`?certification=`), implied when a single one is installed.
    certifications = certifications_in_force_first()
    chosen = SessionCertificationForm(
        request.GET if "certification" in request.GET else None, certifications=certifications
    )
    if chosen.is_valid():
        certification = chosen.cleaned_data["certification"]
    elif len(certifications) == 1 and not chosen.is_bound:
        certification = certifications[0]
    else:
        return render(
            request,
            "juries/session_certification.html",
            {"form": chosen},
            status=400 if chosen.is_bound else 200,
        )
    form = SessionForm(request.POST or None, certification=certification)
    if request.method == "POST" and form.is_valid():
        done, session = apply_service(
            form,
            lambda: services.jury_session_create(certification=certification, actor=request.user, **form.cleaned_data),
        )
        if done:
            messages.success(request, f"Session de jury créée : {session}. Composez maintenant le jury.")
            _warn_registration(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title=f"Préparer une session de jury — {certification.display_name}",
        form=form,
        intro="La fiche impose la composition du jury : 50 % de professionnels (salariés et employeurs à parts "
        "égales), 50 % de formateurs, un président professionnel.",
        submit="Créer la session",
    )


def _warn_registration(request, session):
    """Outside every registration period: said at once, on the page that follows the save."""
    problem = selectors.registration_problem(session)
    if problem:
        messages.warning(request, f"Attention : {problem}")


def session_edit(request, pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    presented = session.presentations.exists()
    initial = {"date": session.date, "place": session.place, "blocks": list(session.blocks.all())}
    form = SessionForm(
        request.POST or None, initial=initial, certification=session.certification, date_locked=presented
    )
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form, lambda: services.jury_session_update(session=session, actor=request.user, **form.cleaned_data)
        )
        if done:
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
            Prefetch(
                "recusals", queryset=Recusal.objects.select_related("member").order_by(french("member__name"), "source")
            ),
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


def _member_removal(member, *, restorable) -> dict:
    """The question asked before a member is removed, and what it does."""
    body = (
        f"{member.name} ne fera plus partie du jury : la composition et le jury qui délibère sur chaque candidat "
        "sont recalculés sans lui. "
    )
    if restorable:
        body += "Ses liens déclarés avec des candidats sont conservés : vous pourrez le rétablir tant que la "
        body += "délibération n'a pas commencé."
    else:
        body += "La délibération a commencé : ce retrait ne pourra pas être annulé."
    return {"title": f"Retirer {member.name} du jury ?", "body": body, "action": "Retirer du jury"}


def _presentation_removal(presentation, *, restorable) -> dict:
    """The question asked before a presented candidate is removed, and what it does."""
    name = presentation.enrolment.candidate.full_name
    body = f"{name} ne sera plus présenté à ce jury : ses blocs ne seront ni délibérés ni signés dans cette session. "
    if restorable:
        body += "Ses décisions et les liens déclarés avec les membres sont conservés : vous pourrez le rétablir tant "
        body += "que la délibération n'a pas commencé."
    else:
        body += "La délibération a commencé : ses décisions ne compteront plus et ce retrait ne pourra pas être annulé."
    return {"title": f"Retirer {name} de la session ?", "body": body, "action": "Retirer de la session"}


def _removed_members(session):
    return list(
        JuryMember.all_objects.filter(session=session, removed_at__isnull=False)
        .select_related("removed_by")
        .order_by("-removed_at", "pk")
    )


def _removed_presentations(session):
    return list(
        Presentation.all_objects.filter(session=session, removed_at__isnull=False)
        .select_related("enrolment__candidate", "enrolment__cohort", "removed_by")
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.all_objects.select_related("block").order_by("block__number"))
        )
        .order_by("-removed_at", "pk")
    )


def session_detail(request, pk):
    session = _session(request, pk, with_members=True)
    members = list(session.members.all())
    presentations = _presentations(session)
    restorable = not session.is_signed and not selectors.deliberation_started(session)
    for member in members:
        member.removal = _member_removal(member, restorable=restorable)
    for presentation in presentations:
        presentation.removal = _presentation_removal(presentation, restorable=restorable)
    return render(
        request,
        "juries/session_detail.html",
        {
            "session": session,
            "blocks": list(session.blocks.order_by("number")),
            "members": members,
            "violations": selectors.session_violations(session, members),
            "presentations": presentations,
            "panel_rows": _panel_rows(session, members, presentations),
            "dates": selectors.session_date_facts(session, presented=bool(presentations)),
            "problems": [] if session.is_signed else selectors.sign_off_problems(session),
            "removed_members": _removed_members(session),
            "removed_presentations": _removed_presentations(session),
            "restorable": restorable,
            "is_session_president": is_session_president(request.user, session),
            "history": _session_history(session)
            if is_staff(request.user) or is_session_president(request.user, session)
            else [],
        },
    )


SESSION_HISTORY_LENGTH = 100


def _session_history(session):
    """What was done to the session and its decisions (members, presentations and recusals are traced on the
    session itself), newest first, readable."""
    events = audit_trail_of(targets=[session], querysets=[Decision.objects.filter(presentation__session=session)])
    return describe_events(events[:SESSION_HISTORY_LENGTH])


# — Members —


def member_edit(request, pk, member_pk=None):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    member = get_object_or_404(JuryMember, pk=member_pk, session=session) if member_pk else JuryMember(session=session)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        done, violations = apply_service(
            form, lambda: services.jury_member_save(member=form.instance, actor=request.user)
        )
        if done:
            messages.success(request, f"Membre enregistré : {form.instance.name}.")
            _tell_composition(request, session, violations, conform="La composition du jury respecte la fiche.")
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Modifier un membre du jury" if member_pk else "Ajouter un membre du jury",
        form=form,
        session=session,
        intro="Un membre est un professionnel salarié, un professionnel employeur ou un formateur. Le président "
        "est un professionnel titulaire, relié à son compte utilisateur pour signer. Un suppléant ne délibère que pour "
        "remplacer, sur un candidat, un titulaire de sa catégorie qui ne délibère pas sur ce candidat.",
    )


@require_POST
def member_remove(request, pk, member_pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    member = get_object_or_404(JuryMember, pk=member_pk, session=session)
    if not is_confirmed(request):
        return _confirmation(
            request, session, _member_removal(member, restorable=not selectors.deliberation_started(session))
        )
    done, violations = apply_service_message(
        request, lambda: services.jury_member_remove(member=member, actor=request.user)
    )
    if done:
        messages.success(request, f"{member.name} a été retiré du jury.")
        _tell_composition(request, session, violations)
    return redirect("juries:detail", pk=session.pk)


@require_POST
def member_restore(request, pk, member_pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    member = get_object_or_404(JuryMember.all_objects, pk=member_pk, session=session, removed_at__isnull=False)
    done, violations = apply_service_message(
        request, lambda: services.jury_member_restore(member=member, actor=request.user)
    )
    if done:
        messages.success(request, f"{member.name} fait de nouveau partie du jury.")
        _tell_composition(request, session, violations)
    return redirect("juries:detail", pk=session.pk)


def _return_url(request, session) -> str:
    """Back where « Retirer » or « Rétablir » was pressed: the candidates page, or else the session page."""
    candidates_url = reverse("juries:presentations", args=[session.pk])
    return candidates_url if request.POST.get("next") == candidates_url else reverse("juries:detail", args=[session.pk])


def _confirmation(request, session, question):
    detail = reverse("juries:detail", args=[session.pk])
    return confirmation_page(
        request,
        **question,
        cancel_url=_return_url(request, session),
        breadcrumb=[(reverse("juries:list"), "Jurys"), (detail, str(session))],
    )


def _tell_composition(request, session, violations, *, conform=""):
    """After a change of the members: what the fiche refuses in the composition, else each broken panel."""
    if violations:
        messages.warning(request, "Composition non conforme à la fiche : " + " ".join(violations))
        return
    if conform:
        messages.success(request, conform)
    _warn_panels(request, session)


def _warn_panels(request, session):
    for problem in selectors.panel_problems(session).values():
        messages.warning(request, problem)


# — Candidates —


def presentations(request, pk):
    session = _session(request, pk, prepare=True)
    if request.method == "POST":
        if session.is_signed:
            return _refuse_signed(request, session)
        if "all" in request.POST:
            done, presented = apply_service_message(
                request, lambda: services.presentations_add_eligible(session=session, actor=request.user)
            )
            if done and presented:
                messages.success(request, f"{counted(len(presented), 'candidat présenté', 'candidats présentés')}.")
            elif done:
                messages.info(request, "Aucun candidat n'était présentable : personne n'a été présenté.")
            return redirect("juries:presentations", pk=session.pk)
        enrolment = get_object_or_404(
            Enrolment.objects.select_related("candidate", "cohort__pathway"), pk=_posted_id(request, "enrolment")
        )
        done, _ = apply_service_message(
            request, lambda: services.presentation_add(session=session, enrolment=enrolment, actor=request.user)
        )
        if done:
            messages.success(request, f"{enrolment.candidate.full_name} est présenté au jury.")
        return redirect("juries:presentations", pk=session.pk)
    items = [] if session.is_signed else selectors.eligibilities(session)
    presented = _presentations(session)
    restorable = not session.is_signed and not selectors.deliberation_started(session)
    for presentation in presented:
        presentation.removal = _presentation_removal(presentation, restorable=restorable)
    return render(
        request,
        "juries/presentations.html",
        {
            "session": session,
            "eligible": [item for item in items if item.eligible],
            "ineligible": [item for item in items if not item.eligible],
            "presented": presented,
            "removed_presentations": [] if session.is_signed else _removed_presentations(session),
            "restorable": restorable,
        },
    )


@require_POST
def presentation_remove(request, pk, presentation_pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    presentation = get_object_or_404(
        Presentation.objects.select_related("enrolment__candidate"), pk=presentation_pk, session=session
    )
    if not is_confirmed(request):
        return _confirmation(
            request,
            session,
            _presentation_removal(presentation, restorable=not selectors.deliberation_started(session)),
        )
    done, _ = apply_service_message(
        request, lambda: services.presentation_remove(presentation=presentation, actor=request.user)
    )
    if done:
        messages.success(request, f"{presentation.enrolment.candidate.full_name} n'est plus présenté à cette session.")
    return redirect(_return_url(request, session))


@require_POST
def presentation_restore(request, pk, presentation_pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    presentation = get_object_or_404(
        Presentation.all_objects.select_related("enrolment__candidate"),
        pk=presentation_pk,
        session=session,
        removed_at__isnull=False,
    )
    done, _ = apply_service_message(
        request, lambda: services.presentation_restore(presentation=presentation, actor=request.user)
    )
    if done:
        messages.success(
            request,
            f"{presentation.enrolment.candidate.full_name} est de nouveau présenté à cette session, avec ses "
            "décisions et ses liens.",
        )
    return redirect(_return_url(request, session))


def recusal_add(request, pk):
    session = _session(request, pk, prepare=True)
    if session.is_signed:
        return _refuse_signed(request, session)
    form = RecusalForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(form, lambda: services.recusal_declare(actor=request.user, **form.cleaned_data))
        if done:
            messages.success(request, "Lien déclaré : ce membre ne délibérera pas sur ce candidat.")
            _warn_panels(request, session)
            return redirect("juries:detail", pk=session.pk)
    return _form_page(
        request,
        title="Déclarer un lien avec un candidat",
        form=form,
        session=session,
        intro="Un membre lié à un candidat ne délibère pas sur ce candidat ; la page et le procès-verbal le mentionnent.",
    )


# — Deliberation, sign-off, rectification —


def _deliberation_rows(presentations, blocks, posted=None, panels=None):
    rows = []
    for presentation in presentations:
        panel = (panels or {}).get(presentation.pk)
        cells = {
            decision.block_id: _deliberation_cell(decision, posted or {}) for decision in presentation.decisions.all()
        }
        rows.append(
            {
                "presentation": presentation,
                # One place per block of the session, in the table's column order (None: block not examined).
                "columns": [cells.get(block.pk) for block in blocks],
                "recusals": list(presentation.recusals.all()),
                "panel": panel,
                "problem": panel_problem(presentation.enrolment.candidate.full_name, panel) if panel else "",
            }
        )
    return rows


DECISION_STATE_LABELS = {
    "saved": "Enregistré",
    "undecided": "À décider — non enregistré",
    "changed": "Modifié — non enregistré",
}


def _decision_state(decision, outcome: str, reason: str) -> str:
    """What the page says of a cell: saved as shown, a suggestion not yet decided, or a change not yet saved."""
    if decision.outcome:
        saved = (outcome, reason.strip()) == (decision.outcome, decision.departure_reason)
        return "saved" if saved else "changed"
    return "undecided" if outcome == decision.proposal_outcome and not reason.strip() else "changed"


def _deliberation_cell(decision, posted) -> dict:
    """One decision on the deliberation page: what was posted and refused, else what is stored or proposed."""
    key = f"d-{decision.pk}"
    outcome = posted.get(f"{key}-outcome") or decision.outcome or decision.proposal_outcome
    reason = posted.get(f"{key}-reason", decision.departure_reason)
    state = _decision_state(decision, outcome, reason)
    return {
        "decision": decision,
        "key": key,
        "outcome": outcome,
        "reason": reason,
        "state": state,
        "state_label": DECISION_STATE_LABELS[state],
        "proposal_label": Outcome(decision.proposal_outcome).label,
        "badge": OUTCOME_BADGES[decision.proposal_outcome],
        "rectifications": list(decision.rectifications.all()),
        "current_label": Outcome(decision.current_outcome).label if decision.current_outcome else "",
    }


def _decision_states(rows) -> dict:
    states = [cell["state"] for row in rows if not row["problem"] for cell in row["columns"] if cell]
    return {"total": len(states), **{state: states.count(state) for state in DECISION_STATE_LABELS}}


def _posted_decisions(post) -> list[services.DecisionInput] | None:
    """The decisions a deliberation form posted; None when a field names no decision (a forged form)."""
    entries = []
    for name in post:
        if not (name.startswith("d-") and name.endswith("-outcome")):
            continue
        try:
            decision_id = int(name[2 : -len("-outcome")])
        except ValueError:
            return None
        entries.append(
            services.DecisionInput(
                decision_id=decision_id, outcome=post[name], reason=post.get(f"d-{decision_id}-reason", "")
            )
        )
    return entries


def _decisions_saved_message(changed: int) -> str:
    if not changed:
        return "Décisions enregistrées : aucune modification."
    return f"Décisions enregistrées ({counted(changed, 'modifiée', 'modifiées')})."


def deliberation(request, pk):
    session = _session(request, pk, with_members=True)
    may_deliberate = is_session_president(request.user, session)
    posted, errors = None, []
    to_sign_off = request.POST.get("action") == "sign"
    if request.method == "POST":
        require(request.user, "juries.deliberate_jurysession", session)
        if session.is_signed:
            return _refuse_signed(request, session)
        entries = _posted_decisions(request.POST)
        if entries is None:
            return HttpResponseBadRequest("Champ de décision inconnu.")
        try:
            changed = services.decisions_record(session=session, entries=entries, actor=request.user)
        except ValidationError as error:
            errors, posted = error.messages, request.POST
        else:
            messages.success(request, _decisions_saved_message(changed))
            # « Passer à la signature » saves what the page shows first: no choice is left behind unsaved.
            return redirect("juries:sign_off" if to_sign_off else "juries:deliberation", pk=session.pk)
    return _deliberation_page(
        request, session, may_deliberate=may_deliberate, posted=posted, errors=errors, to_sign_off=to_sign_off
    )


def _deliberation_page(request, session, *, may_deliberate, posted, errors, to_sign_off=False):
    members = list(session.members.all())
    violations = selectors.session_violations(session, members)
    presentations = _presentations(session)
    panels = {} if violations else selectors.presentation_panels(session, members, presentations)
    blocks = list(session.blocks.order_by("number"))
    rows = _deliberation_rows(presentations, blocks, posted, panels)
    return render(
        request,
        "juries/deliberation.html",
        {
            "session": session,
            "blocks": blocks,
            "members": members,
            "violations": violations,
            "rows": rows,
            "states": _decision_states(rows),
            "editable": may_deliberate and not session.is_signed and not violations,
            "is_president": may_deliberate,
            "errors": errors,
            "to_sign_off": to_sign_off,
            "outcomes": [(Outcome.VALIDATED.value, "Validé"), (Outcome.NOT_VALIDATED.value, "Non validé")],
        },
        status=400 if errors else 200,
    )


def sign_off(request, pk):
    session = _session(request, pk, with_members=True)
    require(request.user, "juries.sign_jurysession", session)
    if session.is_signed:
        messages.info(request, f"Cette session a déjà été signée le {session.signed_at:%d/%m/%Y}.")
        return redirect("juries:detail", pk=session.pk)
    form = SignOffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, result = apply_service(
            form, lambda: _signed_by_password(request, form, services.jury_session_sign_off, session=session)
        )
        if done:
            awards = ", ".join(award.number for award in result.awards)
            messages.success(
                request,
                f"Session signée : les décisions sont définitives. Blocs acquis ajoutés : {result.acquired}."
                + (f" Certification délivrée : {awards}." if awards else ""),
            )
            return redirect("juries:detail", pk=session.pk)
    decisions = selectors.session_decisions(session)
    blockers = selectors.sign_off_blockers(session, decisions)
    if blockers:
        # Nothing to sign: the password field and the button are disabled (the sign-off refuses anyway).
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "juries/sign_off.html",
        {
            "session": session,
            "form": form,
            "blockers": blockers,
            "recap": selectors.sign_off_recap(session, decisions),
            "dates": selectors.session_date_facts(session, presented=bool(decisions)),
        },
        status=400 if request.method == "POST" else 200,
    )


def _signed_by_password(request, form, service, **arguments):
    """The president's act, once their password (throttled like the login) proves it is them."""
    check_signature_password(request=request, user=request.user, password=form.cleaned_data["password"])
    return service(signed_by=request.user, **arguments)


def rectify(request, pk, decision_pk):
    session = _session(request, pk, with_members=True)
    decision = get_object_or_404(
        Decision.objects.select_related("block", "presentation__enrolment__candidate").prefetch_related(
            "rectifications"
        ),
        pk=decision_pk,
        presentation__session=session,
    )
    require(request.user, "juries.rectify_jurysession", session)
    if not session.is_signed:
        messages.error(request, "La session n'est pas signée : modifiez la décision sur la page de délibération.")
        return redirect("juries:deliberation", pk=session.pk)
    form = RectificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(form, lambda: _rectified(request, form, decision))
        if done:
            messages.success(request, "Rectification signée : la décision d'origine reste visible.")
            return redirect("juries:deliberation", pk=session.pk)
    return _rectification_page(request, form, session, decision)


def _rectified(request, form, decision):
    return _signed_by_password(
        request,
        form,
        services.decision_rectify,
        decision=decision,
        outcome=form.cleaned_data["outcome"],
        reason=form.cleaned_data["reason"],
    )


def _rectification_page(request, form, session, decision):
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
    )
