"""The database seam: the PostgreSQL pool, the schema's migrations, the embedded server (records/ uses it)."""
