from django.contrib.auth.middleware import LoginRequiredMiddleware
from rest_framework.views import APIView


class PageLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page needs a logged-in user, unless marked `login_not_required`.

    API views are left to DRF: partners authenticate with an API key, not a session, and an API
    client wants a 401/403, not a redirect to an HTML login page. DRF denies by default
    (IsAuthenticated in REST_FRAMEWORK settings).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
