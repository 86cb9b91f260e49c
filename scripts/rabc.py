"""Thin entry point for ``robrew-rabc``, the main job (see robrew/rabc_main.py); takes hydra overrides."""

from robrew.rabc_main import main

if __name__ == "__main__":
    main()
