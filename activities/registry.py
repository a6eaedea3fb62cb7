"""Finding the activity methods of an activity class instance for worker registration."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def activity_methods(instance: object) -> list[Callable[..., Any]]:
    """The bound `@activity.defn` methods of `instance`, in definition order."""
    return [
        getattr(instance, name)
        for name, function in inspect.getmembers(type(instance), inspect.isfunction)
        # temporalio marks every @activity.defn function with this attribute.
        if hasattr(function, "__temporal_activity_definition")
    ]
