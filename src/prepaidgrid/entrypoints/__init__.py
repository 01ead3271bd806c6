"""Entry points: the CLI now; the API, portal and workers later. Thin: parse, call, render."""
