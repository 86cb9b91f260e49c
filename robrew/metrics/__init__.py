"""What training and evaluation both measure with, so neither imports the other: episodes
judged by the env's ground truth with success-rate intervals (``rollouts``), reward-model
quality metrics (``reward``), and the over-optimisation watch (``overoptimisation``)."""
