"""The one exception type the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """A problem the user can fix (bad input, missing weights, unwritable output).

    The message must be one line that says what is wrong and what to do about it.
    """
