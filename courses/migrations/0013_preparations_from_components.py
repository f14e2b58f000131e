"""Every session's components into one preparation, its injections linked to it; P2G's glucose as data;
the roles' permissions on preparations; strengths per agent recomputed (courses.session_services)."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

from clinic.roles import grant, revoke

# DOMAIN.md §2 (Dechow 1999): the shipped P2G is glucose 12.5 % / glycerine 12.5 % / phenol 1.2 %.
SHIPPED_P2G = {"P2G (glucose 12.5% / glycerine 12.5% / phenol 1.2%)": Decimal("12.5")}

MATRIX = {
    "Practitioner": [f"courses.{action}_preparation" for action in ("view", "add", "change")],
    "Clinic admin": ["courses.view_preparation"],
}


def _percent(amount, total, places):
    return (amount / total).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def forwards(apps, schema_editor):
    Product = apps.get_model("courses", "Product")
    Preparation = apps.get_model("courses", "Preparation")
    PreparationComponent = apps.get_model("courses", "PreparationComponent")
    Injection = apps.get_model("courses", "Injection")
    TreatmentSession = apps.get_model("courses", "TreatmentSession")
    for name, glucose in SHIPPED_P2G.items():
        Product.objects.filter(name=name, product_type="p2g").update(glucose_percent=glucose)
    grant(apps, MATRIX)

    # The arithmetic of courses.session_services.preparation_strengths, on the historical rows.
    products = {
        p.pk: (
            p.name,
            p.product_type,
            p.stock_concentration_percent if p.product_type == "dextrose" else p.glucose_percent,
            p.stock_concentration_percent,
        )
        for p in Product.objects.all()
    }
    mixes = defaultdict(list)
    first = {}
    rows = PreparationComponent.objects.order_by("session_id", "pk").values_list(
        "session_id", "lot__product_id", "volume_ml", "voided_at", "created_at", "created_by_id"
    )
    for session_id, product_id, volume, voided_at, created_at, created_by_id in rows.iterator(
        chunk_size=5000
    ):
        first.setdefault(session_id, (created_at, created_by_id))
        if voided_at is None:
            mixes[session_id].append((products[product_id], volume))
    strengths = {}
    for session_id, mix in mixes.items():
        total = sum((volume for _, volume in mix), Decimal("0"))
        if not total:
            continue
        glucose = sum((volume * product[2] for product, volume in mix), Decimal("0"))
        agents = defaultdict(Decimal)
        for product, volume in mix:
            if product[1] == "anaesthetic":
                agents[product[0]] += volume * product[3]
        strengths[session_id] = (
            total.quantize(Decimal("0.01")),
            _percent(glucose, total, "0.01"),
            max((_percent(a, total, "0.001") for a in agents.values()), default=Decimal("0.000")),
        )
    Preparation.objects.bulk_create(
        [
            Preparation(
                session_id=session_id,
                created_at=created_at,
                created_by_id=created_by_id,
                volume_ml=strengths.get(session_id, (None, None))[0],
                final_dextrose_percent=strengths.get(session_id, (None, None))[1],
            )
            for session_id, (created_at, created_by_id) in first.items()
        ],
        batch_size=2000,
    )
    # One preparation per session so far: a join, not a correlated subquery (which the planner, blind to
    # the rows just inserted, may run as one scan per row).
    quote = schema_editor.quote_name
    for model in (PreparationComponent, Injection):
        table, preparations = quote(model._meta.db_table), quote(Preparation._meta.db_table)
        schema_editor.execute(
            f"UPDATE {table} SET preparation_id = {preparations}.id FROM {preparations} "  # noqa: S608
            f"WHERE {preparations}.session_id = {table}.session_id"
        )
    # P2G now counts its glucose, and the anaesthetic % is the strongest single agent's, never a sum.
    changed = []
    sessions = TreatmentSession.objects.filter(pk__in=list(strengths)).only(
        "pk", "final_dextrose_percent", "final_anaesthetic_percent"
    )
    for session in sessions.iterator(chunk_size=5000):
        _, dextrose, anaesthetic = strengths[session.pk]
        if (session.final_dextrose_percent, session.final_anaesthetic_percent) != (dextrose, anaesthetic):
            session.final_dextrose_percent, session.final_anaesthetic_percent = dextrose, anaesthetic
            changed.append(session)
    TreatmentSession.objects.bulk_update(
        changed, ["final_dextrose_percent", "final_anaesthetic_percent"], batch_size=2000
    )


def backwards(apps, schema_editor):
    revoke(apps, MATRIX)
    apps.get_model("courses", "Injection").objects.update(preparation_id=None)
    apps.get_model("courses", "PreparationComponent").objects.update(preparation_id=None)
    apps.get_model("courses", "Preparation").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("courses", "0012_preparations"), ("clinic", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
