"""The ``pathscaat`` command line: thin calls into the core, progress bars, exit codes."""
