"""rechain solvers: solving, CLI."""
