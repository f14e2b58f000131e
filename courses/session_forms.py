"""Forms of the session-logging page: the session's own fields and one formset per kind of row."""

from decimal import Decimal
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.forms.models import construct_instance
from django.forms.renderers import Jinja2
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from clinic.choices import Laterality
from clinic.inputs import CheckedFormSet, ClinicDateField, clinic_formfield, record_id
from courses.models import (
    MAX_VOLUME_ML,
    InjectionSite,
    Lot,
    Severity,
    SideEffect,
    SideEffectTerm,
    TreatmentSession,
)
from courses.selectors import patient_reports_waiting
from courses.session_services import SESSION_FIELDS, session_day

BLANK = [("", "---------")]


class SessionFormRenderer(Jinja2):
    """Django's Jinja2 form renderer (Django's own widget templates) and the page's own templates in jinja2/.

    The session page has about sixty widgets, forty labelled field cells and several hundred <option>s (sites,
    lots and terms in every row and in each row template): through Django's template engine they made the page
    nearly three times slower (docs/performance.md, "HTML back in templates"); compiled Jinja2 templates
    render the same markup at a fraction of the cost.
    """

    field_template_name = "courses/_session_field.html"

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": False,
                "DIRS": [settings.BASE_DIR / "jinja2", Path(forms.__file__).parent / "jinja2"],
                "NAME": "sessionforms",
                "OPTIONS": {},
            }
        )


SESSION_RENDERER = SessionFormRenderer()


class CatalogueChoices(BaseChoiceIterator):
    """One choice list of the page, loaded on first use; its options rendered once per chosen value.

    Every row of a formset (and each row template) offers the same sites, lots or terms: the rows share
    this object, so the list is neither copied per form nor turned into option markup per widget.
    """

    def __init__(self, load):
        self._load = load
        self._options = {}

    @cached_property
    def choices(self):
        return self._load()

    def __iter__(self):
        return iter(self.choices)

    def __len__(self):
        return len(self.choices)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    @cached_property
    def groups(self):
        """[(group label or None, [(value as text, label), ...])], as Django's Select groups its options."""
        groups = []
        for value, label in self.choices:
            if isinstance(label, list | tuple):
                groups.append((value, [(str(v), option) for v, option in label]))
            else:
                groups.append((None, [(str(value), label)]))
        return groups

    def options(self, selected, renderer):
        """The <option>s with `selected` (a value as text) chosen: its template runs once per value."""
        if selected not in self._options:
            context = {"groups": self.groups, "selected": selected}
            # The output of an autoescaping template, as Django's widgets mark theirs.
            self._options[selected] = mark_safe(  # noqa: S308
                renderer.render("courses/_catalogue_options.html", context)
            )
        return self._options[selected]


class CatalogueSelect(forms.Select):
    """A select over CatalogueChoices: its options come rendered from the shared list.

    Django's Select builds a dict per option for every widget; this one hands its template the list's
    options, rendered once per request for each chosen value.
    """

    catalogue_template_name = "courses/_catalogue_select.html"

    def render(self, name, value, attrs=None, renderer=None):
        if not isinstance(renderer, SessionFormRenderer) or not isinstance(self.choices, CatalogueChoices):
            return super().render(name, value, attrs, renderer)
        context = forms.Widget.get_context(self, name, value, attrs)
        selected = context["widget"]["value"][0] if context["widget"]["value"] else ""
        context["widget"]["options"] = self.choices.options(selected, renderer)
        return self._render(self.catalogue_template_name, context, renderer)


class SessionCatalogue:
    """Every choice list of the page, shared by all rows of the formsets; each is loaded on first use.

    A save whose rows are valid reads only the lists its rows name (lots and sites for a visit without
    side effects); the page reads each list with one query.
    """

    def __init__(self, session, *, attributable_sessions):
        self.session = session
        self.day = session_day(session)
        # A list, or a callable returning one, so the course's sessions are read only when needed.
        self._attributable = attributable_sessions
        self.lot_choices = CatalogueChoices(
            lambda: BLANK + _grouped(self._usable_lots, lambda lot: lot.product.name, _lot_label)
        )
        regions = dict(InjectionSite._meta.get_field("region").flatchoices)
        categories = dict(SideEffectTerm._meta.get_field("category").flatchoices)
        self.site_choices = CatalogueChoices(
            lambda: BLANK + _grouped(self._sites, lambda s: regions.get(s.region, s.region), _site_label)
        )
        self.term_choices = CatalogueChoices(
            lambda: BLANK + _grouped(self._terms, lambda t: categories.get(t.category, t.category), str)
        )
        self.session_choices = CatalogueChoices(
            lambda: [
                (
                    s.pk,
                    f"Session {s.sequence} – {session_day(s):%d %b %Y}"
                    + (" (this visit)" if s.pk == session.pk else ""),
                )
                for s in self.attributable_sessions
            ]
        )
        self.default_laterality = session.course.laterality
        # How many new preparations the page holds (the preparations formset's rows): set by the view.
        self.new_preparations = 0

    @cached_property
    def _usable_lots(self):
        return list(
            Lot.objects.usable_on(self.day).select_related("product").order_by("product__name", "expiry_date")
        )

    @cached_property
    def _sites(self):
        return list(InjectionSite.objects.filter(active=True))

    @cached_property
    def _terms(self):
        return list(SideEffectTerm.objects.filter(active=True))

    @cached_property
    def attributable_sessions(self):
        sessions = self._attributable
        return list(sessions() if callable(sessions) else sessions)

    @cached_property
    def lots(self):
        return {lot.pk: lot for lot in self._usable_lots}

    @cached_property
    def sites(self):
        return {site.pk: site for site in self._sites}

    @cached_property
    def terms(self):
        return {term.pk: term for term in self._terms}

    @cached_property
    def sessions(self):
        return {s.pk: s for s in self.attributable_sessions}

    @cached_property
    def patient_reports(self):
        """{pk: report} of the reactions the patient reported after this course's earlier treatments that
        wait for the practitioner (courses.selectors.patient_reports_waiting): one query."""
        return {report.pk: report for report in patient_reports_waiting(self.session)}

    @cached_property
    def spine_site_ids(self):
        return [site.pk for site in self._sites if site.needs_spinal_level]

    @cached_property
    def lot_data(self):
        return {str(lot.pk): lot_facts(lot) for lot in self._usable_lots}

    @cached_property
    def saved_preparations(self):
        """{pk: preparation} of the session's standing preparations, in the order they were drawn up."""
        return {preparation.pk: preparation for preparation in self.session.preparations.all()}

    def preparation_choices(self, new_count):
        """The preparations a row can belong to: the saved ones ("s<pk>"), then the new ones of this page
        ("n<index>", the preparations formset's form index), numbered as the page shows them."""
        choices = [
            (f"s{pk}", preparation_title(number, preparation.label))
            for number, (pk, preparation) in enumerate(self.saved_preparations.items(), start=1)
        ]
        first_new = len(choices) + 1
        choices += [(f"n{index}", preparation_title(first_new + index, "")) for index in range(new_count)]
        return choices


def preparation_title(number, label):
    return f"Preparation {number}" + (f" · {label}" if label else "")


def lot_facts(lot):
    """What the page's script needs of a lot to show the strengths as they are typed (the server computes
    them again with courses.session_services.preparation_strengths)."""
    product = lot.product
    return {
        "type": product.product_type,
        "name": product.name,
        "percent": str(product.stock_concentration_percent),
        "glucose": str(product.glucose_content_percent),
    }


def _lot_label(lot):
    opened = f", opened {lot.opened_on:%d %b}" if lot.opened_on else ""
    return f"Lot {lot.lot_number} (exp {lot.expiry_date:%d %b %Y}{opened})"


def _site_label(site):
    return f"{site.name} ⚠ {site.risk_note}" if site.risk_note else site.name


def _grouped(items, group_of, label_of):
    groups = {}
    for item in items:
        groups.setdefault(group_of(item), []).append((item.pk, label_of(item)))
    return list(groups.items())


# Django's input widgets whose template only includes input.html: rendered with input.html directly (the
# session renderer's own, jinja2/django/forms/widgets/input.html), one template context fewer per input.
PLAIN_INPUTS = {
    f"django/forms/widgets/{name}.html" for name in ("text", "number", "date", "hidden", "checkbox", "email")
}
INPUT_TEMPLATE = "django/forms/widgets/input.html"


def _style(fields, *, small):
    size = " form-control-sm" if small else ""
    for field in fields:
        if field.widget.template_name in PLAIN_INPUTS:
            field.widget.template_name = INPUT_TEMPLATE
        if isinstance(field.widget, forms.CheckboxInput):
            field.widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs.setdefault("class", "form-select" + size.replace("control", "select"))
        else:
            field.widget.attrs.setdefault("class", "form-control" + size)


class CatalogueChoiceField(forms.TypedChoiceField):
    """A choice among the rows of a SessionCatalogue list; returns the row itself.

    `rows` is a zero-argument callable giving {pk: row}, so the list is read only when a value is cleaned.
    """

    widget = CatalogueSelect

    def __init__(self, *, rows=None, lookup=None, **kwargs):
        self.rows = rows or dict
        self.lookup = lookup
        super().__init__(**kwargs)

    def valid_value(self, value):
        return True  # membership is decided in clean(), which can say why a row is not offered

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            key = int(value)
        except (TypeError, ValueError):
            raise ValidationError("Select a valid choice.", code="invalid_choice") from None
        rows = self.rows()
        if key in rows:
            return rows[key]
        if self.lookup is not None:
            return self.lookup(key)
        raise ValidationError("Select a valid choice.", code="invalid_choice")


class SessionForm(forms.ModelForm):
    default_renderer = SESSION_RENDERER
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = TreatmentSession
        formfield_callback = clinic_formfield
        fields = SESSION_FIELDS
        widgets = {
            "pain_pre": forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
            "pain_post": forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
            "aftercare_nsaid_avoid_days": forms.NumberInput(attrs={"min": 0, "max": 60}),
            "aftercare_no_ice_days": forms.NumberInput(attrs={"min": 0, "max": 60}),
            "aftercare_activity_restriction_days": forms.NumberInput(attrs={"min": 0, "max": 60}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"pain_pre": "Required to complete the session."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self.fields.values(), small=False)

    def _post_clean(self):
        # ModelForm's own _post_clean, less the CheckConstraint queries (one SELECT per constraint on its
        # fields): the pain constraints mirror the fields' 0–10 validators, which run here, and
        # session_record saves under the database's enforcement of every constraint.
        exclude = self._get_validation_exclusions()
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as error:
            self._update_errors(error)
        try:
            self.instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            self._update_errors(error)
        if self._validate_unique:
            self.validate_unique()

    def clean(self):
        cleaned = super().clean()
        for field in (
            "aftercare_nsaid_avoid_days",
            "aftercare_no_ice_days",
            "aftercare_activity_restriction_days",
        ):
            if (cleaned.get(field) or 0) > 60:
                self.add_error(field, "At most 60 days.")
        return cleaned


class ConfirmationForm(forms.Form):
    """Reasons the practitioner gives to go past a warning; recorded on the session."""

    default_renderer = SESSION_RENDERER

    screening = forms.CharField(
        label="Reason to inject despite the screening", max_length=300, required=False
    )
    spacing = forms.CharField(label="Reason for the spacing", max_length=300, required=False)
    count = forms.CharField(label="Reason for the extra session", max_length=300, required=False)

    def __init__(self, *args, session, **kwargs):
        initial = {
            code: getattr(session, f"{code}_override_reason") for code in ("screening", "spacing", "count")
        }
        super().__init__(*args, initial=initial, prefix="confirm", **kwargs)
        _style(self.fields.values(), small=False)


class RowForm(forms.Form):
    """A new row; saved rows are listed separately and can only be voided with a reason."""

    default_renderer = SESSION_RENDERER

    def __init__(self, *args, catalogue, **kwargs):
        self.catalogue = catalogue
        super().__init__(*args, **kwargs)
        _style(self.fields.values(), small=True)

    def row(self):
        """The cleaned values as the service expects them."""
        return {name: value for name, value in self.cleaned_data.items() if name != "DELETE"}


class PreparationChoiceField(forms.ChoiceField):
    """Which preparation a row belongs to: a saved one of the session ("s<pk>", cleaned to the row) or a new
    one of this save ("n<index>", cleaned to that key); blank when the session has one to choose."""

    def __init__(self, *, saved=dict, **kwargs):
        self.saved = saved
        super().__init__(required=False, **kwargs)

    def valid_value(self, value):
        return True  # decided in clean(), which can say why

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        kind, number = value[:1], value[1:]
        # ASCII digits: "n0" is the page's first new preparation; str.isdigit() alone also takes "²".
        if not (number.isascii() and number.isdigit()) or len(number) > 9 or kind not in ("s", "n"):
            raise ValidationError("Select a valid choice.", code="invalid_choice")
        if kind == "n":
            return value
        found = self.saved().get(int(number))
        if found is None:
            raise ValidationError(
                "This preparation is no longer on the session; reload the page.", code="invalid_choice"
            )
        return found


def _preparation_field(form, catalogue, label):
    field = form.fields["preparation"]
    field.label = label
    field.saved = lambda: catalogue.saved_preparations
    field.choices = catalogue.preparation_choices(catalogue.new_preparations)
    field.initial = field.choices[0][0] if field.choices else ""
    field.widget.attrs["data-role"] = "preparation"


class PreparationForm(RowForm):
    """A new preparation (syringe mix): its components are the component rows that name it."""

    label = forms.CharField(
        label="Label",
        max_length=60,
        required=False,
        help_text="e.g. Intra-articular, Around the joint",
    )

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, catalogue=catalogue, **kwargs)
        self.fields["label"].widget.attrs["data-role"] = "preparation-label"


class ComponentForm(RowForm):
    preparation = PreparationChoiceField(label="Preparation")
    lot = CatalogueChoiceField(label="Product lot")
    volume_ml = forms.DecimalField(
        label="Volume (mL)",
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("200"),
    )

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, catalogue=catalogue, **kwargs)
        _preparation_field(self, catalogue, "Preparation")
        lot = self.fields["lot"]
        lot.rows, lot.lookup, lot.choices = (
            (lambda: catalogue.lots),
            self._unusable_lot,
            catalogue.lot_choices,
        )
        lot.widget.attrs["data-role"] = "lot"
        self.fields["volume_ml"].widget.attrs.update({"data-role": "component-volume", "step": "0.01"})

    def _unusable_lot(self, pk):
        """A lot id that is not offered: say why, so a stale page or a crafted request gets a clear answer."""
        lot = Lot.objects.select_related("product").filter(pk=pk).first()
        if lot is None:
            raise ValidationError("That lot does not exist.", code="invalid_choice")
        reason = lot.unusable_reason(self.catalogue.day) or "its product is withdrawn from use"
        raise ValidationError(f"{lot} cannot be used: {reason}.", code="unusable_lot")


class InjectionForm(RowForm):
    site = CatalogueChoiceField(label="Site")
    laterality = forms.ChoiceField(label="Side", choices=Laterality.choices)
    spinal_level = forms.CharField(label="Spinal level", max_length=20, required=False)
    volume_ml = forms.DecimalField(
        label="Volume (mL)",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_VOLUME_ML,
    )
    needle_gauge = forms.IntegerField(label="Needle (G)", min_value=18, max_value=34, required=False)
    passes = forms.IntegerField(label="Passes", min_value=1, max_value=100, required=False)
    preparation = PreparationChoiceField(label="From")

    def __init__(self, *args, catalogue, **kwargs):
        super().__init__(*args, catalogue=catalogue, **kwargs)
        _preparation_field(self, catalogue, "From preparation")
        site = self.fields["site"]
        site.rows, site.choices = (lambda: catalogue.sites), catalogue.site_choices
        site.widget.attrs["data-role"] = "site"
        # With the course's side as the starting value, an untouched row stays "unchanged" and is skipped.
        self.fields["laterality"].initial = catalogue.default_laterality
        self.fields["spinal_level"].widget.attrs.update(
            {"placeholder": "e.g. L4–L5", "data-role": "spinal-level"}
        )
        self.fields["volume_ml"].widget.attrs.update({"data-role": "injection-volume", "step": "0.1"})

    def clean(self):
        cleaned = super().clean()
        site = cleaned.get("site")
        if site and site.needs_spinal_level and not (cleaned.get("spinal_level") or "").strip():
            self.add_error("spinal_level", "This is a spine site: give the level, e.g. L4–L5.")
        return cleaned


class SideEffectForm(RowForm):
    term = CatalogueChoiceField(label="Side effect")
    attributed_session = CatalogueChoiceField(label="Attributed to")
    onset_date = ClinicDateField(label="Onset", widget=forms.DateInput(attrs={"type": "date"}))
    resolved_date = ClinicDateField(
        label="Resolved", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    severity = forms.TypedChoiceField(label="Grade", choices=Severity.choices, coerce=int)
    serious = forms.BooleanField(label="Serious", required=False)
    serious_criterion = forms.ChoiceField(
        label="Seriousness criterion", choices=BLANK + SideEffect.SeriousCriterion.choices, required=False
    )
    site = CatalogueChoiceField(label="Site", required=False)
    laterality = forms.ChoiceField(label="Side", choices=BLANK + Laterality.choices, required=False)
    action_taken = forms.ChoiceField(label="Action taken", choices=SideEffect.Action.choices)
    outcome = forms.ChoiceField(label="Outcome", choices=SideEffect.Outcome.choices)
    relatedness = forms.ChoiceField(label="Relatedness", choices=SideEffect.Relatedness.choices)
    notes = forms.CharField(label="Notes", required=False, max_length=1000)
    # The patient's check-in report this row confirms, if it came from one.
    patient_report = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, catalogue, default_attribution=None, **kwargs):
        super().__init__(*args, catalogue=catalogue, **kwargs)
        term, attributed, site = self.fields["term"], self.fields["attributed_session"], self.fields["site"]
        term.rows, term.choices = (lambda: catalogue.terms), catalogue.term_choices
        attributed.rows, attributed.choices = (lambda: catalogue.sessions), catalogue.session_choices
        site.rows, site.choices = (lambda: catalogue.sites), catalogue.site_choices
        self.fields["attributed_session"].initial = default_attribution
        self.fields["action_taken"].initial = SideEffect.Action.NONE
        self.fields["outcome"].initial = SideEffect.Outcome.RESOLVED
        self.fields["relatedness"].initial = SideEffect.Relatedness.POSSIBLY
        self.fields["severity"].initial = Severity.MILD

    @property
    def report(self):
        """The waiting patient report this row confirms (for the row's note), or None."""
        value = self["patient_report"].value()
        try:
            return self.catalogue.patient_reports.get(record_id(value))
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned = super().clean()
        onset, resolved = cleaned.get("onset_date"), cleaned.get("resolved_date")
        if onset and resolved and resolved < onset:
            self.add_error("resolved_date", "Resolution cannot be before onset.")
        if cleaned.get("serious") and not cleaned.get("serious_criterion"):
            self.add_error("serious_criterion", "Say which seriousness criterion applies.")
        if not cleaned.get("serious") and cleaned.get("serious_criterion"):
            self.add_error("serious", "Tick 'serious' or clear the criterion.")
        severity = cleaned.get("severity")
        if severity and severity >= Severity.LIFE_THREATENING and not cleaned.get("serious"):
            self.add_error("serious", "Grade 4 and 5 events are serious.")
        if cleaned.get("patient_report") is not None:
            # The report is a hidden field: its error is the row's own, where the practitioner sees it.
            cleaned["patient_report"] = self.catalogue.patient_reports.get(cleaned["patient_report"])
            if cleaned["patient_report"] is None:
                self.add_error(
                    None,
                    "The patient's report this row came from is no longer waiting: someone has confirmed "
                    "or dismissed it. Remove the row, or record the side effect on its own in a new row.",
                )
        return cleaned


PreparationFormSet = formset_factory(
    PreparationForm,
    formset=CheckedFormSet,
    extra=0,
    can_delete=True,
    max_num=10,
    absolute_max=20,
    renderer=SESSION_RENDERER,
)
# No blank row from the server: the page's script starts an empty list with one row made from the row
# template (data-start-row), which the page renders anyway; a blank row rendered here too cost a second
# rendering of every field of the row on every visit page.
ComponentFormSet = formset_factory(
    ComponentForm,
    formset=CheckedFormSet,
    extra=0,
    can_delete=True,
    max_num=30,
    absolute_max=60,
    renderer=SESSION_RENDERER,
)
InjectionFormSet = formset_factory(
    InjectionForm,
    formset=CheckedFormSet,
    extra=0,
    can_delete=True,
    max_num=100,
    absolute_max=150,
    renderer=SESSION_RENDERER,
)
SideEffectFormSet = formset_factory(
    SideEffectForm,
    formset=CheckedFormSet,
    extra=0,
    can_delete=True,
    max_num=30,
    absolute_max=60,
    renderer=SESSION_RENDERER,
)
FORMSETS = (
    ("components", ComponentFormSet),
    ("injections", InjectionFormSet),
    ("side_effects", SideEffectFormSet),
)


class VoidForm(forms.Form):
    """Voiding saved rows: one checkbox and one reason per row, named '<kind>-void-<pk>'."""

    default_renderer = SESSION_RENDERER

    def __init__(self, *args, saved, **kwargs):
        super().__init__(*args, prefix="void", **kwargs)
        self.saved = saved  # {kind: [row, ...]}
        for kind, rows in saved.items():
            for row in rows:
                self.fields[f"{kind}-{row.pk}"] = forms.BooleanField(
                    label="Void",
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
                self.fields[f"{kind}-{row.pk}-reason"] = forms.CharField(
                    label="Reason",
                    required=False,
                    max_length=200,
                    widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
                )

    def clean(self):
        cleaned = super().clean()
        for kind, rows in self.saved.items():
            for row in rows:
                if (
                    cleaned.get(f"{kind}-{row.pk}")
                    and not (cleaned.get(f"{kind}-{row.pk}-reason") or "").strip()
                ):
                    self.add_error(f"{kind}-{row.pk}-reason", "Say why this entry is voided.")
        return cleaned

    def rows(self, kind):
        return [
            {"id": row.pk, "void_reason": self.cleaned_data[f"{kind}-{row.pk}-reason"]}
            for row in self.saved[kind]
            if self.cleaned_data.get(f"{kind}-{row.pk}")
        ]

    def bound(self, kind, row):
        return self[f"{kind}-{row.pk}"], self[f"{kind}-{row.pk}-reason"]
