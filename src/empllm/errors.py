"""Errors a user can act on. The CLI prints their message as one line and exits non-zero."""


class EmpLLMError(Exception):
    """A problem the user can fix: bad input, a missing file, an unusable model."""

    exit_code = 2


class SpecError(EmpLLMError):
    """A model spec string that cannot be parsed or names an unknown backend."""


class BackendUnavailable(EmpLLMError):
    """The backend's extra is not installed or its model cannot be loaded here."""


class CapabilityError(EmpLLMError):
    """The backend cannot do what was asked (e.g. prompt log-likelihoods)."""


class BackendError(EmpLLMError):
    """A call to a model failed. `retryable` marks failures worth another try."""

    exit_code = 3

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.retryable = retryable
        self.status = status  # the HTTP status, when a server answered
        self.detail = detail  # the server's whole error message (the message above keeps its first line)


def first_problem(exc) -> tuple[str, str]:
    """(dotted field path, message) of a pydantic ValidationError's first problem: every place that
    turns a validation error into one line starts from this."""
    err = exc.errors()[0]
    return ".".join(str(part) for part in err["loc"]), err["msg"]


def flag_error(exc) -> EmpLLMError:
    """A config built from command-line flags failed validation: name the flag, as the user typed it."""
    field, message = first_problem(exc)
    return EmpLLMError(f"--{field.split('.')[0].replace('_', '-')}: {message}")
