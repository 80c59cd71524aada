"""The baselines of issue 10: the same frames as the app, without its pipeline."""
