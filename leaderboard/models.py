"""Precomputed leaderboard rows: pages, exports and the API only ever read these.

Why precompute: a board aggregates thousands of runs and their learning curves; recomputing that per request
would blow the latency budget. :mod:`leaderboard.services` rewrites these rows whenever a run finishes.
"""

from __future__ import annotations

from django.db import models


class LeaderboardEntry(models.Model):
    """One (config, environment) entry: the finished seeds of that config on that environment, aggregated."""

    config = models.ForeignKey("catalog.TrainerConfig", on_delete=models.CASCADE, related_name="lb_entries")
    environment = models.ForeignKey("catalog.Environment", on_delete=models.CASCADE, related_name="lb_entries")
    n_seeds = models.PositiveIntegerField(help_text="Finished (succeeded) runs aggregated here.")
    score_mean = models.FloatField(help_text="Mean over seeds of each run's final evaluation return.")
    ci_low = models.FloatField(help_text="95% percentile-bootstrap interval of score_mean, low end.")
    ci_high = models.FloatField(help_text="95% percentile-bootstrap interval of score_mean, high end.")
    iqm = models.FloatField(help_text="Interquartile mean of all evaluation episodes of all seeds.")
    auc = models.FloatField(
        null=True,
        blank=True,
        help_text="Mean over seeds of the normalised area under "
        "the learning curve at the environment's budget (average return over training).",
    )
    wall_clock_s = models.FloatField(null=True, blank=True, help_text="Mean wall-clock seconds per run.")
    steps_per_s = models.FloatField(null=True, blank=True, help_text="Mean environment steps per second.")
    rank = models.PositiveIntegerField(null=True, blank=True, help_text="None for provisional entries.")
    tied = models.BooleanField(default=False)
    provisional = models.BooleanField(default=False, help_text="Fewer seeds than the environment's min_seeds.")
    final_scores = models.JSONField(default=list, help_text="Each seed's final return, in seed order.")
    seeds = models.JSONField(default=list, help_text="The seeds of the aggregated runs, same order.")
    curve = models.JSONField(default=dict, help_text="Learning curve {steps, mean, low, high} across seeds.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["config", "environment"], name="lb_entry_unique_config_env"),
        ]
        indexes = [models.Index(fields=["environment", "rank", "score_mean"], name="lb_entry_board")]
        ordering = ["environment_id", "rank", "-score_mean"]

    def __str__(self) -> str:
        return f"{self.config_id}@{self.environment_id}: {self.score_mean:.2f}"


class OverallEntry(models.Model):
    """One config across environments: normalised IQM and probability of improvement over the default."""

    config = models.OneToOneField("catalog.TrainerConfig", on_delete=models.CASCADE, related_name="lb_overall")
    iqm = models.FloatField(help_text="IQM of normalised final scores pooled over environments and seeds.")
    ci_low = models.FloatField(help_text="95% stratified bootstrap interval (Agarwal et al. 2021), low end.")
    ci_high = models.FloatField(help_text="95% stratified bootstrap interval, high end.")
    poi = models.FloatField(null=True, blank=True, help_text="P(this config > default config).")
    poi_low = models.FloatField(null=True, blank=True)
    poi_high = models.FloatField(null=True, blank=True)
    poi_n_envs = models.PositiveIntegerField(default=0, help_text="Environments shared with the default.")
    n_envs = models.PositiveIntegerField()
    n_runs = models.PositiveIntegerField()
    rank = models.PositiveIntegerField(null=True, blank=True)
    tied = models.BooleanField(default=False)
    provisional = models.BooleanField(default=False, help_text="Not confirmed on every ranked environment.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["rank", "iqm"], name="lb_overall_board")]
        ordering = ["rank", "-iqm"]

    def __str__(self) -> str:
        return f"{self.config_id}: {self.iqm:.3f}"


class Board(models.Model):
    """A board's precomputed Plotly figures (JSON text, safe to embed in a script tag).

    ``key`` is ``"overall"`` or ``"env-<id>"``; storing the serialised JSON means a page embeds a string
    instead of building and validating figures on every request.
    """

    key = models.CharField(max_length=64, unique=True)
    environment = models.OneToOneField(
        "catalog.Environment", null=True, blank=True, on_delete=models.CASCADE, related_name="lb_board"
    )
    figures = models.JSONField(default=dict, help_text="{name: figure JSON text}.")
    n_entries = models.PositiveIntegerField(default=0)
    # db_default too: a worker still on the previous release inserts boards without this column.
    release = models.CharField(
        max_length=64, blank=True, default="", db_default="",
        help_text="The code release that built the figures (web/release.py).",
    )  # fmt: skip
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
