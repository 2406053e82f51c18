"""以案说防 on the notifier side: campaign SMS, resident subscribers, link tokens, reach."""
