# The outcomes dashboard's summaries (outcomes.models: DashboardEndpoint, DashboardMeasurePatient), derived
# from the answers. A database without answers has nothing to summarise: the services keep the summaries from
# its first answer on. A database with answers is filled by ``ketaclinic manage outcome_summaries_rebuild``
# (the computation is the application's, which a migration may not import): an unfinished build is recorded
# here, and until the rebuild finishes it the dashboard reads the answers themselves, as before.

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def build_needed_when_answers_exist(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    alias = schema_editor.connection.alias
    if not apps.get_model("outcomes", "QuestionnaireResponse").objects.using(alias).exists():
        return
    apps.get_model("outcomes", "DashboardSummaryBuild").objects.using(alias).create(
        finished_at=None, note="answers recorded before the summaries existed"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_chair'),
        ('outcomes', '0006_questionnaire_due'),
        ('patients', '0003_email_index_mrn_capitals'),
    ]

    operations = [
        migrations.CreateModel(
            name='DashboardSummaryBuild',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('patients', models.PositiveIntegerField(default=0)),
                ('note', models.CharField(blank=True, max_length=120)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='DashboardEndpoint',
            fields=[
                ('response', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='outcomes.questionnaireresponse')),
                ('instrument', models.CharField(max_length=40)),
                ('authored_at', models.DateTimeField()),
                ('indication', models.CharField(blank=True, max_length=30)),
                ('total', models.FloatField(null=True)),
                ('suicidal_ideation', models.BooleanField(null=True)),
                ('baseline_total', models.FloatField(null=True)),
                ('baseline_ideation', models.BooleanField(null=True)),
                ('first_response_days', models.FloatField(help_text='Days from the baseline to the first answer at or below half of it.', null=True)),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.location')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='patients.patient')),
            ],
            options={
                'indexes': [models.Index(fields=['instrument', 'authored_at'], include=('patient', 'location', 'indication', 'total', 'suicidal_ideation', 'baseline_total', 'baseline_ideation', 'first_response_days'), name='dash_endpoint_period'), models.Index(fields=['instrument', 'location', 'authored_at'], name='dash_endpoint_location')],
            },
        ),
        migrations.CreateModel(
            name='DashboardMeasurePatient',
            fields=[
                ('patient', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='patients.patient')),
                ('index_on', models.DateField()),
                ('index_total', models.PositiveSmallIntegerField()),
                ('indication', models.CharField(blank=True, max_length=30)),
                ('six_months_on', models.DateField(null=True)),
                ('six_months_total', models.PositiveSmallIntegerField(null=True)),
                ('twelve_months_on', models.DateField(null=True)),
                ('twelve_months_total', models.PositiveSmallIntegerField(null=True)),
                ('index_location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.location')),
            ],
            options={
                'indexes': [models.Index(fields=['index_on'], include=('index_total', 'index_location', 'indication', 'six_months_on', 'six_months_total', 'twelve_months_on', 'twelve_months_total'), name='dash_measure_period')],
            },
        ),
        migrations.RunPython(build_needed_when_answers_exist, migrations.RunPython.noop),
]
