"""The room screen's widgets, one per module."""
