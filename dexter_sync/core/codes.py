"""Every stable error code dexter prints, in one place.

Each user-facing error ends with its code in brackets (`... [stale-plan]`); scripts match on
it, so a code is never renamed. A new error picks an existing code when one fits; a new
code is added here (tests/test_cli_exit_codes.py checks that every code the source uses is
a member).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # command line
    USAGE = "usage"                                  # unknown option, bad value, missing argument
    INTERNAL_ERROR = "internal-error"                # a bug: the traceback is behind --debug
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    CONFIRMATION_REQUIRED = "confirmation-required"
    MISSING_ORGANIZATION = "missing-organization"
    MISSING_TOKEN = "missing-token"
    BAD_SENTRY_URL = "bad-sentry-url"
    MISSING_SENTRY_URL = "missing-sentry-url"        # no URL and no embedded Sentry (outside the CLI)
    WRITE_FAILED = "write-failed"
    STALE_SCHEMA = "stale-schema"
    EXPORT_TARGET = "export-target"                  # --out holds files export did not write
    EXPORT_PATH = "export-path"                      # a file name would leave --out
    EXPORT_PARTIAL = "export-partial"                # export left objects out (listed on stderr)
    EMULATOR_DB = "emulator-db"
    INIT_TARGET = "init-target"                      # `dexter init` would overwrite a file
    EMULATOR_OPEN_BIND = "emulator-open-bind"        # non-loopback --host without a token
    INVALID_SETTING = "invalid-setting"              # a DEXTER_* environment setting

    # manifests (file:line diagnostics)
    INVALID_MANIFEST = "invalid-manifest"            # the summary of one or more diagnostics
    INVALID_YAML = "invalid-yaml"
    YAML_TOO_DEEP = "yaml-too-deep"
    ALIAS_BOMB = "alias-bomb"
    DUPLICATE_KEY = "duplicate-key"
    TAB_INDENTATION = "tab-indentation"
    UNSUPPORTED_TAG = "unsupported-tag"
    INVALID_MERGE = "invalid-merge"
    INVALID_KEY = "invalid-key"
    NOT_UTF8 = "not-utf8"
    FILE_TOO_LARGE = "file-too-large"
    UNREADABLE_FILE = "unreadable-file"
    INVALID_FILE = "invalid-file"
    NO_SETTINGS = "no-settings"
    RESOURCE_FILE = "resource-file"                  # a resource file given as the manifest path
    INVALID_SETTINGS = "invalid-settings"
    INVALID_INCLUDE = "invalid-include"
    INCLUDE_LOOP = "include-loop"
    INCLUDE_NO_MATCH = "include-no-match"
    INVALID_SECTION = "invalid-section"
    UNKNOWN_SECTION = "unknown-section"
    INVALID_ENTRY = "invalid-entry"
    MISSING_TYPE = "missing-type"
    UNKNOWN_TYPE = "unknown-type"
    MISSING_FIELD = "missing-field"
    UNKNOWN_FIELD = "unknown-field"
    INVALID_VALUE = "invalid-value"
    NOT_SUPPORTED_YET = "not-supported-yet"
    TEMPLATE_SYNTAX = "template-syntax"
    TEMPLATE_ERROR = "template-error"
    TEMPLATE_UNSAFE = "template-unsafe"
    TEMPLATE_UNDEFINED = "template-undefined"
    TEMPLATE_LIMIT = "template-limit"                # output size, integer size, loop work

    # plans and the live organization
    UNKNOWN_REFERENCE = "unknown-reference"          # a name the organization does not have
    UNKNOWN_PROJECT = "unknown-project"
    UNKNOWN_KIND = "unknown-kind"
    UNKNOWN_TARGET = "unknown-target"
    UNKNOWN_ORGANIZATION = "unknown-organization"
    MISSING_INTEGRATION = "missing-integration"
    UNREADABLE_LIVE = "unreadable-live"
    UNREADABLE_LIVE_OBJECT = "unreadable-live-object"
    DUPLICATE_KIND = "duplicate-kind"
    KIND_CYCLE = "kind-cycle"
    STALE_PLAN = "stale-plan"
    UNSAFE_PLAN = "unsafe-plan"
    CORRUPT_PLAN = "corrupt-plan"
    PLAN_VERSION = "plan-version"
    PLAN_ORGANIZATION = "plan-organization"
    NOT_UPDATABLE = "not-updatable"
    NOT_DELETABLE = "not-deletable"
    MISSING_LIVE_ID = "missing-live-id"
    TASK_FAILED = "task-failed"
    TASK_PENDING = "task-pending"
    EARLIER_TASK_PENDING = "earlier-task-pending"    # create held: an earlier run's task may make it
    PENDING_TASKS_FILE = "pending-tasks-file"        # .dexter/pending-tasks.json unusable
    TWO_ALERTING_MODELS = "two-alerting-models"      # one rule in a legacy and a new kind
    MIGRATION_TARGET = "migration-target"            # migrate would overwrite a file
    MIGRATION_BLOCKED = "migration-blocked"          # a cut-over step cannot start safely

    # talking to Sentry
    SENTRY_ERROR = "sentry-error"
    SENTRY_HTTP_ERROR = "sentry-http-error"
    SENTRY_BAD_REQUEST = "sentry-bad-request"
    SENTRY_UNAUTHORIZED = "sentry-unauthorized"
    SENTRY_FORBIDDEN = "sentry-forbidden"
    SENTRY_NOT_FOUND = "sentry-not-found"
    SENTRY_LISTING_NOT_FOUND = "sentry-listing-not-found"  # one directory listing answered 404
    SENTRY_CONFLICT = "sentry-conflict"
    SENTRY_ENDPOINT_RETIRED = "sentry-endpoint-retired"
    SENTRY_RATE_LIMITED = "sentry-rate-limited"
    RATE_LIMITED = "rate-limited"                    # a rate-limit wait longer than the cap
    SENTRY_SERVER_ERROR = "sentry-server-error"
    CONNECTION_FAILED = "connection-failed"          # refused, not resolved, timed out, cut
    SENTRY_PAGINATION = "sentry-pagination"
    SENTRY_UNEXPECTED_ANSWER = "sentry-unexpected-answer"  # HTML, a redirect, wrong JSON type
    SENTRY_RESPONSE_TOO_LARGE = "sentry-response-too-large"
    CIRCUIT_OPEN = "circuit-open"

    # the watch daemon
    UNKNOWN_EVENT_TYPE = "unknown-event-type"        # --events / ?types= names no event type
    BAD_DURATION = "bad-duration"                    # --interval
    BAD_ADDRESS = "bad-address"                      # --serve
    SERVE_FAILED = "serve-failed"                    # the --serve address could not be bound

    # queries, releases, alert history
    UNKNOWN_QUERY = "unknown-query"                  # `dexter query NAME`: no such query
    REJECTED_QUERY = "rejected-query"                # validate --online: Sentry refuses it
    UNKNOWN_ALERT = "unknown-alert"                  # `dexter inspect alert NAME`

    # the GitHub Action (`dexter action`, action.yml)
    ACTION_INPUT = "action-input"                    # a workflow input or token missing or invalid
    ACTION_ENVIRONMENT = "action-environment"        # not run as a step (no GITHUB_OUTPUT, ...)
    ACTION_REPORT = "action-report"                  # dexter apply ended without its JSON report
    MISSING_PLAN_FILE = "missing-plan-file"          # apply was given a plan file that is not there
    GITHUB_API = "github-api"                        # GitHub's REST API refused or answered out of shape
