"""The shell around the apps: base layout, home page, health check, error pages, admin site."""
