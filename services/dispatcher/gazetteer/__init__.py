"""Standard addresses a duty desk can find: CSV import, Chinese search-as-you-type, seeding."""
