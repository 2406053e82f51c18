"""Pure notifier logic: templates, segment counting, reply keywords, pacing. No I/O."""
