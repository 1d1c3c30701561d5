"""Routes of the widely copied "todo app, phase II" backend, over the same services."""
