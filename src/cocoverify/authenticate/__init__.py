"""authenticate."""
