"""Training: policies with SB3 on robrew envs."""
