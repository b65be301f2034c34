"""Confirming a destructive action: one form and one page for every "Delete", "Revoke", "Unbind", "Remove" and
"Sign out everywhere". The check is the server's, so a stray click, a script or a forged POST without the
confirmation changes nothing; the page works without JavaScript and says what will happen, to whom, with Cancel."""

from collections.abc import Mapping, Sequence
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.forms.fields import OtpCodeField

NOT_CONFIRMED = gettext_lazy("Nothing was changed: press the button on this page to confirm.")


class ConfirmationInput(forms.HiddenInput):
    """Always renders the confirmation the page asks for, never what a refused POST sent: the page's button is then
    the confirmation, whatever brought the person to the page."""

    def __init__(self, expected: str) -> None:
        super().__init__()
        self.expected = expected

    def format_value(self, value: Any) -> str:
        return self.expected


class ConfirmForm(forms.Form):
    """`confirm` must name what the action takes away. Where a slip costs most (an AccessKey, which never comes
    back and may still sign a production job's requests) the person types it, as in the console they know; elsewhere
    the confirmation page carries it and its button confirms."""

    confirm = forms.CharField(required=False, max_length=200)

    def __init__(
        self, *args: Any, expected: str, typed_label: StrOrPromise | None = None, needs_otp: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.is_typed = typed_label is not None
        field = self.fields["confirm"]
        if typed_label is None:
            field.widget = ConfirmationInput(expected)
        else:
            field.label = typed_label
            # Shown again in a fixed-width font beside the field: "I" and "l" differ there.
            field.help_text = format_html(_("Exactly as shown: <code>{}</code>"), expected)
            field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "autofocus": True})
        if needs_otp:
            self.fields["otp_code"] = OtpCodeField()
            if self.is_typed:
                self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's own form element: the buttons and Cancel sit together

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("confirm", "") != self.expected:
            if self.is_typed:
                self.add_error("confirm", _("Type %(expected)s exactly to confirm.") % {"expected": self.expected})
            else:
                self.add_error(None, NOT_CONFIRMED)
        return data


def posted(request: HttpRequest) -> QueryDict | None:
    """What a confirmation form is bound to: any POST, even an empty one (a POST asks to act, and is refused
    without the confirmation, saying so); nothing on the GET that shows the page."""
    return request.POST if request.method == "POST" else None


def confirmation_page(
    request: HttpRequest,
    form: ConfirmForm,
    *,
    title: StrOrPromise,
    consequences: Sequence[StrOrPromise],
    submit_label: StrOrPromise,
    cancel_url: str,
    carried: Mapping[str, object] | None = None,
) -> HttpResponse:
    """The page that asks first: what will happen (`consequences`, each a paragraph, empty ones left out; HTML
    through `format_html`), the action's own button, and Cancel back to where the person came from. `carried`: the
    fields that name the target where the URL does not (a project member, a role)."""
    return render(
        request,
        "accounts/confirm.html",
        {
            "form": form,
            "title": title,
            "consequences": [consequence for consequence in consequences if consequence],
            "submit_label": submit_label,
            "cancel_url": cancel_url,
            "carried": dict(carried or {}),
        },
    )
