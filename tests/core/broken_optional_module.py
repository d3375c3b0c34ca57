"""A module that is there but does not import: a dependency of it is missing (test_sysinfo)."""
import no_such_dependency_vqa  # noqa: F401
