"""densehebb: statistical mechanics of dense Hebbian networks (placeholder during the namespace move)."""
