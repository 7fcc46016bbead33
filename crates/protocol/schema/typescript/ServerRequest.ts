// GENERATED CODE! DO NOT MODIFY BY HAND!

import type { CommandExecutionRequestApprovalParams } from "./CommandExecutionRequestApprovalParams";
import type { DynamicToolCallParams } from "./DynamicToolCallParams";
import type { FileChangeRequestApprovalParams } from "./FileChangeRequestApprovalParams";
import type { RequestId } from "./RequestId";
import type { ToolRequestUserInputParams } from "./ToolRequestUserInputParams";

export type ServerRequest = { "method": "item/commandExecution/requestApproval", id: RequestId, params: CommandExecutionRequestApprovalParams, } | { "method": "item/fileChange/requestApproval", id: RequestId, params: FileChangeRequestApprovalParams, } | { "method": "item/tool/requestUserInput", id: RequestId, params: ToolRequestUserInputParams, } | { "method": "item/tool/call", id: RequestId, params: DynamicToolCallParams, };
