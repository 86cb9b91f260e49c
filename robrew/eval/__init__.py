"""Evaluation: ground-truth rollouts, reports, videos and learning curves."""
