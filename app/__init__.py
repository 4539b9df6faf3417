"""The composition root: settings, bootstrap, the server and the `touchbase` command.

It alone knows the store, the core, the platforms and the scheduler, and wires them together.
"""
