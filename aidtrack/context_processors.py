from .roles import is_administrator, role_labels


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_roles": role_labels(user), "user_is_administrator": is_administrator(user)}
