// GENERATED CODE! DO NOT MODIFY BY HAND!

import type { InitializeParams } from "./InitializeParams";
import type { MockExperimentalMethodParams } from "./MockExperimentalMethodParams";
import type { RequestId } from "./RequestId";
import type { ServerDiagnosticsParams } from "./ServerDiagnosticsParams";
import type { ThreadLoadedListParams } from "./ThreadLoadedListParams";
import type { ThreadReadParams } from "./ThreadReadParams";
import type { ThreadStartParams } from "./ThreadStartParams";
import type { TurnInterruptParams } from "./TurnInterruptParams";
import type { TurnStartParams } from "./TurnStartParams";

export type ClientRequest = { "method": "initialize", id: RequestId, params: InitializeParams, } | { "method": "thread/start", id: RequestId, params: ThreadStartParams, } | { "method": "thread/read", id: RequestId, params: ThreadReadParams, } | { "method": "thread/loaded/list", id: RequestId, params: ThreadLoadedListParams, } | { "method": "turn/start", id: RequestId, params: TurnStartParams, } | { "method": "turn/interrupt", id: RequestId, params: TurnInterruptParams, } | { "method": "server/diagnostics", id: RequestId, params: ServerDiagnosticsParams, } | { "method": "mock/experimentalMethod", id: RequestId, params: MockExperimentalMethodParams, };
