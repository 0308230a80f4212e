"""Talking to the API: one `Api` method per call over a client whose one `request()` applies
headers, deadline, retries and the rate limiter and turns every failure into a typed error.
Knows nothing of the command line, the config file or the terminal."""
