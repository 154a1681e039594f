"""DRF-like field checks that collect errors into Sentry's 400 body shape."""

from __future__ import annotations

import math
import re
from typing import Any

from ..api import ApiError

REQUIRED = "This field is required."
NULL = "This field may not be null."


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def convert_keys(data: Any, path: str = "") -> Any:
    """CamelSnakeSerializer input: every key to snake_case, recursively; both spellings of
    one key are refused with Sentry's collision error."""
    if isinstance(data, list):
        return [convert_keys(item) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in data.items():
        snake = camel_to_snake(str(key))
        if snake in out:
            camel = snake_to_camel(snake)
            other = origin[snake]
            first, second = (other, key) if other == camel else (key, other)
            raise ApiError(400, {camel: [
                f"{first} collides with {second}, please pass only one value"]})
        out[snake] = convert_keys(value)
        origin[snake] = str(key)
    return out


class Errors:
    """Collects `{field: [messages]}`; `raise_if_any()` answers them as one 400."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}

    def add(self, field: str, message: Any) -> None:
        if isinstance(message, str):
            self.items.setdefault(field, []).append(message)
        else:
            self.items[field] = message

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(400, self.items)


def integer(errors: Errors, field: str, value: Any, *, low: int | None = None,
            high: int | None = None) -> int | None:
    """A DRF IntegerField: ints, integral floats and numeric strings pass."""
    if isinstance(value, bool) or value is None:
        errors.add(field, "A valid integer is required.")
        return None
    try:
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            number = int(value)
        else:
            number = int(str(value).strip())
    except (ValueError, OverflowError):
        errors.add(field, "A valid integer is required.")
        return None
    if low is not None and number < low:
        errors.add(field, f"Ensure this value is greater than or equal to {low}.")
        return None
    if high is not None and number > high:
        errors.add(field, f"Ensure this value is less than or equal to {high}.")
        return None
    return number


def number(errors: Errors, field: str, value: Any) -> float | None:
    """A DRF FloatField."""
    if isinstance(value, bool) or value is None:
        errors.add(field, "A valid number is required.")
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        errors.add(field, "A valid number is required.")
        return None
    if math.isnan(result) or math.isinf(result):
        errors.add(field, "A valid number is required.")
        return None
    return result


def string(errors: Errors, field: str, value: Any, *, max_length: int | None = None,
           allow_blank: bool = False) -> str | None:
    """A DRF CharField (numbers are accepted and turned into strings, like DRF)."""
    if value is None:
        errors.add(field, NULL)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.add(field, "Not a valid string.")
        return None
    text = str(value).strip()
    if not text and not allow_blank:
        errors.add(field, "This field may not be blank.")
        return None
    if max_length is not None and len(text) > max_length:
        errors.add(field, f"Ensure this field has no more than {max_length} characters.")
        return None
    return text


def choice(errors: Errors, field: str, value: Any, choices: list[Any]) -> Any:
    if value not in choices or isinstance(value, bool):
        errors.add(field, f'"{value}" is not a valid choice.')
        return None
    return value

