"""Python loading and the facts shared by every code rule."""
