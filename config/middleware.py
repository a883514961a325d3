"""Headers that every response carries: which browser features pages may use, and what browsers may keep."""

from django.conf import settings
from django.utils.cache import patch_cache_control


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
