"""MJCF scenes and generated textures shipped as package data."""
