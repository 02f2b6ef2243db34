"""Domain errors with stable codes.

Services raise these; the API maps each family to one HTTP status (``core.api_errors``) and the
web views show ``message`` to the user. A service never builds an HTTP response itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every error code the API and the pages can answer — part of the API contract. Each is
    listed with its status and meaning in docs/api.md ("Error codes"); a test keeps the two
    the same. A new code is added here and there, never as a bare string at a raise."""

    ACTIVITY_CLOSED = "activity_closed"
    ACTIVITY_NOT_OPEN = "activity_not_open"
    ADDRESS_INCOMPLETE = "address_incomplete"
    ADDRESS_REQUIRED = "address_required"
    ALLOWANCE_EXCEEDED = "allowance_exceeded"
    ALREADY_ANNOUNCED = "already_announced"
    ALREADY_CHECKED_IN = "already_checked_in"
    ALREADY_DECIDED = "already_decided"
    ALREADY_REFUNDED = "already_refunded"
    ALREADY_REVERSED = "already_reversed"
    ANSWER_REQUIRED = "answer_required"
    BATCH_TOO_LARGE = "batch_too_large"
    BID_TOO_LOW = "bid_too_low"
    CAP_REACHED = "cap_reached"
    CATEGORY_CYCLE = "category_cycle"
    CATEGORY_IN_USE = "category_in_use"
    CAUSE_REQUIRED = "cause_required"
    CODE_POOL_EMPTY = "code_pool_empty"
    CONDITION_TOO_COSTLY = "condition_too_costly"
    CONFLICT = "conflict"
    DECIMALS_LOCKED = "decimals_locked"
    DEPARTMENT_CYCLE = "department_cycle"
    DUPLICATE_EVENT_TYPE = "duplicate_event_type"
    EMPLOYEE_ONLY = "employee_only"
    EMPLOYEE_TOKEN_ONLY = "employee_token_only"
    EMPTY_CAMPAIGN = "empty_campaign"
    EMPTY_FILE = "empty_file"
    ENTRIES_FULL = "entries_full"
    ENTRY_LIMIT_REACHED = "entry_limit_reached"
    ERROR = "error"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_MISMATCH = "file_type_mismatch"
    FORBIDDEN = "forbidden"
    HOLD_SETTLED = "hold_settled"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IMAGE_TOO_LARGE = "image_too_large"
    IMPORT_FILE_GONE = "import_file_gone"
    IMPORT_HAS_ERRORS = "import_has_errors"
    IMPORT_NOT_PREVIEWED = "import_not_previewed"
    INACTIVE_EMPLOYEE = "inactive_employee"
    INCOMPLETE_MAPPING = "incomplete_mapping"
    INSUFFICIENT_BUDGET = "insufficient_budget"
    INSUFFICIENT_POINTS = "insufficient_points"
    INTERNAL_ERROR = "internal_error"
    IM_SEND_FAILED = "im_send_failed"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_APPROVER_ROLE = "invalid_approver_role"
    INVALID_CAPS = "invalid_caps"
    INVALID_CODE = "invalid_code"
    INVALID_CONDITION = "invalid_condition"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_DATETIME = "invalid_datetime"
    INVALID_DAYS = "invalid_days"
    INVALID_EMPLOYEE = "invalid_employee"
    INVALID_EXPIRY = "invalid_expiry"
    INVALID_FORMULA = "invalid_formula"
    INVALID_FULFILMENT = "invalid_fulfilment"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_IMAGE = "invalid_image"
    INVALID_KIND = "invalid_kind"
    INVALID_LIMIT = "invalid_limit"
    INVALID_LIMIT_PERIOD = "invalid_limit_period"
    INVALID_MODE = "invalid_mode"
    INVALID_PERIOD = "invalid_period"
    INVALID_POINTS = "invalid_points"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_ROLE = "invalid_role"
    INVALID_SCHEMA = "invalid_schema"
    INVALID_SCOPE = "invalid_scope"
    INVALID_SECOND_FACTOR_CODE = "invalid_second_factor_code"
    INVALID_SINK = "invalid_sink"
    INVALID_STATUS = "invalid_status"
    INVALID_STOCK = "invalid_stock"
    INVALID_TARGET = "invalid_target"
    INVALID_TRANSITION = "invalid_transition"
    INVALID_URL = "invalid_url"
    INVALID_VALIDITY = "invalid_validity"
    INVALID_VALUE = "invalid_value"
    LEDGER_CONFLICT = "ledger_conflict"
    LIMIT_REACHED = "limit_reached"
    MALFORMED_REQUEST = "malformed_request"
    MANDATORY_NOTIFICATION = "mandatory_notification"
    MESSAGE_REQUIRED = "message_required"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NAME_REQUIRED = "name_required"
    NO_DRAFT = "no_draft"
    NO_ERROR_REPORT = "no_error_report"
    NO_MAKEUP_CARD = "no_makeup_card"
    NOT_A_CAPTURE = "not_a_capture"
    NOT_A_CODE_ITEM = "not_a_code_item"
    NOT_A_HOLD = "not_a_hold"
    NOT_AVAILABLE = "not_available"
    NOT_ELIGIBLE = "not_eligible"
    NOT_FOUND = "not_found"
    NOT_REVERSIBLE = "not_reversible"
    NOT_YOUR_TEAM = "not_your_team"
    NOTHING_TO_IMPORT = "nothing_to_import"
    OUT_OF_RANGE = "out_of_range"
    OUT_OF_STOCK = "out_of_stock"
    PERIOD_NOT_ENDED = "period_not_ended"
    PASSWORD_SIGN_IN_DISABLED = "password_sign_in_disabled"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PRIVATE_ADDRESS = "private_address"
    PRIVILEGED_ACCOUNT = "privileged_account"
    RATE_LIMITED = "rate_limited"
    REASON_REQUIRED = "reason_required"
    RULE_IS_DRAFT = "rule_is_draft"
    SAME_EMPLOYEE = "same_employee"
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    SELF_ADJUSTMENT = "self_adjustment"
    SELF_AWARD = "self_award"
    SELF_DEMOTION = "self_demotion"
    SELF_GIVING = "self_giving"
    SENSITIVE_WORDS = "sensitive_words"
    STOCK_IS_CODES = "stock_is_codes"
    TASK_NOT_RETRYABLE = "task_not_retryable"
    TRACKING_REQUIRED = "tracking_required"
    UNAUTHENTICATED = "unauthenticated"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_ADDRESS = "unknown_address"
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_DEPARTMENT = "unknown_department"
    UNKNOWN_EMPLOYEE = "unknown_employee"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNKNOWN_FIELDS = "unknown_fields"
    UNKNOWN_IMPORT = "unknown_import"
    UNKNOWN_PROVIDER = "unknown_provider"
    UNKNOWN_VALUE = "unknown_value"
    UNLIMITED_STOCK = "unlimited_stock"
    UNREADABLE_DOCUMENT = "unreadable_document"
    UNREADABLE_FILE = "unreadable_file"
    UNSAFE_ARCHIVE = "unsafe_archive"
    UNSUPPORTED_FILE = "unsupported_file"
    USERNAME_TAKEN = "username_taken"
    VALIDATION_ERROR = "validation_error"
    WEAK_PASSWORD = "weak_password"
    WINDOW_CLOSED = "window_closed"
    WRONG_PASSWORD = "wrong_password"


class JifenError(Exception):
    """Base of every error a user can cause. ``code`` is part of the API contract."""

    code: ErrorCode = ErrorCode.ERROR

    def __init__(self, message: str | Any, *, code: ErrorCode | None = None,
                 details: dict | None = None):
        super().__init__(str(message))
        self.message = str(message)
        if code:
            self.code = code
        self.details = details or {}


class ValidationError(JifenError):
    """Input is well-formed but breaks a rule of the business (HTTP 422)."""

    code: ErrorCode = ErrorCode.VALIDATION_ERROR


class NotFound(JifenError):
    """The thing named does not exist, or the caller may not know that it does (HTTP 404)."""

    code: ErrorCode = ErrorCode.NOT_FOUND


class PermissionDenied(JifenError):
    """The caller is known but may not do this (HTTP 403)."""

    code: ErrorCode = ErrorCode.FORBIDDEN


class Conflict(JifenError):
    """The request is valid but the current state forbids it (HTTP 409)."""

    code: ErrorCode = ErrorCode.CONFLICT


class InsufficientPoints(Conflict):
    code: ErrorCode = ErrorCode.INSUFFICIENT_POINTS


class RateLimited(JifenError):
    """Too many attempts; try again later (HTTP 429)."""

    code: ErrorCode = ErrorCode.RATE_LIMITED

    def __init__(self, message: str | Any, *, retry_after: int, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.details.setdefault("retry_after", retry_after)
