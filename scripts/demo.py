"""Thin entry point for ``robrew-demo`` (see robrew/demo.py); takes hydra overrides."""

from robrew.demo import main

if __name__ == "__main__":
    main()
