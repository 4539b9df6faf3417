"""The platform-neutral core of Touchbase: commands, parsing, nudges and workflows."""
