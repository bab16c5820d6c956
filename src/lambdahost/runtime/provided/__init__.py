"""Modules the runtime provides to functions, as AWS's managed Python runtimes do: this folder is put at the end
of every environment's ``sys.path`` (a copy bundled in the function's zip takes precedence). Nothing in the
platform imports them under this package name."""
