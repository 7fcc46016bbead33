// GENERATED CODE! DO NOT MODIFY BY HAND!

import type { AgentMessageDeltaNotification } from "./AgentMessageDeltaNotification";
import type { CommandExecOutputDeltaNotification } from "./CommandExecOutputDeltaNotification";
import type { CommandExecutionOutputDeltaNotification } from "./CommandExecutionOutputDeltaNotification";
import type { ConfigWarningNotification } from "./ConfigWarningNotification";
import type { ErrorNotification } from "./ErrorNotification";
import type { ItemCompletedNotification } from "./ItemCompletedNotification";
import type { ItemStartedNotification } from "./ItemStartedNotification";
import type { ReasoningSummaryPartAddedNotification } from "./ReasoningSummaryPartAddedNotification";
import type { ReasoningSummaryTextDeltaNotification } from "./ReasoningSummaryTextDeltaNotification";
import type { ReasoningTextDeltaNotification } from "./ReasoningTextDeltaNotification";
import type { ServerRequestResolvedNotification } from "./ServerRequestResolvedNotification";
import type { TerminalInteractionNotification } from "./TerminalInteractionNotification";
import type { ThreadArchivedNotification } from "./ThreadArchivedNotification";
import type { ThreadNameUpdatedNotification } from "./ThreadNameUpdatedNotification";
import type { ThreadRevertedNotification } from "./ThreadRevertedNotification";
import type { ThreadStartedNotification } from "./ThreadStartedNotification";
import type { ThreadStatusChangedNotification } from "./ThreadStatusChangedNotification";
import type { ThreadTokenUsageUpdatedNotification } from "./ThreadTokenUsageUpdatedNotification";
import type { ThreadUnarchivedNotification } from "./ThreadUnarchivedNotification";
import type { TurnCompletedNotification } from "./TurnCompletedNotification";
import type { TurnDiffUpdatedNotification } from "./TurnDiffUpdatedNotification";
import type { TurnPlanUpdatedNotification } from "./TurnPlanUpdatedNotification";
import type { TurnStartedNotification } from "./TurnStartedNotification";

export type ServerNotification = { "method": "error", params: ErrorNotification, } | { "method": "command/exec/outputDelta", params: CommandExecOutputDeltaNotification, } | { "method": "thread/started", params: ThreadStartedNotification, } | { "method": "thread/archived", params: ThreadArchivedNotification, } | { "method": "thread/unarchived", params: ThreadUnarchivedNotification, } | { "method": "thread/reverted", params: ThreadRevertedNotification, } | { "method": "thread/name/updated", params: ThreadNameUpdatedNotification, } | { "method": "thread/status/changed", params: ThreadStatusChangedNotification, } | { "method": "thread/tokenUsage/updated", params: ThreadTokenUsageUpdatedNotification, } | { "method": "turn/started", params: TurnStartedNotification, } | { "method": "turn/completed", params: TurnCompletedNotification, } | { "method": "item/started", params: ItemStartedNotification, } | { "method": "item/completed", params: ItemCompletedNotification, } | { "method": "item/agentMessage/delta", params: AgentMessageDeltaNotification, } | { "method": "item/reasoning/summaryTextDelta", params: ReasoningSummaryTextDeltaNotification, } | { "method": "item/reasoning/summaryPartAdded", params: ReasoningSummaryPartAddedNotification, } | { "method": "item/reasoning/textDelta", params: ReasoningTextDeltaNotification, } | { "method": "configWarning", params: ConfigWarningNotification, } | { "method": "item/commandExecution/outputDelta", params: CommandExecutionOutputDeltaNotification, } | { "method": "item/commandExecution/terminalInteraction", params: TerminalInteractionNotification, } | { "method": "serverRequest/resolved", params: ServerRequestResolvedNotification, } | { "method": "turn/plan/updated", params: TurnPlanUpdatedNotification, } | { "method": "turn/diff/updated", params: TurnDiffUpdatedNotification, };
