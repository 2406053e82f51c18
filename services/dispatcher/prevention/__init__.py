"""以案说防: cases for prevention, made from closed incidents with personal data removed."""
