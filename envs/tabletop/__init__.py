"""Tabletop manipulation: scene, task definitions, env and scripted experts."""
