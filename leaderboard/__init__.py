"""Leaderboard: fair rankings with confidence intervals, charts, exports and a read-only API."""
