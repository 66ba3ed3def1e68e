"""Lesson sources, installed with dockdojo so lessons load by name anywhere.

:data:`COURSE` is the course's order, the one place it is said: Docker's getting-started
series, its sections and pages in the order Docker's docs give them (weights).
"""

COURSE = (
    # The basics
    "what-is-a-container",
    "what-is-an-image",
    # Running containers
    "publishing-ports",
    "overriding-container-defaults",
    "persisting-container-data",
    "sharing-local-files",
    "multi-container-applications",
)
"""Lesson names in course order; a lesson source not named here comes after, by name."""
