"""The journey language: YAML source -> validated journey -> compiled plan.

The pipeline is visible in the module names: ``source`` (YAML with positions) -> ``schema``
(typed models) -> ``checks`` (graph, expressions, templates) -> ``compiler`` -> ``plan``.
``engine`` is pure: it reads files and does nothing else.
"""

from engine.errors import JourneyError, JourneyValidationError
from engine.loader import compile_file, load_directory
from engine.plan import Plan

__all__ = ["JourneyError", "JourneyValidationError", "Plan", "compile_file", "load_directory"]
