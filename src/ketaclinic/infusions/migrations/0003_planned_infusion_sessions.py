"""A planned slot may have more than one session, but at most one that is not cancelled.

A mistaken check-in that was cancelled no longer uses up the slot. Only the foreign key and a partial unique
constraint change; the append-only and frozen triggers of 0002 are on other tables and stay as they are.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('infusions', '0002_append_only_and_frozen'),
        ('plans', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='infusionsession',
            name='planned_infusion',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='sessions', to='plans.plannedinfusion'),
        ),
        migrations.AddConstraint(
            model_name='infusionsession',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'cancelled'), _negated=True),
                                               fields=('planned_infusion',),
                                               name='session_planned_infusion_one_not_cancelled'),
        ),
    ]
