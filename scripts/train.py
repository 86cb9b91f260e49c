"""Thin entry point for ``robrew-train`` (see robrew/training/cli.py); takes Hydra overrides."""

from robrew.training.cli import main

if __name__ == "__main__":
    main()
