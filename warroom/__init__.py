"""warroom: a terminal war-room where a team runs a deployment train together."""

__version__ = "0.1.0"
