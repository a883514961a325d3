from certif.roles import Role, roles_of


def navigation(request):
    roles = roles_of(request.user) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": roles,
        "is_staff_member": Role.STAFF in roles,
        "is_trainer": Role.TRAINER in roles,
        "is_president": Role.PRESIDENT in roles,
        "role_labels": [Role(role).label for role in Role.values if role in roles],
    }
