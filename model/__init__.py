"""rechain model: instance, chain graph, formulation, results."""
