"""Document pages: a signed session's documents (issue, download, revoke, batch with progress), and the public
verification page reached from the QR code (no login, rate-limited, shows only what the document states).

Permissions: staff see and issue everything; a president downloads the documents of the sessions they preside; a
trainer nothing, unless staff grant them the permission « documents.view_issueddocument » (to the account or a group).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from candidates.models import Candidate
from certif.models import EXAMPLE_FICHE_LABEL
from certif.permissions import may
from certif.ratelimit import allow
from certif.security import PDF_CONTENT_SECURITY_POLICY
from certif.validation import apply_service
from certif.views_helpers import apply_service_message, form_page, require
from documents import selectors as selectors_documents
from documents import services as services
from documents.content import file_name, group_code, normalize_code, session_slots
from documents.forms import CertifierIdentityForm, RevocationForm, VerificationForm
from documents.models import (
    BatchStatus,
    CertifierIdentity,
    DocumentBatch,
    DocumentKind,
    DocumentStatus,
    IssuedDocument,
)
from juries.models import JurySession

BATCH_FIELDS = services.BATCH_BYTES
# What a finished batch gives to download: (field, end of the file name, extension).
BATCH_DOWNLOADS = {
    "zip": ("zip_file", "", "zip"),
    "pdf": ("merged_pdf", "-a-imprimer-recto-verso", "pdf"),
    "certificates": ("certificates_pdf", "-certificats", "pdf"),
}


def _session(request, pk) -> JurySession:
    """The session whose documents the user may see (404 for a president's other sessions, as the jury pages)."""
    require(request.user, "documents.read_documents")
    if may(request.user, "documents.read_all_documents"):
        queryset = JurySession.objects.all()
    else:
        queryset = JurySession.objects.visible_to(request.user)
    return get_object_or_404(queryset.select_related("certification", "signed_by"), pk=pk)


def _batch_json(batch: DocumentBatch | None) -> dict:
    if batch is None:
        return {}
    stalled = selectors_documents.batch_is_stalled(batch)
    data = {
        "id": batch.pk,
        "status": batch.status,
        "status_label": "Interrompu" if stalled else batch.get_status_display(),
        "stalled": stalled,
        "done": batch.done,
        "total": batch.total,
        "percent": batch.percent,
        "finished": batch.is_finished,
        "message": _batch_message(batch),
    }
    if batch.status == BatchStatus.DONE:
        data["zip_url"] = reverse("documents:batch_zip", args=[batch.pk])
        data["pdf_url"] = reverse("documents:batch_pdf", args=[batch.pk])
        if DocumentBatch.objects.filter(pk=batch.pk, certificates_pdf__isnull=False).exists():
            data["certificates_url"] = reverse("documents:batch_certificates", args=[batch.pk])
    return data


# Staff read these words: no process name, no command. What an administrator needs (the `db_worker` service, its
# logs) is on the batch's admin page (documents.admin.DocumentBatchAdmin.diagnostic) and in the README.
SERVICE_STOPPED = "le service qui produit les documents est arrêté ; prévenez l'administrateur de l'application"


def _batch_message(batch: DocumentBatch) -> str:
    waited_long = batch.requested_at < timezone.now() - selectors_documents.STALE_AFTER
    if batch.status == BatchStatus.PENDING and batch.started_at is not None:
        return (
            f"Production interrompue, elle reprendra d'elle-même. Documents déjà prêts, conservés : {batch.done} sur "
            f"{batch.total}."
            + (f" Si rien ne change d'ici quelques minutes, {SERVICE_STOPPED}." if waited_long else "")
        )
    if batch.status == BatchStatus.PENDING and waited_long:
        return (
            f"La production des documents n'a pas commencé : {SERVICE_STOPPED}. Documents déjà prêts : {batch.done} "
            f"sur {batch.total}."
        )
    if batch.status == BatchStatus.PENDING:
        return f"La production des documents va commencer ({batch.done} sur {batch.total} déjà prêts)."
    if batch.status == BatchStatus.RUNNING and selectors_documents.batch_is_stalled(batch):
        return (
            "Production interrompue : le service qui produit les documents s'est arrêté. Elle reprendra d'elle-même "
            f"à son redémarrage ; s'il tarde, prévenez l'administrateur. Documents déjà prêts, conservés : "
            f"{batch.done} sur {batch.total}."
        )
    if batch.status == BatchStatus.RUNNING:
        return f"Production en cours : {batch.done} documents prêts sur {batch.total} ({batch.percent} %)."
    if batch.status == BatchStatus.DONE:
        return (
            f"Terminé : {batch.total} documents, dans une archive ZIP et dans les fichiers à imprimer (documents en "
            "recto verso, certificats à part)."
        )
    return batch.error or "La production des documents a échoué."


# — A session's documents —


def _printed_identity() -> CertifierIdentity:
    """The identity the next documents print: the name recorded, else the SIGNATORY_NAME setting."""
    identity = CertifierIdentity.current()
    identity.director_general_name = identity.director_general_name or settings.SIGNATORY_NAME
    return identity


def session_documents(request, pk):
    session = _session(request, pk)
    may_issue = may(request.user, "documents.issue_documents")
    documents = (
        IssuedDocument.objects.filter(session=session)
        .defer("pdf")
        .select_related("created_by", "status_changed_by", "withdrawn__withdrawal")
        .order_by("-created_at", "-pk")
    )
    slots = session_slots(session, documents=documents)
    batch = (
        DocumentBatch.objects.filter(session=session).defer(*BATCH_FIELDS).order_by("-requested_at", "-pk").first()
        if may_issue
        else None
    )
    return render(
        request,
        "documents/session_documents.html",
        {
            "session": session,
            "slots": slots,
            "batch": batch,
            "batch_json": _batch_json(batch),
            "unsigned_message": "" if session.is_signed else services.UNSIGNED_MESSAGE,
            "issued_count": sum(1 for slot in slots if slot.current is not None),
            "identity": _printed_identity() if may_issue else None,
        },
    )


@require_POST
def issue(request, pk):
    require(request.user, "documents.issue_documents")
    session = _session(request, pk)
    kind = request.POST.get("kind", "")
    candidate = None
    if request.POST.get("candidate"):
        try:
            candidate = Candidate(pk=int(request.POST["candidate"]))  # find_slot checks it is presented
        except ValueError:
            return HttpResponseBadRequest("Candidat inconnu.")
    done, document = apply_service_message(
        request,
        lambda: services.document_issue(session=session, kind=kind, candidate=candidate, actor=request.user),
    )
    if done:
        messages.success(
            request, f"Document émis : {document.get_kind_display()} — code de vérification {document.grouped_code}."
        )
    return redirect("documents:session", pk=session.pk)


@csp_override(PDF_CONTENT_SECURITY_POLICY)  # shown in the browser's PDF viewer (« affichage »)
def download(request, pk):
    document = get_object_or_404(IssuedDocument.objects.select_related("session"), pk=pk)
    require(request.user, "documents.read_issueddocument", document)
    content = bytes(document.pdf)
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "inline" if request.GET.get("affichage") == "1" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{file_name(document)}"'
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{document.sha256}"'
    response["X-Document-SHA256"] = document.sha256
    return response


def revoke(request, pk):
    require(request.user, "documents.issue_documents")
    document = get_object_or_404(IssuedDocument.objects.defer("pdf").select_related("session"), pk=pk)
    form = RevocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, _ = apply_service(
            form,
            lambda: services.document_revoke(document=document, reason=form.cleaned_data["reason"], actor=request.user),
        )
        if done:
            messages.success(request, f"Document révoqué : {document}. La page de vérification le signale désormais.")
            return redirect("documents:session", pk=document.session_id)
    return form_page(
        request,
        title=f"Révoquer : {document}",
        form=form,
        breadcrumb=[
            (reverse("juries:list"), "Jurys"),
            (reverse("juries:detail", args=[document.session_id]), str(document.session)),
            (reverse("documents:session", args=[document.session_id]), "Documents"),
        ],
        intro=f"Code de vérification {document.grouped_code}. Une révocation est définitive : la page publique "
        "de vérification indiquera que ce document est révoqué. Pour corriger un document, émettez-en un nouveau "
        "après la révocation.",
        submit="Révoquer le document",
        cancel_url=reverse("documents:session", args=[document.session_id]),
        confirm={
            "title": f"Révoquer : {document} ?",
            "body": "La révocation est définitive : la page publique de vérification indiquera que ce document ne "
            "fait plus foi.",
            "action": "Révoquer le document",
        },
    )


# — Batches —


@require_POST
def batch_start(request, pk):
    require(request.user, "documents.issue_documents")
    session = _session(request, pk)
    done, batch = apply_service_message(request, lambda: services.batch_request(session=session, actor=request.user))
    if done:
        messages.info(request, _batch_message(batch))
    return redirect(reverse("documents:session", args=[session.pk]) + "#lot")


def _batch(request, pk) -> DocumentBatch:
    require(request.user, "documents.issue_documents")
    return get_object_or_404(DocumentBatch.objects.defer(*BATCH_FIELDS), pk=pk)


@require_GET
def batch_status(request, pk):
    response = JsonResponse(_batch_json(_batch(request, pk)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def batch_download(request, pk, fmt):
    batch = _batch(request, pk)
    if batch.status != BatchStatus.DONE:
        messages.error(request, "Les documents de ce lot ne sont pas encore prêts.")
        return redirect("documents:session", pk=batch.session_id)
    field, suffix, extension = BATCH_DOWNLOADS[fmt]
    content = DocumentBatch.objects.values_list(field, flat=True).get(pk=batch.pk)
    if content is None:
        raise Http404("Ce lot ne contient pas de certificat.")
    name = f"documents-jury-{batch.session.date.isoformat()}-{batch.session_id}{suffix}"
    response = HttpResponse(bytes(content), content_type="application/zip" if fmt == "zip" else "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


# — Public verification —


def _what_the_document_states(document: IssuedDocument) -> dict:
    """What the public page shows of a document: its kind, holder and status, and never a withdrawal's reason."""
    certification = document.session.certification
    withdrawal = document.withdrawal_act
    return {
        "document": document,
        "withdrawal": {"date": withdrawal.decided_on, "reference": withdrawal.reference} if withdrawal else None,
        "kind_label": document.get_kind_display(),
        "is_valid": document.status == DocumentStatus.VALID,
        "is_revoked": document.status == DocumentStatus.REVOKED,
        "is_rectified": document.status == DocumentStatus.RECTIFIED,
        "certification": f"{certification.title} ({certification.acronym}) — RNCP {certification.rncp_code}, "
        f"niveau {certification.level_eqf}" + (f" · {EXAMPLE_FICHE_LABEL}" if certification.is_example else ""),
        "is_certificate": document.kind == DocumentKind.CERTIFICATE,
    }


def _public(response):
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _check(request, raw: str):
    limit, window = settings.VERIFICATION_RATE_LIMIT
    if not allow(request, scope="verification", limit=limit, window=window):
        response = render(
            request,
            "documents/verify.html",
            {"form": VerificationForm(), "limited": True, "minutes": max(1, window // 60)},
            status=429,
        )
        response["Retry-After"] = str(window)
        return _public(response)
    code = normalize_code(raw)
    document = selectors_documents.verified_document(code) if code else None
    context = {"form": VerificationForm(initial={"code": group_code(code) if code else ""}), "checked": True}
    if document is not None:
        context.update(_what_the_document_states(document))
    response = render(request, "documents/verify.html", context, status=200 if document else 404)
    return _public(response)


@login_not_required
@require_GET
def verify_form(request):
    if "code" in request.GET:
        return _check(request, request.GET["code"])
    return _public(render(request, "documents/verify.html", {"form": VerificationForm()}))


@login_not_required
@require_GET
def verify(request, code):
    return _check(request, code)


# — The certifier's identity on the documents —


def identity_edit(request):
    """The logo and the director general's name printed on the documents issued from now on (staff)."""
    require(request.user, "documents.issue_documents")
    identity = CertifierIdentity.current()
    form = CertifierIdentityForm(
        request.POST or None,
        request.FILES or None,
        initial={"director_general_name": identity.director_general_name or settings.SIGNATORY_NAME},
    )
    if request.method == "POST" and form.is_valid():
        logo = form.cleaned_data["logo"]
        done, _ = apply_service(
            form,
            lambda: services.certifier_identity_save(
                director_general_name=form.cleaned_data["director_general_name"],
                logo=logo.read() if logo else None,
                logo_name=logo.name if logo else "",
                remove_logo=form.cleaned_data["remove_logo"],
                actor=request.user,
            ),
        )
        if done:
            messages.success(
                request, "Logo et signataire enregistrés : ils figureront sur les prochains documents émis."
            )
            return redirect("documents:identity")
    return render(
        request,
        "documents/identity.html",
        {"form": form, "identity": identity},
        status=400 if request.method == "POST" else 200,
    )
