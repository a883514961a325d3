"""Headers that every response carries (which browser features pages may use, and what browsers may keep), and the
application's error pages under DEBUG."""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import Resolver404
from django.utils.cache import patch_cache_control
from django.views import defaults

logger = logging.getLogger("django.request")


def permissions_policy(features: dict[str, list[str]]) -> str:
    """`{"camera": []}` → `camera=()`; an origin list such as `["self"]` → `camera=(self)`."""
    return ", ".join(f"{feature}=({' '.join(origins)})" for feature, origins in features.items())


class PermissionsPolicyMiddleware:
    """Refuses the browser features listed in settings.PERMISSIONS_POLICY (camera, microphone, geolocation…)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = permissions_policy(settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class NoStoreMiddleware:
    """Nothing the application computes is kept by a browser or a proxy: `Cache-Control: no-store`.

    Pages, exports and documents name people (candidates, results, the public verification page): one rule for
    all of them is the one nobody forgets. Static files are served above this middleware (WhiteNoise) and stay
    cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response


class ApplicationErrorPagesMiddleware:
    """With DEBUG on, Django answers an unknown address, a bad request or a crash with its technical page (in
    English, showing the code); where settings.APPLICATION_ERROR_PAGES is on too (`make run`: the demo is shown as
    its users see it), the application's French pages (404.html, 400.html, 500.html) answer instead, as in
    production. A crash's traceback still goes to the server's log. With DEBUG off, Django already does this."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def _active() -> bool:
        return settings.DEBUG and settings.APPLICATION_ERROR_PAGES

    def __call__(self, request):
        response = self.get_response(request)
        # No URL matched: the resolver's 404 never reaches process_exception.
        if self._active() and response.status_code == 404 and request.resolver_match is None:
            return defaults.page_not_found(request, Resolver404({"path": request.path_info}))
        return response

    def process_exception(self, request, exception):
        if not self._active() or isinstance(exception, PermissionDenied):
            return None  # 403.html answers a refusal whatever DEBUG says
        if isinstance(exception, Http404):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return defaults.bad_request(request, exception)
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        response = defaults.server_error(request)
        response._has_been_logged = True  # logged above, with its traceback: Django need not log it again
        return response
