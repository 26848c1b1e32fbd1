"""allauth's sign-in form with the cursor in the e-mail field. A module of its own: allauth's forms import
`accounts.forms.SignupForm` (ACCOUNT_SIGNUP_FORM_CLASS), so `accounts.forms` cannot import them back."""

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm


class LoginForm(AllauthLoginForm):  # type: ignore[misc]  # allauth ships no type hints
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page exists to sign in: typing starts at once.
        self.fields["login"].widget.attrs["autofocus"] = True
