"""The consumer and officer web portal: Jinja2 + htmx pages in Hindi and English."""
