"""Issue alert rule nodes (REFERENCE.md §2.2): known ids, their form fields, form cleaning
and the rendered labels Sentry adds as `name`."""

from __future__ import annotations

from typing import Any

from ..config import QuirkSettings

INTERVALS = ["1m", "5m", "15m", "1h", "1d", "1w", "30d"]
MATCHES = ["eq", "ne", "sw", "ew", "co", "nc", "is", "ns"]
FORM_ERROR = "Ensure at least one action is enabled and all required fields are filled in."

# field spec: (kind, required, extra); kinds: int, float, str, choice (values), id (ChoiceField
# holding an integration id: stored as a string)
C, F, A = "condition", "filter", "action"
_FREQ = {"value": ("int", True, None), "interval": ("choice", True, INTERVALS),
         "comparisonType": ("choice", False, ["count", "percent"]),
         "comparisonInterval": ("choice", False, ["5m", "15m", "1h", "1d", "1w", "30d"])}
_ATTRIBUTE = {"attribute": ("str", True, None), "match": ("choice", True, MATCHES),
              "value": ("str", False, None)}
_TAGGED = {"key": ("str", True, None), "match": ("choice", True, MATCHES),
           "value": ("str", False, None)}
_LEVEL = {"match": ("choice", True, ["eq", "gte", "lte"]),
          "level": ("choice", True, ["50", "40", "30", "20", "10", "0"])}
NODES: dict[str, tuple[str, str, dict[str, tuple[Any, ...]]]] = {
    "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition":
        (C, "A new issue is created", {}),
    "sentry.rules.conditions.regression_event.RegressionEventCondition":
        (C, "The issue changes state from resolved to unresolved", {}),
    "sentry.rules.conditions.reappeared_event.ReappearedEventCondition":
        (C, "The issue changes state from archived to escalating", {}),
    "sentry.rules.conditions.high_priority_issue.NewHighPriorityIssueCondition":
        (C, "Sentry marks a new issue as high priority", {}),
    "sentry.rules.conditions.high_priority_issue.ExistingHighPriorityIssueCondition":
        (C, "Sentry marks an existing issue as high priority", {}),
    "sentry.rules.conditions.event_frequency.EventFrequencyCondition":
        (C, "The issue is seen more than {value} times in {interval}", _FREQ),
    "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition":
        (C, "The issue is seen by more than {value} users in {interval}", _FREQ),
    "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition":
        (C, "The issue affects more than {value} percent of sessions in {interval}",
         {"value": ("float", True, None),
          "interval": ("choice", True, ["5m", "10m", "30m", "1h"])}),
    "sentry.rules.filters.age_comparison.AgeComparisonFilter":
        (F, "The issue is {comparison_type} than {value} {time}",
         {"comparison_type": ("choice", True, ["older", "newer"]), "value": ("int", True, None),
          "time": ("choice", True, ["minute", "hour", "day", "week"])}),
    "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter":
        (F, "The issue has happened at least {value} times", {"value": ("int", True, None)}),
    "sentry.rules.filters.assigned_to.AssignedToFilter":
        (F, "The issue is assigned to {targetType}",
         {"targetType": ("choice", True, ["Unassigned", "Team", "Member"]),
          "targetIdentifier": ("str", False, "")}),
    "sentry.rules.filters.latest_release.LatestReleaseFilter":
        (F, "The event is from the latest release", {}),
    "sentry.rules.filters.issue_category.IssueCategoryFilter":
        (F, "The issue's category is equal to {value}",
         {"value": ("choice", True, ["1", "2", "3", "4", "5", "6"])}),
    "sentry.rules.conditions.event_attribute.EventAttributeCondition":
        (F, "The event's {attribute} value {match} {value}", _ATTRIBUTE),
    "sentry.rules.filters.tagged_event.TaggedEventFilter":
        (F, "The event's tags match {key} {match} {value}", _TAGGED),
    "sentry.rules.filters.level.LevelFilter":
        (F, "The event's level is {match} {level}", _LEVEL),
    # Registered by Sentry but outside the common table of REFERENCE §2.2 (S: constants.py
    # `_SENTRY_RULES`); labels are the classes' own `label` attributes.
    "sentry.rules.conditions.every_event.EveryEventCondition":
        (C, "The event occurs", {}),
    "sentry.rules.conditions.tagged_event.TaggedEventCondition":
        (C, "The event's tags match {key} {match} {value}", _TAGGED),
    "sentry.rules.conditions.level.LevelCondition":
        (C, "The event's level is {match} {level}", _LEVEL),
    "sentry.rules.filters.event_attribute.EventAttributeFilter":
        (F, "The event's {attribute} value {match} {value}", _ATTRIBUTE),
    "sentry.rules.filters.latest_adopted_release_filter.LatestAdoptedReleaseFilter":
        (F, ("The {oldest_or_newest} release associated with the event's issue is "
             "{older_or_newer} than the latest adopted release in {environment}"),
         {"oldest_or_newest": ("choice", True, ["oldest", "newest"]),
          "older_or_newer": ("choice", True, ["older", "newer"]),
          "environment": ("str", True, None)}),
    "sentry.mail.actions.NotifyEmailAction":
        (A, "Send a notification to {targetType}",
         {"targetType": ("choice", True, ["IssueOwners", "Team", "Member"]),
          "targetIdentifier": ("str", False, None),
          "fallthroughType": ("choice", False, ["ActiveMembers", "AllMembers", "NoOne"])}),
    "sentry.integrations.slack.notify_action.SlackNotifyServiceAction":
        (A, ("Send a notification to the {workspace} Slack workspace to {channel} "
            "(optionally, an ID: {channel_id}) and show tags {tags} and notes {notes} "
            "in notification"),
         {"workspace": ("id", True, None), "channel": ("str", True, None),
          "channel_id": ("str", False, None), "tags": ("str", False, ""),
          "notes": ("str", False, None)}),
    "sentry.integrations.msteams.notify_action.MsTeamsNotifyServiceAction":
        (A, "Send a notification to the {team} Team to {channel}",
         {"team": ("id", True, None), "channel": ("str", True, None)}),
    "sentry.integrations.discord.notify_action.DiscordNotifyServiceAction":
        (A, ("Send a notification to the {server} Discord server in the channel with ID or "
            "URL: {channel_id} and show tags {tags} in the notification."),
         {"server": ("id", True, None), "channel_id": ("str", True, None),
          "tags": ("str", False, "")}),
    "sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction":
        (A, ("Send a notification to PagerDuty account {account} and service {service} with "
            "{severity} severity"),
         {"account": ("id", True, None), "service": ("id", True, None),
          "severity": ("choice", False, ["default", "critical", "warning", "error", "info"])}),
    "sentry.integrations.opsgenie.notify_action.OpsgenieNotifyTeamAction":
        (A, ("Send a notification to Opsgenie account {account} and team {team} with "
            "{priority} priority"),
         {"account": ("id", True, None), "team": ("str", True, None),
          "priority": ("choice", False, ["P1", "P2", "P3", "P4", "P5"])}),
    "sentry.integrations.jira.notify_action.JiraCreateTicketAction":
        (A, "Create a Jira issue in {integration} with these ",
         {"integration": ("id", True, None)}),
    "sentry.integrations.jira_server.notify_action.JiraServerCreateTicketAction":
        (A, "Create a Jira Server issue in {integration} with these ",
         {"integration": ("id", True, None)}),
    "sentry.integrations.github.notify_action.GitHubCreateTicketAction":
        (A, "Create a GitHub issue in {integration} with these ",
         {"integration": ("id", True, None)}),
    "sentry.integrations.vsts.notify_action.AzureDevopsCreateTicketAction":
        (A, "Create an Azure DevOps work item in {integration} with these ",
         {"integration": ("id", True, None)}),
    "sentry.rules.actions.notify_event_service.NotifyEventServiceAction":
        (A, "Send a notification via {service}", {"service": ("str", True, None)}),
    "sentry.rules.actions.notify_event_sentry_app.NotifyEventSentryAppAction":
        (A, "Send a notification via an integration",
         {"sentryAppInstallationUuid": ("str", True, None)}),
    "sentry.rules.actions.notify_event.NotifyEventAction":
        (A, "Send a notification (for all legacy integrations)", {}),
}
SLACK = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
EMAIL = "sentry.mail.actions.NotifyEmailAction"


def node_type(node_id: str) -> str | None:
    entry = NODES.get(node_id)
    return entry[0] if entry else None


def clean_node(node: dict[str, Any], quirks: QuirkSettings) -> tuple[dict[str, Any], list[str]]:
    """Django form cleaning: coerced values merged back into the node; returns errors."""
    _, _, spec = NODES[node["id"]]
    cleaned = {k: v for k, v in node.items() if k not in ("name",)}
    errors: list[str] = []
    for field, (kind, required, extra) in spec.items():
        value = node.get(field)
        if value is None or value == "":
            if required:
                errors.append(FORM_ERROR)
            elif quirks.fill_defaults and extra is not None and kind == "str":
                cleaned[field] = extra  # form-added key with its default ("")
            elif kind == "choice" and value == "":
                cleaned.pop(field, None)  # empty optional choice dropped
            continue
        try:
            cleaned[field] = _coerce(kind, value, extra, quirks)
        except ValueError as exc:
            errors.append(str(exc))
    return cleaned, errors


def _coerce(kind: str, value: Any, extra: Any, quirks: QuirkSettings) -> Any:
    if isinstance(value, (dict, list)):
        raise ValueError("Enter a valid value.")
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("Enter a whole number.")
        try:
            return int(str(value).strip()) if not isinstance(value, float) else int(value)
        except ValueError:
            raise ValueError("Enter a whole number.") from None
    if kind == "float":
        try:
            return float(value)
        except ValueError:
            raise ValueError("Enter a number.") from None
    if kind == "choice":
        text = str(value)
        if text not in extra:
            raise ValueError(f"Select a valid choice. {value} is not one of the available "
                             "choices.")
        return text if (quirks.string_numbers or isinstance(value, str)) else value
    if kind == "id":
        return str(value).strip() if quirks.string_numbers else value
    text = str(value)
    return text.strip() if quirks.whitespace else text


def label(node: dict[str, Any]) -> str:
    template = NODES[node["id"]][1]
    values = {k: node.get(k, "") for k in NODES[node["id"]][2]}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
