"""Local filters."""
METHODS = ()
