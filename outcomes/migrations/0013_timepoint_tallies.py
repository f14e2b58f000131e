"""The responder tallies added up per instrument, timepoint and practitioner (TimepointTally), and the index
of the windows still open without a value, so the unfiltered dashboard reads a few hundred rows after a write.

The tallies are derived data: the summaries are rebuilt here (outcomes.summary.course_outcomes_rebuild, with
the current models), after the last migration of every app, so they are computed from rows in their final
shape.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rebuild(apps, schema_editor):
    # As 0012: only a database that already has courses has anything to add up.
    if not apps.get_model("courses", "TreatmentCourse").objects.exists():
        return
    from outcomes.summary import course_outcomes_rebuild

    course_outcomes_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("outcomes", "0012_summaries_after_preparations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # The rebuild reads every app's rows with the current models: it runs after their last migrations.
        ("api", "0002_role_permissions"),
        ("clinic", "0005_outbound_message_permissions"),
        ("courses", "0015_patient_side_effect_reports"),
        ("patients", "0007_constraint_sentences"),
        ("questionnaires", "0007_schedule_existing_courses"),
        ("scheduling", "0005_constraint_sentences"),
    ]

    operations = [
        migrations.CreateModel(
            name="TimepointTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("completed", models.BooleanField()),
                ("sessions_received", models.IntegerField()),
                ("treated", models.IntegerField(default=0)),
                ("scored", models.IntegerField(default=0)),
                ("unscheduled", models.IntegerField(default=0)),
                ("mcid", models.IntegerField(default=0)),
                ("half_evaluable", models.IntegerField(default=0)),
                ("half", models.IntegerField(default=0)),
                ("improvement_sum", models.DecimalField(decimal_places=1, default=0, max_digits=12)),
                ("improvement_sq", models.DecimalField(decimal_places=2, default=0, max_digits=14)),
                (
                    "instrument",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="courses.outcomeinstrument",
                    ),
                ),
                (
                    "practitioner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "timepoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="courses.protocoltimepoint",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("instrument", "timepoint", "practitioner", "completed", "sessions_received"),
                        name="timepoint_tally_unique",
                        violation_error_message="These responder tallies are already counted for this instrument, timepoint and practitioner.",
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="coursetimepoint",
            index=models.Index(
                condition=models.Q(("value__isnull", True)),
                fields=["instrument", "closes_on"],
                include=("timepoint", "practitioner"),
                name="course_timepoint_open_idx",
            ),
        ),
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
