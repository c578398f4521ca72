"""Database backends of the platform (named by ENGINE in settings); no models, no app."""
