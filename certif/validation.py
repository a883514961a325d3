"""The rules every input of the application obeys, whatever the door (a page, the admin, an import, a service).

- Text: no character that XML cannot carry (the CDC flux is XML, documents are HTML rendered to PDF): a name or a
  one-line field holds no control character at all, a free text keeps its line breaks and tabs only; every free
  text is bounded (`TEXT_MAX_LENGTH` unless its field says otherwise).
- Dates: an event of the certification's life is neither absurdly old nor absurdly far ahead (`event_date_problem`).
- Uniqueness: a violated unique constraint is told next to the field a person fills in, in the constraint's own
  words (`InputRulesMixin`), and a row another request wrote between our check and our save becomes the same
  field error instead of a server error (`unique_violations_as_field_errors`).
- Structured input: JSON read from a request is bounded in size and depth before it is parsed (`bounded_json`).

Forms use `InputRulesFormMixin`, models `InputRulesMixin`, services `check_text` and `event_date_problem`.
"""

import datetime
import json
import re
from collections.abc import Collection
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, models, router, transaction
from django.utils import timezone

# — Text —

TEXT_MAX_LENGTH = 2000  # a reason, a comment, an address: what a person writes in a text box

# XML 1.0 carries tab, line feed and carriage return and nothing else below U+0020 (lxml refuses the rest outright);
# DEL and the C1 controls are allowed by XML but are invisible debris pasted from other software; surrogates and
# U+FFFE / U+FFFF are not characters at all.
_NOT_IN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CHARACTER_NAMES = {
    "\x00": "caractère nul",
    "\t": "tabulation",
    "\n": "saut de ligne",
    "\r": "retour chariot",
    "\x0b": "tabulation verticale",
    "\x0c": "saut de page",
    "\x1b": "échappement",
    "\x7f": "suppression",
}


def forbidden_character(value: str, *, multiline: bool = False) -> str:
    """'' when `value` may be written anywhere; else which character is wrong and where, in French."""
    match = (_NOT_IN_FREE_TEXT if multiline else _NOT_IN_ONE_LINE).search(value)
    if match is None:
        return ""
    character = match.group()
    name = _CHARACTER_NAMES.get(character, "caractère de contrôle")
    return f"caractère invisible non admis : {name} U+{ord(character):04X}, en position {match.start() + 1}"


def forbidden_character_message(value, *, multiline: bool = False) -> str:
    """'' or the French message a person reads next to the field."""
    problem = forbidden_character(value, multiline=multiline) if isinstance(value, str) else ""
    if not problem:
        return ""
    return (
        f"Ce texte contient un {problem}. Retirez-le : il ne peut figurer ni sur un document ni dans la "
        "déclaration à la Caisse des Dépôts."
    )


def _refuse_forbidden(value, *, multiline: bool) -> None:
    if message := forbidden_character_message(value, multiline=multiline):
        raise ValidationError(message, code="forbidden_character")


def validate_one_line_text(value) -> None:
    """A name, a code, a place: printable characters only, on one line."""
    _refuse_forbidden(value, multiline=False)


def validate_free_text(value) -> None:
    """A reason, a comment, an address: printable characters, line breaks and tabs."""
    _refuse_forbidden(value, multiline=True)


def text_problem(value: str, *, max_length: int = TEXT_MAX_LENGTH, multiline: bool = True) -> str:
    """'' when `value` is a text the application can keep and print, else why not, in French."""
    if message := forbidden_character_message(value, multiline=multiline):
        return message
    try:
        MaxLengthValidator(max_length)(value)
    except ValidationError as error:
        return error.messages[0]
    return ""


def check_text(value: str, *, field: str, max_length: int = TEXT_MAX_LENGTH, multiline: bool = True) -> str:
    """For a service that takes a text: the text stripped, or ValidationError({field: …}) in French."""
    value = (value or "").strip()
    if problem := text_problem(value, max_length=max_length, multiline=multiline):
        raise ValidationError({field: problem})
    return value


# The mixins below are mixed into forms and models: mypy reads them as such, Python as plain classes.
if TYPE_CHECKING:
    _FormBase = forms.BaseForm
    _ModelBase = models.Model
else:
    _FormBase = _ModelBase = object


class InputRulesFormMixin(_FormBase):
    """Every text field of the form refuses what XML cannot carry; a text box (Textarea) without a limit gets
    `TEXT_MAX_LENGTH`, announced by the browser (maxlength) and checked here. Passwords are left as typed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.CharField) or isinstance(field.widget, forms.PasswordInput):
                continue
            multiline = isinstance(field.widget, forms.Textarea)
            field.validators.append(validate_free_text if multiline else validate_one_line_text)
            if multiline and field.max_length is None:
                field.max_length = TEXT_MAX_LENGTH
                field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
                field.widget.attrs.setdefault("maxlength", str(TEXT_MAX_LENGTH))


def show_errors(form, error: ValidationError) -> None:
    """Show a service's refusal on `form`: next to the field it names when the form has that field, above the form
    otherwise (a service may name a field the page does not show)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def apply_service(form, call):
    """Run `call` (a service, with its arguments bound); its refusal is shown on `form` (`show_errors`).

    Returns (True, what the service returned), or (False, None) when it refused.
    """
    try:
        return True, call()
    except ValidationError as error:
        show_errors(form, error)
        return False, None


def refusal_text(error: ValidationError) -> str:
    """A service's refusal as one sentence, for a message above the page."""
    return " ".join(error.messages)


class InputRulesMixin(_ModelBase):
    """For models, so that every door that cleans the model applies the rules (its ModelForms, the admin, the
    services' `full_clean`):

    - in `clean_fields`, the text rules above (a TextField is bounded by its `max_length`, else by
      `free_text_max_length`) and the date rule for the fields named in `past_event_dates` (happened: not in the
      future) and `planned_event_dates` (planned: at most `planning_horizon_years` ahead);
    - in `validate_constraints`, a violated unique constraint reported on the constraint's last field — by
      convention the one a person chooses or types (`name` of (certification, name)) — in its own words.

    Checked in `clean_fields`, which honours `exclude`: a ModelForm that does not show a field is never told
    about it (an old value stays editable around it)."""

    free_text_max_length = TEXT_MAX_LENGTH
    past_event_dates: tuple[str, ...] = ()
    planned_event_dates: tuple[str, ...] = ()
    planning_horizon_years: int | None = None  # PLANNING_HORIZON_YEARS

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if field.name in errors or (exclude and field.name in exclude):
                continue
            if problem := self._input_rule_problem(field, getattr(self, field.attname)):
                errors.setdefault(field.name, []).append(ValidationError(problem, code="input_rule"))
        if errors:
            raise ValidationError(errors)

    def _input_rule_problem(self, field, value) -> str:
        if field.name in self.past_event_dates:
            return event_date_problem(value)
        if field.name in self.planned_event_dates:
            return event_date_problem(value, years_ahead=self.planning_horizon_years or PLANNING_HORIZON_YEARS)
        if not isinstance(field, models.CharField | models.TextField) or field.choices or not value:
            return ""
        if not isinstance(field, models.TextField):
            return forbidden_character_message(value)
        return text_problem(value, max_length=field.max_length or self.free_text_max_length)

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict[str, Any] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=set(exclude or ()), using=using)
                except ValidationError as error:
                    fields = getattr(constraint, "fields", ())
                    if isinstance(constraint, models.UniqueConstraint) and fields:
                        errors.setdefault(fields[-1], []).extend(error.error_list)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


@contextmanager
def unique_violations_as_field_errors(instance):
    """Around the write of `instance`, already validated: if another request wrote a conflicting row in between,
    the database's unique constraint answers; tell it as `full_clean` would (a field error), not as a 500.

    The write runs in a savepoint so that the caller's transaction stays usable on PostgreSQL."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        instance.validate_constraints()  # now sees the other row, and raises the field error
        raise  # some other integrity error: a bug, not an input


# — Dates —

EARLIEST_EVENT_DATE = datetime.date(2000, 1, 1)  # no enrolment, evaluation, decision or registration predates it
PLANNING_HORIZON_YEARS = 5  # nothing of the certification is planned further ahead


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _d(day: datetime.date) -> str:
    # strftime does not pad years below 1000 ("1/01/1"): the absurd dates are the ones this module reports.
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def event_date_problem(
    day: datetime.date | None,
    *,
    earliest: datetime.date = EARLIEST_EVENT_DATE,
    earliest_label: str = "",
    years_ahead: int = 0,
) -> str:
    """'' when `day` is plausible for an event of the certification, else why not, in French.

    `years_ahead` = 0 for what has already happened (a decision, an acquired block: not in the future);
    `PLANNING_HORIZON_YEARS` for what is planned (a promotion, an evaluation session). `earliest_label` names
    `earliest` when it is not the general bound (« début du premier enregistrement de la fiche »)."""
    if day is None:
        return ""
    today = timezone.localdate()
    if day < earliest:
        named = f", {earliest_label}" if earliest_label else ""
        return f"Date peu plausible : le {_d(day)} est avant le {_d(earliest)}{named}."
    if years_ahead == 0 and day > today:
        return f"Cette date ne peut pas être dans le futur (nous sommes le {_d(today)})."
    latest = _years_after(today, years_ahead)
    if day > latest:
        return (
            f"Date peu plausible : le {_d(day)} est à plus de {years_ahead} ans d'aujourd'hui "
            f"(au plus tard le {_d(latest)})."
        )
    return ""


def validate_past_event_date(day) -> None:
    """A form field's validator: something that has happened (between 2000 and today)."""
    if problem := event_date_problem(day):
        raise ValidationError(problem, code="implausible_date")


def validate_planned_event_date(day) -> None:
    """A form field's validator: something planned (between 2000 and the planning horizon)."""
    if problem := event_date_problem(day, years_ahead=PLANNING_HORIZON_YEARS):
        raise ValidationError(problem, code="implausible_date")


# — Structured input —


class BoundedJsonError(ValueError):
    """The JSON is larger or deeper than allowed: refused before parsing."""


_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')


def bounded_json(text: str, *, max_length: int, max_depth: int):
    """`json.loads(text)`, once `text` is shown to be at most `max_length` characters and `max_depth` arrays or
    objects deep (a forged 200,000-deep array would otherwise exhaust the parser's stack: RecursionError).

    The depth is read in one pass over the quotes, backslashes and brackets, skipping those inside strings."""
    if len(text) > max_length:
        raise BoundedJsonError(f"trop volumineux : {len(text)} caractères, {max_length} au plus")
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_SPECIAL.finditer(text):
        character, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if character == "\\":
                escaped_at = at + 1
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > max_depth:
                raise BoundedJsonError(f"trop imbriqué : plus de {max_depth} niveaux")
        elif character in "]}":
            depth -= 1
    return json.loads(text)
