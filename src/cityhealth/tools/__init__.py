"""Small operational helpers run by the Makefile and CI (not Django apps)."""
