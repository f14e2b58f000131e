import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Every component belongs to a preparation once 0013 has put the old ones into one per session.
    dependencies = [("courses", "0013_preparations_from_components")]

    operations = [
        migrations.AlterField(
            model_name="preparationcomponent",
            name="preparation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="components",
                to="courses.preparation",
            ),
        ),
    ]
