"""The customer field of every form that picks a customer: type, then choose (with or without JavaScript).

Without JavaScript it is a search-then-choose step: the user types a name, phone, email or external id
and submits; one exact match is taken, several (or a partial one) come back as a list of radio buttons
to choose from, and nothing outside the user's visibility is ever listed or accepted. With JavaScript
(``static/js/customer-picker.js``) the same text box is a combobox filled from ``customers:customer-choices``
as the user types. The chosen customer reads "Name · phone · external id"; its id only travels in a hidden
input and the radio values, never in the text box.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from customers.selectors import CustomerChoice, customer_choice_get, customer_choices

# How many matches the no-JavaScript step lists (the autocomplete asks for its own number).
CHOOSE_LIMIT = 10


class CustomerPickerWidget(forms.TextInput):
    """A text box, a hidden id (set by a choice) and, when the text was ambiguous, radios to choose from."""

    template_name = "customers/widgets/customer_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.matches: list[CustomerChoice] = []

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, str]:
        return {
            "text": str(data.get(name) or ""),
            "id": str(data.get(f"{name}_id") or ""),
            "pick": str(data.get(f"{name}_pick") or ""),
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}_pick" not in data

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dict):
            return value.get("text") or None
        return super().format_value(value)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        chosen = value.get("id", "") if isinstance(value, dict) else ""
        widget = context["widget"]
        widget["attrs"]["data-customer-picker"] = reverse("customers:customer-choices")
        widget["attrs"]["data-picker-id"] = f"{name}_id"
        widget.update(id_name=f"{name}_id", id_value=chosen, pick_name=f"{name}_pick", matches=self.matches)
        return context


class CustomerChoiceField(forms.Field):
    """A customer the user may see, found by name, phone, email or external id (or chosen from a list).

    Set ``field.user`` before validating (the order forms do it in ``UserFormMixin``).
    """

    widget = CustomerPickerWidget
    default_error_messages = {
        "required": _("Enter a customer's name, phone, email or external id."),
        "no_match": _("No customer you can see matches “%(value)s”."),
        "choose": _("Several customers match “%(value)s”: choose one of them."),
        "confirm": _("Is it this customer? Choose it to confirm."),
        "invalid_choice": _("Choose one of the customers listed."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Customer"))
        kwargs.setdefault("help_text", _("Type a name, phone number, email or external id, then choose."))
        super().__init__(**kwargs)
        self.user: Any = None
        self.chosen: CustomerChoice | None = None
        self._initial_choice: tuple[str, CustomerChoice | None] | None = None

    def _choice_for(self, pk: Any) -> CustomerChoice | None:
        """The choice of an initial value (a pk from the URL or the edited record), checked for visibility."""
        key = str(getattr(pk, "pk", pk) or "")
        if not key:
            return None
        if self._initial_choice is None or self._initial_choice[0] != key:
            self._initial_choice = (key, customer_choice_get(user=self.user, pk=key))
        return self._initial_choice[1]

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            if self.chosen is not None:
                return {"text": self.chosen.label, "id": str(self.chosen.pk)}
            return {"text": value.get("text", ""), "id": ""}
        choice = self._choice_for(value)
        return {"text": choice.label, "id": str(choice.pk)} if choice else {"text": "", "id": ""}

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        return {"text": str(value or ""), "id": "", "pick": ""}

    def validate(self, value: Any) -> None:
        """Emptiness is checked in ``clean`` (the value is a dict of text, id and pick)."""

    def has_changed(self, initial: Any, data: Any) -> bool:
        initial_pk = str(getattr(initial, "pk", initial) or "")
        return self.chosen is None or str(self.chosen.pk) != initial_pk

    def clean(self, value: Any) -> Any:
        data = self.to_python(value)
        self.chosen = None
        self.widget.matches = []
        text = data["text"].strip()
        if data["pick"]:
            self.chosen = customer_choice_get(user=self.user, pk=data["pick"])
            if self.chosen is None:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        elif data["id"] and (choice := customer_choice_get(user=self.user, pk=data["id"])) is not None:
            # The hidden id counts only while the text still shows that customer (no JS: text edited).
            if text in (choice.label, choice.name):
                self.chosen = choice
        if self.chosen is None and not text:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        if self.chosen is None:
            self.chosen = self._find(text)
        return self.chosen.customer

    def _find(self, text: str) -> CustomerChoice:
        if (by_id := customer_choice_get(user=self.user, pk=text)) is not None:
            return by_id
        matches = customer_choices(user=self.user, query=text, limit=CHOOSE_LIMIT)
        exact = [match for match in matches if match.exact]
        if len(exact) == 1:
            return exact[0]
        if not matches:
            raise ValidationError(self.error_messages["no_match"], code="no_match", params={"value": text})
        self.widget.matches = matches
        code = "confirm" if len(matches) == 1 else "choose"
        raise ValidationError(self.error_messages[code], code=code, params={"value": text})
