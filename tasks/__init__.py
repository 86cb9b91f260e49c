"""Task specs shipped as package data (one YAML file per task)."""
