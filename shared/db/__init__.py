"""PostgreSQL access: pools, migrations, the transactional outbox and the inbox."""
