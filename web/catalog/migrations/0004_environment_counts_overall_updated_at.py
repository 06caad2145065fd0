from django.db import migrations, models
from django.utils import timezone


def include_shipped_environments(apps, schema_editor):
    """Shipped environments stay on the overall board; registered ones wait for staff (the field's default)."""
    Environment = apps.get_model("catalog", "Environment")
    Environment.objects.exclude(shipped_values={}).update(counts_overall=True)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0003_environment_shipped_values'),
    ]

    operations = [
        migrations.AddField(
            model_name='environment',
            name='counts_overall',
            field=models.BooleanField(default=False, help_text='Counts on the overall board. Shipped environments do; a registered one only once staff include it, since anyone signed in may register an environment and the overall board ranks configs over all of them.'),
        ),
        migrations.AddField(
            model_name='environment',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, default=timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(include_shipped_environments, migrations.RunPython.noop),
    ]
