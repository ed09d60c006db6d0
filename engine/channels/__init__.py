"""The channel policy file (``journeys/channels.yaml``): message classes, frequency caps, quiet
hours and the global control group, for every journey of the program."""
