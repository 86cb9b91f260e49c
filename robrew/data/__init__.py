"""Demonstration data: collection, annotations and progress labels."""
