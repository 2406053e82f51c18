"""What an SMS says and what it costs: the templates, segment counting and the case-link format.

Shared because three services count the same text: the notifier sends it, the dispatcher's
campaign dry run estimates it, and the sandbox bills it like a carrier.
"""
