"""The mobilisation aggregate: one incident and its call-outs, changed only through methods
that return change records; a unit of work turns those records into rows, outbox events and
stream notices in one transaction (see docs/architecture.md, "The mobilisation aggregate")."""
