"""Who may do what: every decision a page, a template or the admin takes about a user, named once, here.

A rule is a `rules` predicate registered as a permission: `user.has_perm("juries.sign_jurysession", session)`,
`{% has_perm "juries.sign_jurysession" user session as may_sign %}` in a template. The role predicates read the
user's roles once per request (`certif.roles.roles_of` caches them on the user); the object predicates read the
object's own related rows, which the pages that check them prefetch, so a check costs no query of its own.

This module is the ground the applications stand on: it imports none of their models. A predicate takes the object
and walks its attributes (`jury_session.members`, `cohort.trainers`).

Django answers True to any `user.has_perm` of an active superuser. A superuser holds the staff role, so that changes
nothing for the staff decisions; but presiding, signing and entering levels are the acts of one person, never a
power of the administration: the views ask them with `may` (the rule alone).

The Django permissions kept in `certif.roles.ROLE_PERMISSIONS` still open the admin and the pages of certif,
candidates and evaluation (`permission_required`); the rules here use different names, so that each name has one
meaning: the rule answers it, whatever the database grants.
"""

import rules

from certif.roles import Role, roles_of

# — Roles (one read of the user's groups per request) —


@rules.predicate
def is_staff(user) -> bool:
    """The « gestionnaire » role (every superuser holds it)."""
    return Role.STAFF in roles_of(user)


@rules.predicate
def is_trainer(user) -> bool:
    return Role.TRAINER in roles_of(user)


@rules.predicate
def is_president(user) -> bool:
    """The « président de jury » role: the account may be linked to a session as its president."""
    return Role.PRESIDENT in roles_of(user)


def _holds(permission: str):
    """A permission staff grant in the database (to an account or a group), as a predicate."""

    @rules.predicate(name=f"holds {permission}")
    def holds(user) -> bool:
        return user.is_authenticated and user.has_perm(permission)

    return holds


# — Objects (their related rows, prefetched by the pages that ask) —


@rules.predicate
def is_session_president(user, jury_session) -> bool:
    """The account linked to this jury session's president."""
    if jury_session is None or not user.is_authenticated:
        return False
    return any(member.is_president and member.user_id == user.pk for member in jury_session.members.all())


@rules.predicate
def is_session_evaluator(user, evaluation_session) -> bool:
    """One of the trainers named to evaluate in this evaluation session."""
    if evaluation_session is None or not user.is_authenticated:
        return False
    return any(evaluator.pk == user.pk for evaluator in evaluation_session.evaluators.all())


@rules.predicate
def is_grid_evaluator(user, block_evaluation) -> bool:
    """An evaluator of the session this block's grid belongs to."""
    return block_evaluation is not None and is_session_evaluator(user, block_evaluation.session)


@rules.predicate
def is_cohort_trainer(user, cohort) -> bool:
    """One of the trainers of this cohort."""
    if cohort is None or not user.is_authenticated:
        return False
    return any(trainer.pk == user.pk for trainer in cohort.trainers.all())


@rules.predicate
def is_candidate_trainer(user, candidate) -> bool:
    """A trainer of one of the cohorts this candidate is (or was) enrolled in."""
    if candidate is None:
        return False
    return any(is_cohort_trainer(user, enrolment.cohort) for enrolment in candidate.enrolments.all())


@rules.predicate
def is_document_president(user, issued_document) -> bool:
    """The president of the jury session that issued this document."""
    return issued_document is not None and is_session_president(user, issued_document.session)


@rules.predicate
def is_technical_account(user, account) -> bool:
    """A superuser, or an account with admin access that staff did not give (no « gestionnaire » role): read
    afresh, since the page may be changing it."""
    return account.is_superuser or (account.is_staff and not account.groups.filter(name=Role.STAFF).exists())


# — The decisions —

reads_all_documents = is_staff | _holds("documents.view_issueddocument")

RULES = {
    # Juries: staff prepare the sessions; the session's president deliberates, signs and rectifies.
    "juries.list_jurysession": is_staff | is_president,
    "juries.prepare_jurysession": is_staff,
    "juries.see_jurysession": is_staff | is_session_president,
    "juries.deliberate_jurysession": is_session_president & _holds("juries.change_decision"),
    "juries.sign_jurysession": is_session_president & _holds("juries.change_decision"),
    "juries.rectify_jurysession": is_session_president & _holds("juries.add_rectification"),
    # Documents: staff issue and revoke; a president reads those of the sessions presided; staff may grant a
    # trainer reading them all (the Django permission « documents.view_issueddocument »).
    "documents.read_all_documents": reads_all_documents,
    "documents.read_documents": reads_all_documents | is_president,
    "documents.read_issueddocument": reads_all_documents | is_document_president,
    "documents.issue_documents": is_staff,
    # Statistics and exports name people and results: staff only.
    "reporting.view_statistics": is_staff,
    # Evaluation: staff read every grid; its session's evaluators read it and enter the levels.
    "evaluation.see_blockevaluation": is_staff | is_grid_evaluator,
    "evaluation.enter_levels": is_grid_evaluator & _holds("evaluation.change_levelentry"),
    "evaluation.reopen_blockevaluation": is_staff & _holds("evaluation.change_blockevaluation"),
    # Candidates: staff manage them; a trainer reads those of their cohorts.
    "candidates.see_candidate": is_staff | is_candidate_trainer,
    "candidates.edit_candidate": is_staff,
    "candidates.read_candidate_history": is_staff,
    "candidates.withdraw_candidate": is_staff,
    # Accounts: staff manage them, except the technical ones, which only a superuser changes (Django's
    # `user.has_perm` lets every superuser through).
    "certif.manage_accounts": is_staff,
    # Installing a fiche from France Compétences' export: staff only.
    "certif.import_fiche": is_staff,
    "certif.change_account": ~is_technical_account,
}

for _name, _predicate in RULES.items():
    rules.add_perm(_name, _predicate)


def may(user, permission: str, obj=None) -> bool:
    """The rule `permission` alone, for `user` on `obj`: no superuser shortcut (see the module's docstring)."""
    return rules.has_perm(permission, user, obj)
