from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.db.models import Q

from clinic.models import User


class TokenIssueForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use it, e.g. 'Practice management sync'.", label="Token name"
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Acts as",
        help_text="The token has this account's role, and no more; deactivating the account stops it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with_role = Q(groups__isnull=False) | Q(is_superuser=True)
        self.fields["user"].queryset = (
            User.objects.filter(with_role, is_active=True).distinct().order_by("last_name", "first_name")
        )
        self.fields["user"].label_from_instance = lambda u: f"{u} ({u.username})"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("name"), Column("user")))
