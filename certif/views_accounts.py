"""A person's own password: changed knowing the old one (throttled like the login), or chosen from a mailed link."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError

from certif.ratelimit import allow
from certif.security import PasswordThrottled, check_password_throttled, lockout_message
from certif.validation import InputRulesFormMixin

# Requests for a reset link per client address and per hour: each one sends a mail.
PASSWORD_RESET_REQUESTS = (5, 3600)


class ThrottledPasswordChangeForm(InputRulesFormMixin, PasswordChangeForm):
    """The old password counts as a login attempt: an unattended session is no way to guess it."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            correct = check_password_throttled(request=self.request, user=self.user, password=old_password)
        except PasswordThrottled as throttled:
            raise ValidationError(lockout_message(throttled.until), code="throttled") from None
        if not correct:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetView(auth_views.PasswordResetView):
    """« Mot de passe oublié » : a link to the address on the account; the page never says whether it exists."""

    def form_valid(self, form):
        limit, window = PASSWORD_RESET_REQUESTS
        if not allow(self.request, scope="password-reset", limit=limit, window=window):
            form.add_error(None, "Trop de demandes depuis cette adresse : réessayez dans une heure.")
            return self.form_invalid(form)
        return super().form_valid(form)
