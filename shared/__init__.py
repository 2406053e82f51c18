"""Baiying's common library: settings, logging, events, Kafka, PostgreSQL, outbox, auth, web."""
