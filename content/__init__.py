"""Lesson sources, installed with dockdojo so lessons load by name anywhere."""
