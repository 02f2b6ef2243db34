"""Issue #16 part 4: every console action has an API twin (see test_console_parity)."""
