"""« Importer une fiche depuis France Compétences »: upload the export (ZIP or XML) → preview → confirm.

The uploaded file is kept server-side under a random name, the name kept in the session: each step reads the fiches
from it again, so that nothing the browser sends back (but the thresholds staff type) describes a fiche.
"""

import contextlib
import secrets
import shutil
import tempfile
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat

from certif.fiche_import import fiche_import_apply, fiche_import_preview
from certif.rncp_export import RncpExportError, normalise_code, read_fiches
from certif.rules import ThresholdKind
from certif.validation import InputRulesFormMixin, refusal_text
from certif.views_helpers import rule_required

SESSION_KEY = "rncp_import"
# France Compétences' daily export of every fiche is several hundred megabytes once unzipped, about a tenth zipped.
DEFAULT_MAX_BYTES = 800 * 1024 * 1024
MAX_FICHES_WITHOUT_CODES = 5
STALE_AFTER_SECONDS = 24 * 3600

import_required = rule_required("certif.import_fiche")


def _upload_dir() -> Path:
    directory = Path(getattr(settings, "RNCP_IMPORT_DIR", Path(tempfile.gettempdir()) / "mpes-rncp-import"))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _max_bytes() -> int:
    return int(getattr(settings, "RNCP_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _stored_path(token: str) -> Path | None:
    if not token or not token.replace("-", "").replace("_", "").isalnum():
        return None
    path = _upload_dir() / f"{token}.export"
    return path if path.is_file() else None


def _forget(request) -> None:
    state = request.session.pop(SESSION_KEY, None) or {}
    path = _stored_path(state.get("token", ""))
    if path:
        path.unlink(missing_ok=True)


def _sweep_stale() -> None:
    """Files of imports never confirmed go after a day."""
    limit = time.time() - STALE_AFTER_SECONDS
    for path in _upload_dir().glob("*.export"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()


class FicheUploadForm(InputRulesFormMixin, forms.Form):
    export = forms.FileField(
        label="Fichier de France Compétences",
        help_text="L'export des fiches RNCP (format v4.1), en ZIP tel que publié ou en XML.",
        error_messages={"required": "Choisissez le fichier de France Compétences (ZIP ou XML)."},
    )
    codes = forms.CharField(
        label="Codes des fiches",
        required=False,
        help_text="Par exemple « RNCP99901 » ; plusieurs codes séparés par des espaces. Sans code : toutes les "
        f"fiches d'un fichier qui en compte au plus {MAX_FICHES_WITHOUT_CODES}.",
        max_length=500,
    )

    def clean_export(self):
        upload = self.cleaned_data["export"]
        if upload.size > _max_bytes():
            raise ValidationError(
                f"Ce fichier pèse {filesizeformat(upload.size)} : la limite est de {filesizeformat(_max_bytes())}."
            )
        return upload

    def clean_codes(self):
        text = self.cleaned_data["codes"].replace(",", " ").replace(";", " ")
        try:
            return list(dict.fromkeys(normalise_code(code) for code in text.split()))
        except RncpExportError as error:
            raise ValidationError(error.messages) from None


def _read(path: Path, codes: list[str] | None):
    return read_fiches(path, codes, limit=None if codes else MAX_FICHES_WITHOUT_CODES)


@import_required
def fiche_import_upload(request):
    form = FicheUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _forget(request)
        _sweep_stale()
        token = secrets.token_urlsafe(18)
        path = _upload_dir() / f"{token}.export"
        with path.open("wb") as out:
            upload = form.cleaned_data["export"]
            upload.seek(0)
            shutil.copyfileobj(upload, out, 1024 * 1024)
        codes = form.cleaned_data["codes"] or None
        try:
            fiches = _read(path, codes)
        except RncpExportError as error:
            path.unlink(missing_ok=True)
            form.add_error("codes" if error.code == "absent_fiche" else "export", error.messages)
        else:
            if not fiches:
                path.unlink(missing_ok=True)
                form.add_error("export", "Ce fichier ne contient aucune fiche.")
            else:
                request.session[SESSION_KEY] = {
                    "token": token,
                    "codes": [fiche.rncp_label for fiche in fiches],
                    "name": Path(form.cleaned_data["export"].name).name[:200],
                }
                return redirect("certif:fiche_import_preview")
    status = 400 if request.method == "POST" else 200
    return render(request, "certif/fiche_import_upload.html", {"form": form}, status=status)


def _entered_thresholds(post, fiches) -> tuple[dict, dict]:
    """The thresholds staff typed for the blocks of the fiches read (anything else posted is ignored), and what was
    typed, to show it again."""
    thresholds, typed = {}, {}
    for fiche in fiches:
        for block in fiche.blocks:
            kind = post.get(f"seuil-{block.code}-forme", "")
            value = post.get(f"seuil-{block.code}-valeur", "").strip()
            out_of = post.get(f"seuil-{block.code}-sur", "").strip()
            if value or out_of:
                typed[block.code] = {"kind": kind, "value": value, "out_of": out_of}
                thresholds[block.code] = (kind, value, out_of or "0")
    return thresholds, typed


def _entered_rules(post, fiches) -> dict:
    """The jury rules staff typed, for the fiches whose rule the export does not give clearly."""
    rules = {}
    for fiche in fiches:
        prefix = f"jury-{fiche.rncp_label}"
        if f"{prefix}-texte" not in post:
            continue
        rules[fiche.rncp_label] = {
            "professionals_percent": post.get(f"{prefix}-professionnels", "").strip() or "x",
            "trainers_percent": post.get(f"{prefix}-formateurs", "").strip() or "x",
            "president_is_professional": post.get(f"{prefix}-president") == "1",
            "professionals_split_equally": post.get(f"{prefix}-parts-egales") == "1",
            "applies_to": post.getlist(f"{prefix}-voies"),
            "text": post.get(f"{prefix}-texte", ""),
        }
    return rules


@import_required
def fiche_import_preview_page(request):
    state = request.session.get(SESSION_KEY) or {}
    path = _stored_path(state.get("token", ""))
    if path is None:
        messages.error(request, "Aucun fichier en attente d'installation : choisissez le fichier à importer.")
        return redirect("certif:fiche_import_upload")
    try:
        fiches = _read(path, state["codes"])
    except RncpExportError as error:
        _forget(request)
        messages.error(request, refusal_text(error))
        return redirect("certif:fiche_import_upload")
    thresholds, typed = _entered_thresholds(request.POST, fiches) if request.method == "POST" else ({}, {})
    rules = _entered_rules(request.POST, fiches) if request.method == "POST" else {}
    preview = fiche_import_preview(fiches=fiches, thresholds=thresholds, rules=rules)
    problem = ""
    if request.method == "POST" and "confirm" in request.POST:
        if preview.can_apply:
            try:
                fiche_import_apply(fiches=fiches, thresholds=thresholds, rules=rules, actor=request.user)
            except ValidationError as refused:
                problem = refusal_text(refused)
            else:
                _forget(request)
                created = [plan.rncp_label for plan in preview.fiches if plan.is_creation]
                changed = [plan.rncp_label for plan in preview.fiches if not plan.is_creation and plan.has_differences]
                parts = []
                if created:
                    parts.append(f"installée{'s' if len(created) > 1 else ''} : {', '.join(created)}")
                if changed:
                    parts.append(f"mise{'s' if len(changed) > 1 else ''} à jour : {', '.join(changed)}")
                messages.success(
                    request,
                    f"Fiche{'s' if len(preview.fiches) > 1 else ''} de France Compétences "
                    + ("; ".join(parts) if parts else "déjà à jour : rien n'a changé")
                    + ".",
                )
                return redirect("certif:fiche", rncp_code=preview.fiches[0].fiche.rncp_code)
        else:
            problem = "Saisissez d'abord ce qui manque : " + " ".join(preview.missing)
    rows = [
        (plan, [(block, typed.get(block.code, {})) for block in plan.blocks], rules.get(plan.rncp_label, {}))
        for plan in preview.fiches
    ]
    return render(
        request,
        "certif/fiche_import_preview.html",
        {
            "preview": preview,
            "rows": rows,
            "file_name": state.get("name", ""),
            "error": problem,
            "kinds": ThresholdKind.choices,
        },
        status=400 if problem else 200,
    )
