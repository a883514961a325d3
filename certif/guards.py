"""What a signature froze stays frozen, whatever the door: one mechanism for every guarded model.

A guarded model (`FrozenRowsModel`) says which of its rows are frozen, in one of three ways:
- `write_once = True`: every row, once written (audit traces, signed acts, awards, documents…);
- `frozen_when = Q(...)`: the rows whose own columns say so (a signed session, a frozen grid…);
- `frozen_with = "<foreign key>"`: the rows whose parent, itself a guarded model, is frozen (the decisions of a
  signed session, the competences of a frozen grid…); nothing may be added to a frozen parent either.

On every database, the ORM refuses to write a frozen row: `save()` and `delete()` of the model, and its manager's
`update()`, `delete()`, `bulk_update()` and `bulk_create()` (into a frozen parent) raise `FrozenRowError`, a
`ValidationError` with a French message, before anything is written. `mutable_fields` name what a frozen row may
still change (a document's status) and `check_frozen_update` the model's own rule for those changes.

On PostgreSQL the same rules are triggers declared in the models' Meta (django-pgtrigger, installed by the
migrations), built by the helpers below: raw SQL is refused too, with the same French message, and the trigger's
error reaches Python as the same `FrozenRowError` (`translate_trigger_errors`, installed on every connection).
"""

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar, cast

import pgtrigger
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models

# SQLSTATE 23001 (restrict_violation): an integrity rule refused the write. With the trigger's name as the
# constraint, it tells our refusals from any other error.
TRIGGER_SQLSTATE = "23001"
TRIGGER_PREFIX = "pgtrigger_"


class FrozenRowError(ValidationError):
    """A write refused because what it touches was frozen by a signature (or is written once)."""


# — The ORM side —


def _prefixed(condition: models.Q, prefix: str) -> models.Q:
    """The same condition, read from a related model through `prefix` (a foreign key name)."""
    result = models.Q()
    result.connector, result.negated = condition.connector, condition.negated
    result.children = [
        # A Q's children are Q objects or (lookup, value) pairs; the stubs type them as any tree node.
        _prefixed(child, prefix) if isinstance(child, models.Q) else (f"{prefix}__{child[0]}", child[1])  # type: ignore[index]
        for child in condition.children
    ]
    return result


def _field_names(model: type[models.Model], names: Iterable[str]) -> set[str]:
    return {model._meta.get_field(name).name for name in names}


def _parent_key(model: type["FrozenRowsModel"]) -> "models.ForeignKey[Any, Any]":
    """The foreign key that `frozen_with` names (only asked of a model that sets it)."""
    return cast("models.ForeignKey[Any, Any]", model._meta.get_field(cast(str, model.frozen_with)))


def _parent_model(model: type["FrozenRowsModel"]) -> type["FrozenRowsModel"]:
    """The guarded model that `frozen_with` points to."""
    return cast(type[FrozenRowsModel], _parent_key(model).related_model)


_Guarded = TypeVar("_Guarded", bound="FrozenRowsModel")


class FrozenRowsQuerySet(models.QuerySet[_Guarded]):
    """Refuses `update`, `delete`, `bulk_update` and `bulk_create` that would write a frozen row."""

    def frozen(self) -> "FrozenRowsQuerySet[_Guarded]":
        """The rows of this queryset that are frozen."""
        return self.filter(self.model.frozen_rows_q())

    def _any_frozen(self) -> bool:
        probe = self.frozen()
        probe.query.select_for_update = False
        probe.query.clear_ordering(force=True)
        return probe.exists()

    def update(self, **kwargs: Any) -> int:
        model = self.model
        changed = _field_names(model, kwargs)
        if changed - model.mutable_fields and self._any_frozen():
            raise FrozenRowError(model.change_refused)
        if changed & model.mutable_fields:
            model.check_frozen_update(self, {model._meta.get_field(key).name: value for key, value in kwargs.items()})
        if model.frozen_with and model.frozen_with in changed:
            field = _parent_key(model)
            value = kwargs.get(field.name, kwargs.get(field.attname))
            if not hasattr(value, "resolve_expression"):  # bulk_update's CASE: checked by bulk_update itself
                model.refuse_frozen_parents([getattr(value, "pk", value)])
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]  # a flag Django reads off the method

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._any_frozen():
            raise FrozenRowError(self.model.delete_refused)
        return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]  # a flag Django reads off the method
    delete.queryset_only = True  # type: ignore[attr-defined]  # a flag Django reads off the method

    def bulk_update(self, objs: Iterable[_Guarded], fields: Iterable[str], batch_size: int | None = None) -> int:
        # Django writes each batch with `self.filter(pk__in=…).update(…)`: the guard above runs for it. A move to
        # another parent is checked here, where the new parents are known.
        objs = list(objs)
        model = self.model
        if model.frozen_with and model.frozen_with in _field_names(model, fields):
            attname = _parent_key(model).attname
            model.refuse_frozen_parents([getattr(obj, attname) for obj in objs])
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True  # type: ignore[attr-defined]  # a flag Django reads off the method

    def bulk_create(self, objs: Iterable[_Guarded], *args: Any, **kwargs: Any) -> list[_Guarded]:
        objs = list(objs)
        model = self.model
        if kwargs.get("update_conflicts"):
            raise FrozenRowError(model.change_refused)  # an upsert could overwrite a frozen row
        if model.frozen_with:
            attname = _parent_key(model).attname
            model.refuse_frozen_parents([getattr(obj, attname) for obj in objs])
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True  # type: ignore[attr-defined]  # a flag Django reads off the method


class FrozenRowsModel(models.Model):
    """A model whose frozen rows the ORM refuses to write (see the module's docstring)."""

    write_once: ClassVar[bool] = False
    frozen_when: ClassVar[models.Q | None] = None
    frozen_with: ClassVar[str | None] = None
    mutable_fields: ClassVar[frozenset[str]] = frozenset()
    change_refused: ClassVar[str] = "Cet enregistrement est figé : il ne peut plus être modifié."
    delete_refused: ClassVar[str] = "Cet enregistrement est figé : il ne peut pas être supprimé."

    objects = FrozenRowsQuerySet.as_manager()

    class Meta:
        abstract = True
        # Django writes through the base manager too (a related manager's add(), for one): it is the guarded one.
        base_manager_name = "objects"

    def save(self, *args, **kwargs):
        if self.write_once:
            if self.pk is not None and not kwargs.get("force_insert"):
                raise FrozenRowError(self.change_refused)
        elif self.frozen_with:
            field = _parent_key(type(self))
            parent = _parent_model(type(self))
            parents = models.Q(pk=getattr(self, field.attname))
            if self.pk is not None:  # the parent it has now, and the one it would move to
                current = type(self)._base_manager.filter(pk=self.pk).values(field.attname)
                parents |= models.Q(pk__in=models.Subquery(current))
            if parent._base_manager.filter(parent.frozen_rows_q()).filter(parents).exists():
                raise FrozenRowError(self.change_refused)
        elif self._stored_row_is_frozen():
            raise FrozenRowError(self.change_refused)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_row_is_frozen():
            raise FrozenRowError(self.delete_refused)
        return super().delete(*args, **kwargs)

    @classmethod
    def frozen_rows_q(cls) -> models.Q:
        if cls.write_once:
            return models.Q()
        if cls.frozen_with:
            parent = _parent_model(cls)
            return _prefixed(parent.frozen_rows_q(), cls.frozen_with)
        if cls.frozen_when is None:
            raise NotImplementedError(f"{cls.__name__} ne dit pas quelles lignes sont figées.")
        return cls.frozen_when

    @classmethod
    def check_frozen_update(cls, queryset: FrozenRowsQuerySet[Any], values: dict[str, Any]) -> None:
        """The model's rule for changes of its `mutable_fields` (none by default)."""

    @classmethod
    def refuse_frozen_parents(cls, parent_ids: Iterable[Any]) -> None:
        """Refuse to add (or move) a row under a frozen parent."""
        parent_ids = {pk for pk in parent_ids if pk is not None}
        if not parent_ids:
            return
        parent = _parent_model(cls)
        if parent._base_manager.filter(parent.frozen_rows_q(), pk__in=parent_ids).exists():
            raise FrozenRowError(cls.change_refused)

    def _stored_row_is_frozen(self) -> bool:
        if self.pk is None:
            return False
        if self.write_once:
            return True
        return type(self)._base_manager.filter(self.frozen_rows_q(), pk=self.pk).exists()


class WriteOnceModel(FrozenRowsModel):
    """A row written once and never changed nor deleted (audit traces, signed acts, awards, documents).

    Subclasses name what is refused in French; `mutable_fields` (and `check_frozen_update`) allow the one status
    change a service may make under its own rules, through `QuerySet.update` (a document's revocation)."""

    write_once = True
    change_refused = "Cet enregistrement ne peut pas être modifié."
    delete_refused = "Cet enregistrement ne peut pas être supprimé."

    class Meta:
        abstract = True


# — The database side (PostgreSQL triggers, declared in the models' Meta) —


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def raise_sql(message: str) -> str:
    """PL/pgSQL that refuses the statement with `message` (the same French text the ORM guard gives)."""
    return (
        f"RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = {_literal(message)}, "
        "CONSTRAINT = TG_NAME, TABLE = TG_TABLE_NAME;"
    )


def _by_operation(*, change: str, delete: str) -> str:
    return f"IF TG_OP = 'DELETE' THEN {raise_sql(delete)} END IF; {raise_sql(change)}"


def write_once_trigger(*, change: str, delete: str) -> pgtrigger.Trigger:
    """Every UPDATE and DELETE refused."""
    return pgtrigger.Trigger(
        name="write_once",
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        func=_by_operation(change=change, delete=delete),
    )


def frozen_rows_trigger(*, condition: str, change: str, delete: str) -> pgtrigger.Trigger:
    """UPDATE and DELETE refused on the rows whose stored state (`OLD`) matches `condition` (SQL)."""
    return pgtrigger.Trigger(
        name="frozen_rows",
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        condition=pgtrigger.Condition(condition),
        func=_by_operation(change=change, delete=delete),
    )


def frozen_parent_trigger(*, column: str, parent_frozen: str, parent_rows: str, lock: str, message: str):
    """INSERT, UPDATE and DELETE refused on a row whose parent is frozen, before and after the change.

    The row's foreign key `column` is `{id}` in `parent_rows` (a FROM … WHERE clause); `parent_frozen` is the SQL
    boolean that says the parent is frozen. The row of table `lock` that holds that state is locked (FOR SHARE): a
    signature being written meanwhile is waited for, then read as committed.
    """

    def parent_is_frozen(row: str) -> str:
        return (
            f"SELECT {parent_frozen} INTO parent_frozen FROM {parent_rows.format(id=f'{row}.{column}')} "
            f"FOR SHARE OF {lock}; IF parent_frozen THEN {raise_sql(message)} END IF;"
        )

    return pgtrigger.Trigger(
        name="frozen_parent",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        declare=[("parent_frozen", "BOOLEAN")],
        func=(
            f"IF TG_OP <> 'INSERT' THEN {parent_is_frozen('OLD')} END IF; "
            f"IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
            f"{parent_is_frozen('NEW')} RETURN NEW;"
        ),
    )


def frozen_error_from(error: Exception) -> FrozenRowError | None:
    """The `FrozenRowError` a guard trigger meant, or None for any other database error."""
    diag = getattr(error.__cause__, "diag", None)
    if diag is None or diag.sqlstate != TRIGGER_SQLSTATE:
        return None
    if not (diag.constraint_name or "").startswith(TRIGGER_PREFIX):
        return None
    return FrozenRowError(diag.message_primary)


def translate_trigger_errors(execute, sql, params, many, context):
    """Connection execute wrapper: a guard trigger's refusal becomes the ORM guards' `FrozenRowError`."""
    try:
        return execute(sql, params, many, context)
    except IntegrityError as error:
        frozen = frozen_error_from(error)
        if frozen is None:
            raise
        raise frozen from error


def install_translation(sender, connection, **kwargs) -> None:
    """`connection_created` receiver (certif.apps): every PostgreSQL connection translates the guards' errors."""
    if connection.vendor == "postgresql" and translate_trigger_errors not in connection.execute_wrappers:
        connection.execute_wrappers.append(translate_trigger_errors)
