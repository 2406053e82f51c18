"""Versioned event contracts. One module per topic; `catalogue` lists the topics."""
