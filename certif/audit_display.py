"""Audit traces as people read them: what happened (the action's French label), who did it, when, and what changed,
field by field, with the fields' labels and readable values — never a code nor a Python dict.

`describe_events` reads a list of events at once: the models of their targets come from the content-type cache,
and the objects a foreign key id points to are fetched with one query per related model, however many events.
"""

import contextlib
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from certif.models import AuditAction, AuditEvent
from certif.roles import Role

SYSTEM = "système"
EMPTY = "(vide)"
NONE = "—"

# Labels of what a snapshot records that is not a field of the target model (or is better named otherwise there).
KEY_LABELS = {
    # The CDC's processing reports and the corrections they call for
    "accepted": "titulaires acceptés par la Caisse des Dépôts",
    "rejected": "titulaires rejetés (motif de la Caisse des Dépôts)",
    "unanswered": "titulaires sans réponse dans l'accusé",
    "description": "ce qui a changé",
    "schema": "schéma de validation",
    # —
    "acquired_blocks": "blocs acquis",
    "acquired_on": "acquis le",
    "act": "acte",
    "already_issued": "déjà émis",
    "applies_to": "voies d'accès où la règle s'applique",
    "awarded_on": "délivrée le",
    "awards": "certifications délivrées",
    "batch": "lot",
    "block": "bloc",
    "blocks": "blocs",
    "candidate": "candidat",
    "category": "catégorie",
    "certificate": "certificat",
    "certification": "fiche",
    "code": "code",
    "cohort": "promotion",
    "comment": "commentaire",
    "competences": "compétences",
    "decided_on": "décidé le",
    "decision": "décision",
    "decision_date": "date de la décision",
    "decisions": "décisions",
    "declared": "certificats déclarés",
    "departure_reason": "motif de l'écart à la proposition",
    "documents": "documents",
    "documents_revoked": "documents révoqués",
    "email": "adresse",
    "ends_on": "fin",
    "enrolment": "inscription",
    "evaluation_modality": "modalités d'évaluation",
    "evaluators": "évaluateurs",
    "failures": "échecs",
    "fingerprint": "empreinte des décisions",
    "first_name": "prénom",
    "flux_id": "identifiant du flux",
    "in_force_from": "en vigueur du",
    "in_force_until": "jusqu'au",
    "ip_address": "adresse IP",
    "is_active": "actif",
    "is_open": "ouverte",
    "is_president": "président",
    "is_staff": "accès à l'administration",
    "is_substitute": "suppléant",
    "jury_rule": "règle de composition des jurys",
    "kind": "type",
    "label": "libellé",
    "last_name": "nom",
    "level": "niveau",
    "levels": "niveaux",
    "limit": "essais permis",
    "member": "membre",
    "name": "nom",
    "number": "numéro",
    "organisation": "organisme",
    "outcome": "décision",
    "path": "page",
    "pathways": "voies d'accès ouvertes",
    "place": "lieu",
    "origins": "acquis d'origine",
    "position": "rang",
    "president_is_professional": "le président est un professionnel",
    "previous_blocks": "blocs de la fiche précédente qui le donnent",
    "professionals_percent": "part de professionnels (%)",
    "professionals_split_equally": "professionnels salariés et employeurs à parts égales",
    "proposal": "proposition",
    "publication": "publication",
    "publication_date": "date de publication",
    "reason": "motif",
    "rectification": "rectification",
    "reference": "référence",
    "registrations": "enregistrements",
    "replaces": "remplace",
    "resent": "certificats déclarés à nouveau",
    "roles": "rôles",
    "rome_codes": "codes ROME",
    "session": "session",
    "sha256": "empreinte SHA-256",
    "size": "taille (octets)",
    "starts_on": "début",
    "status": "statut",
    "summary": "résumé",
    "text": "texte",
    "threshold": "seuil",
    "title": "intitulé",
    "trainers": "formateurs",
    "trainers_percent": "part de formateurs (%)",
    "until": "jusqu'à",
    "user": "compte",
    "username": "identifiant",
    "validates": "valide le bloc",
    "version": "version",
    "violations": "écarts à la composition de la fiche",
    "withdrawal": "retrait",
}

# Where a snapshot's key takes its choices from when the target model has no such field (a member's snapshot is
# recorded on its session, a decision's proposal is its `proposal_outcome`…): "app_label.model.field".
KEY_FIELDS = {
    "category": "juries.jurymember.category",
    "is_president": "juries.jurymember.is_president",
    "is_substitute": "juries.jurymember.is_substitute",
    "organisation": "juries.jurymember.organisation",
    "proposal": "juries.decision.proposal_outcome",
}

# The account's own words (the person's page speaks of « identifiant » and « adresse », not Django's defaults).
MODELS_WITH_KEY_LABELS_FIRST = {"auth.user", "axes.accessattempt"}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str | None  # None: the field was not recorded before (a creation)
    after: str | None  # None: not recorded after (a removal)

    @property
    def text(self) -> str:
        if self.before is None:
            return f"{self.label} : {self.after}"
        if self.after is None:
            return f"{self.label} : {self.before}"
        return f"{self.label} : {self.before} → {self.after}"


@dataclass(frozen=True)
class EventView:
    event: AuditEvent
    label: str
    actor: str
    when: str
    target: str
    changes: list[FieldChange]
    before: list[FieldChange]
    after: list[FieldChange]

    @property
    def sentence(self) -> str:
        return f"{self.label}, par {self.actor}, le {self.when}."

    @property
    def summary(self) -> str:
        """« rôles : Formateur → Formateur, Président de jury » for what changed; everything for a creation."""
        return " ; ".join(change.text for change in self.changes) or NONE


def actor_name(user) -> str:
    if user is None:
        return SYSTEM
    return user.get_full_name() or user.get_username()


def when_text(moment: datetime.datetime) -> str:
    """« 12 juin 2025 à 14:03 », in the project's time zone (Europe/Paris)."""
    return date_format(timezone.localtime(moment), r"j F Y \à H:i")


def action_label(action: str) -> str:
    try:
        return AuditAction(action).label
    except ValueError:  # a trace older than the set, if any: still no bare code shown
        return action.replace("_", " ").replace(".", " — ")


def _model_of(event: AuditEvent):
    return ContentType.objects.get_for_id(event.target_type_id).model_class()


def _field(model, key: str):
    candidates = []
    if model is not None:
        candidates.append((model, key))
    if key in KEY_FIELDS:
        app_label, model_name, name = KEY_FIELDS[key].split(".")
        with contextlib.suppress(LookupError):
            candidates.append((apps.get_model(app_label, model_name), name))
    for owner, name in candidates:
        try:
            field = owner._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.concrete or not field.auto_created:  # a reverse relation is not what a snapshot key names
            return field
    return None


def _label(model, key: str, field) -> str:
    if model is not None and model._meta.label_lower in MODELS_WITH_KEY_LABELS_FIRST and key in KEY_LABELS:
        return KEY_LABELS[key]
    if field is not None and getattr(field, "verbose_name", None) and field.name == key:
        return str(field.verbose_name)
    return KEY_LABELS.get(key) or (str(field.verbose_name) if field is not None else key.replace("_", " "))


def _is_relation(field) -> bool:
    return field is not None and isinstance(field, models.ForeignKey)


def _plain(value) -> str:
    if value is None:
        return NONE
    if value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str):
        if ISO_DATE.match(value):
            try:
                return date_format(datetime.date.fromisoformat(value), "d/m/Y")
            except ValueError:
                return value
        if ISO_DATETIME.match(value):
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                return value
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return date_format(moment, r"d/m/Y \à H:i")
    return str(value)


class _Values:
    """Turns a recorded value into text, with the related objects of the events fetched once per model."""

    def __init__(self, events):
        wanted = defaultdict(set)
        for event in events:
            model = _model_of(event)
            for values in (event.before, event.after):
                for key, value in (values or {}).items() if isinstance(values, dict) else ():
                    field = _field(model, key)
                    if _is_relation(field) and isinstance(value, int) and not isinstance(value, bool):
                        wanted[field.related_model].add(value)
        self.related = {
            related_model: related_model._default_manager.in_bulk(sorted(ids)) for related_model, ids in wanted.items()
        }

    def text(self, key: str, field, value) -> str:
        if key == "roles" and isinstance(value, list):
            return ", ".join(Role(role).label for role in Role.values if role in value) or "aucun"
        if isinstance(value, list):
            return ", ".join(self.text(key, field, item) for item in value) or "(aucun)"
        if isinstance(value, dict):
            return ", ".join(
                f"{KEY_LABELS.get(name, name.replace('_', ' '))} : {self.text(name, None, item)}"
                for name, item in value.items()
            )
        if field is not None and field.choices and value not in (None, ""):
            return str(dict(field.flatchoices).get(value, value))
        if _is_relation(field) and isinstance(value, int) and not isinstance(value, bool):
            related = self.related.get(field.related_model, {}).get(value)
            return str(related) if related is not None else str(value)
        return _plain(value)


def _changes(model, before, after, values: _Values) -> list[FieldChange]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    created = not before
    changes = []
    for key in [*after, *(key for key in before if key not in after)]:
        field = _field(model, key)
        label = _label(model, key, field)
        if key not in before:
            if created and after[key] in (None, "", []):
                continue  # a creation lists what was filled in
            changes.append(FieldChange(label, None, values.text(key, field, after[key])))
        elif key not in after:
            changes.append(FieldChange(label, values.text(key, field, before[key]), None))
        elif before[key] != after[key]:
            changes.append(
                FieldChange(label, values.text(key, field, before[key]), values.text(key, field, after[key]))
            )
    return changes


def _listing(model, snapshot, values: _Values, *, skip_empty: bool) -> list[FieldChange]:
    if not isinstance(snapshot, dict):
        return []
    rows = []
    for key, value in snapshot.items():
        if skip_empty and value in (None, "", []):
            continue
        field = _field(model, key)
        rows.append(FieldChange(_label(model, key, field), None, values.text(key, field, value)))
    return rows


def describe_events(events) -> list[EventView]:
    """The events, readable. Select their actor with them (`audit_trail` does): no query per event."""
    events = list(events)
    values = _Values(events)
    views = []
    for event in events:
        model = _model_of(event)
        views.append(
            EventView(
                event=event,
                label=action_label(event.action),
                actor=actor_name(event.actor),
                when=when_text(event.occurred_at),
                target=event.target_repr,
                changes=_changes(model, event.before, event.after, values),
                before=_listing(model, event.before, values, skip_empty=False),
                after=_listing(model, event.after, values, skip_empty=event.before is None),
            )
        )
    return views


def describe_event(event: AuditEvent) -> EventView:
    return describe_events([event])[0]


def lines_html(rows: list[FieldChange]) -> str:
    """One line per field, for the admin's tables."""
    return format_html_join(mark_safe("<br>"), "{}", ((row.text,) for row in rows)) if rows else NONE
