"""The database: every SQL statement, the schema as migrations, and the hash chain."""
