"""Colours, pen styles and the application style sheet."""
