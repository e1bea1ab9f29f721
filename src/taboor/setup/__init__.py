"""Setup as code: the company file (design.md §4), its validation and its application."""
