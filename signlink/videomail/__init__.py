"""Video mail: a customer's recorded message when nobody can answer (pure checks, the PostgreSQL store)."""
