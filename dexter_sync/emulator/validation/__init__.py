"""Request validation as Sentry's serializers do it: DRF-style field errors, CamelSnake key
conversion, and one module per resource (metric rules, issue rules, discover, ...)."""
