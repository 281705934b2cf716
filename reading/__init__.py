"""reading package."""
